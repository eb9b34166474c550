"""Hotline agents and supervisors: accounts, argon2 passwords, lockout after repeated failures, desk sessions.

Only an argon2id hash of each password is stored (argon2-cffi, its default parameters), and only the SHA-256
of each session token: a copy of the database logs no one in. After `max_failures` wrong passwords in a row an
account is locked for `lockout`; an unknown username costs the same hashing time as a known one, so timing
does not tell which usernames exist.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.column_types import utc_now
from casework.enums import AgentRole
from casework.models import Agent, AgentSession

MIN_PASSWORD_CHARS = 10
WRONG_CREDENTIALS = "用户名或密码错误。/ Wrong username or password."
LOCKED = (
    "登录失败次数过多，账号已暂时锁定，请 {minutes} 分钟后再试或联系主管。/ Too many failed logins: locked."
)

_hasher = PasswordHasher()


@dataclass(frozen=True)
class AgentIdentity:
    """Who is logged in: what the gateway needs, without the ORM row (or the password hash)."""

    id: int
    username: str
    display_name: str
    role: AgentRole

    @property
    def is_supervisor(self) -> bool:
        return self.role is AgentRole.SUPERVISOR

    @property
    def actor(self) -> str:
        """How history lines, notes and replies name this agent: `agent:wang`."""
        return f"agent:{self.username}"


@dataclass(frozen=True)
class LoginResult:
    agent: AgentIdentity | None
    refusal: str | None = None  # the message to show when `agent` is None
    locked: bool = False


class WeakPassword(ValueError):
    """A password too short to set; the message is for the operator."""


def create_agent(
    session: Session, *, username: str, display_name: str, role: AgentRole | str, password: str
) -> Agent:
    agent = Agent(
        username=username.strip(),
        display_name=display_name.strip(),
        role=AgentRole(role),
        password_hash=_hash(password),
        active=True,
        failed_logins=0,
    )
    session.add(agent)
    session.flush()
    return agent


def set_password(agent: Agent, password: str) -> None:
    agent.password_hash = _hash(password)
    agent.failed_logins, agent.locked_until = 0, None


def find_agent(session: Session, username: str) -> Agent | None:
    return session.scalars(select(Agent).where(Agent.username == username.strip())).first()


def list_agents(session: Session) -> list[AgentIdentity]:
    agents = session.scalars(select(Agent).where(Agent.active.is_(True)).order_by(Agent.id)).all()
    return [identity(agent) for agent in agents]


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    max_failures: int = 5,
    lockout: timedelta = timedelta(minutes=15),
    now: datetime | None = None,
) -> LoginResult:
    """Check a login. Failures are counted on the account row: the caller commits even when refused."""
    now = now or utc_now()
    agent = find_agent(session, username)
    if agent is None or not agent.active:
        _verify(_dummy_hash(), password)  # same cost as a real check
        return LoginResult(None, WRONG_CREDENTIALS)
    if agent.locked_until is not None and agent.locked_until > now:
        return LoginResult(None, LOCKED.format(minutes=_minutes_left(agent.locked_until, now)), locked=True)
    if not _verify(agent.password_hash, password):
        agent.failed_logins += 1
        if agent.failed_logins >= max_failures:
            agent.failed_logins, agent.locked_until = 0, now + lockout
            return LoginResult(
                None, LOCKED.format(minutes=_minutes_left(agent.locked_until, now)), locked=True
            )
        return LoginResult(None, WRONG_CREDENTIALS)
    agent.failed_logins, agent.locked_until, agent.last_login_at = 0, None, now
    if _hasher.check_needs_rehash(agent.password_hash):
        agent.password_hash = _hash(password)
    return LoginResult(identity(agent))


def open_session(
    session: Session, agent_id: int, *, lifetime: timedelta, now: datetime | None = None
) -> tuple[str, datetime]:
    """A new random session token for the agent and its expiry; only the token's hash is stored."""
    now = now or utc_now()
    token = secrets.token_urlsafe(32)
    expires_at = now + lifetime
    session.add(
        AgentSession(token_hash=_token_hash(token), agent_id=agent_id, created_at=now, expires_at=expires_at)
    )
    session.flush()
    return token, expires_at


def agent_for_token(session: Session, token: str, *, now: datetime | None = None) -> AgentIdentity | None:
    """The agent a live (unexpired, not revoked) session token belongs to, if any."""
    if not token or len(token) > 200:
        return None
    row = session.execute(
        select(Agent)
        .join(AgentSession, AgentSession.agent_id == Agent.id)
        .where(
            AgentSession.token_hash == _token_hash(token),
            AgentSession.revoked_at.is_(None),
            AgentSession.expires_at > (now or utc_now()),
            Agent.active.is_(True),
        )
    ).scalar_one_or_none()
    return identity(row) if row is not None else None


def revoke_session(session: Session, token: str, *, now: datetime | None = None) -> None:
    row = session.scalars(select(AgentSession).where(AgentSession.token_hash == _token_hash(token))).first()
    if row is not None and row.revoked_at is None:
        row.revoked_at = now or utc_now()


def identity(agent: Agent) -> AgentIdentity:
    return AgentIdentity(agent.id, agent.username, agent.display_name, AgentRole(agent.role))


def _hash(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise WeakPassword(f"密码至少需要 {MIN_PASSWORD_CHARS} 个字符。")
    return _hasher.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _minutes_left(until: datetime, now: datetime) -> int:
    return max(1, int((until - now).total_seconds() + 59) // 60)
