"""Identity checks that hold per person (issue 9, finding 4): failures are counted per ID number, conversation
and client IP in the database, so neither `/restart` nor a new session nor another IP starts the count afresh,
and trying many different ID numbers is limited too."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.column_types import utc_now
from casework.models import IdentityAttempt
from casework.seed import DEMO_RESIDENTS, demo_resident
from casework.verification import attempt_limits, lockout, verify_identity

EMPLOYEE = demo_resident("employee")


def _guess(session: Session, sender: str, client: str | None, last4: str, id_number: str = EMPLOYEE.id_number,
           name: str = EMPLOYEE.name) -> None:
    assert verify_identity(session, name, id_number, last4, sender_id=sender, client=client) is None
    session.flush()


def test_five_wrong_guesses_at_one_id_number_lock_it_for_everybody(session: Session) -> None:
    # Five conversations from five IPs, one guess each: the person is what is protected.
    for n in range(5):
        assert lockout(session, sender_id=f"web:s{n}", client=f"ip{n}", id_number=EMPLOYEE.id_number) is None
        _guess(session, f"web:s{n}", f"ip{n}", f"99{n:02d}")
    lock = lockout(session, sender_id="web:fresh", client="ip-fresh", id_number=EMPLOYEE.id_number)
    assert lock is not None and lock.scope == "target"
    assert timedelta(hours=23) < lock.until - utc_now() <= timedelta(hours=24)
    assert "后再试" in lock.message and "转人工" in lock.message and "该证件号码" in lock.message
    # The right answer is not even asked about while locked: the caller checks lockout() first.
    other = DEMO_RESIDENTS[1]
    assert lockout(session, sender_id="web:fresh", client="ip-fresh", id_number=other.id_number) is None


def test_a_conversation_is_locked_after_three_failures_whatever_it_restarts(session: Session) -> None:
    for last4 in ("9991", "9992", "9993"):
        _guess(session, "web:one-browser", "ip-a", last4)
    # /restart keeps the sender id; the lock is read from the database, not from conversation slots.
    lock = lockout(session, sender_id="web:one-browser", client="ip-a")
    assert lock is not None and lock.scope == "sender" and "当前对话" in lock.message


def test_new_sessions_from_one_ip_are_locked_after_ten_failures(session: Session) -> None:
    residents = [demo for demo in DEMO_RESIDENTS]
    for n in range(10):  # new session for every guess, spread over people so no ID number locks first
        demo = residents[n % len(residents)]
        _guess(session, f"web:new-session-{n}", "ip-b", "0000" if demo.phone[-4:] != "0000" else "1111",
               id_number=demo.id_number, name=demo.name)
    lock = lockout(session, sender_id="web:yet-another-session", client="ip-b")
    assert lock is not None and lock.scope == "client"
    assert lockout(session, sender_id="web:yet-another-session", client="ip-c") is None


def test_trying_three_different_id_numbers_in_one_conversation_is_enumeration(session: Session) -> None:
    for demo in DEMO_RESIDENTS[:3]:
        _guess(session, "web:enumerator", None, "0000" if demo.phone[-4:] != "0000" else "1111",
               id_number=demo.id_number, name=demo.name)
    # Three failures would lock the conversation anyway within the hour; the distinct-ID limit holds for 24 h.
    lock = lockout(session, sender_id="web:enumerator", now=utc_now() + timedelta(hours=2))
    assert lock is not None and lock.scope == "sender"


def test_failures_age_out_of_the_window(session: Session) -> None:
    for last4 in ("9991", "9992", "9993"):
        _guess(session, "web:patient", None, last4)
    assert lockout(session, sender_id="web:patient") is not None
    later = utc_now() + timedelta(hours=1, minutes=1)
    lock = lockout(session, sender_id="web:patient", now=later)
    assert lock is None or lock.scope != "sender" or lock.until > later  # only the 24-hour limits can remain
    assert lockout(session, sender_id="web:patient", id_number=EMPLOYEE.id_number, now=later) is None


def test_attempts_keep_no_identifier_in_the_clear(session: Session) -> None:
    _guess(session, "web:AbCdEf", "client-hash", "9999")
    verify_identity(session, EMPLOYEE.name, EMPLOYEE.id_number, EMPLOYEE.phone[-4:], sender_id="web:AbCdEf")
    session.flush()
    rows = session.scalars(select(IdentityAttempt).order_by(IdentityAttempt.id)).all()
    assert [row.succeeded for row in rows] == [False, True]
    for row in rows:
        assert EMPLOYEE.id_number not in row.target and "AbCdEf" not in row.sender
        assert row.sender.startswith("web:h") and row.target.startswith("h")


def test_the_limits_are_stated_once() -> None:
    scopes = {(limit.scope, limit.distinct_targets) for limit in attempt_limits()}
    assert scopes == {("target", False), ("sender", False), ("client", False), ("sender", True), ("client", True)}
