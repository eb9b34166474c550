"""Desk accounts: argon2 hashes, lockout after repeated failures, expiring and revocable session tokens."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.agents import (
    WeakPassword,
    agent_for_token,
    authenticate,
    create_agent,
    find_agent,
    open_session,
    revoke_session,
)
from casework.column_types import CHINA_TZ
from casework.enums import AgentRole
from casework.models import AgentSession

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=CHINA_TZ)
PASSWORD = "correct horse battery"


@pytest.fixture
def wang(session: Session):
    return create_agent(session, username="wang", display_name="王芳", role=AgentRole.AGENT, password=PASSWORD)


def test_only_an_argon2id_hash_of_the_password_is_stored(wang) -> None:
    assert wang.password_hash.startswith("$argon2id$") and PASSWORD not in wang.password_hash


def test_a_short_password_is_refused(session: Session) -> None:
    with pytest.raises(WeakPassword, match="至少需要 10 个字符"):
        create_agent(session, username="x", display_name="X", role="坐席", password="short")


def test_the_right_password_logs_in_and_resets_the_failure_count(session: Session, wang) -> None:
    assert authenticate(session, "wang", "wrong password", now=NOW).agent is None
    result = authenticate(session, "wang", PASSWORD, now=NOW)
    assert result.agent.username == "wang" and result.agent.role is AgentRole.AGENT
    assert wang.failed_logins == 0 and wang.last_login_at == NOW


def test_an_unknown_user_gets_the_same_answer_as_a_wrong_password(session: Session, wang) -> None:
    unknown = authenticate(session, "nobody", PASSWORD, now=NOW)
    wrong = authenticate(session, "wang", "not the password", now=NOW)
    assert unknown.agent is None and unknown.refusal == wrong.refusal and "用户名或密码错误" in unknown.refusal


def test_five_failures_lock_the_account_even_for_the_right_password(session: Session, wang) -> None:
    results = [authenticate(session, "wang", f"guess number {i}", now=NOW) for i in range(5)]
    assert [r.locked for r in results] == [False, False, False, False, True]
    still_locked = authenticate(session, "wang", PASSWORD, now=NOW + timedelta(minutes=14))
    assert still_locked.agent is None and still_locked.locked and "锁定" in still_locked.refusal
    assert authenticate(session, "wang", PASSWORD, now=NOW + timedelta(minutes=16)).agent is not None


def test_a_session_token_expires_and_can_be_revoked(session: Session, wang) -> None:
    token, expires_at = open_session(session, wang.id, lifetime=timedelta(hours=8), now=NOW)
    assert expires_at == NOW + timedelta(hours=8)
    assert agent_for_token(session, token, now=NOW + timedelta(hours=1)).username == "wang"
    assert agent_for_token(session, token, now=NOW + timedelta(hours=9)) is None
    assert agent_for_token(session, token + "x", now=NOW) is None
    stored = session.scalars(select(AgentSession)).one()
    assert token not in stored.token_hash
    revoke_session(session, token, now=NOW)
    assert agent_for_token(session, token, now=NOW + timedelta(minutes=1)) is None


def test_a_deactivated_agent_cannot_log_in_or_use_a_session(session: Session, wang) -> None:
    token, _ = open_session(session, wang.id, lifetime=timedelta(hours=8), now=NOW)
    find_agent(session, "wang").active = False
    session.flush()
    assert authenticate(session, "wang", PASSWORD, now=NOW).agent is None
    assert agent_for_token(session, token, now=NOW) is None
