"""A ticket asked for while the database is down is kept in the local spool and written once it is back: nothing
lost, nothing opened twice (the request key makes opening idempotent)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from casework.db import session_scope
from casework.enums import TicketCategory
from casework.models import Ticket
from casework.outbox import SpooledTicket, drain, open_ticket_durably, request_key
from casework.spool import Spool
from casework.tickets import TicketReceipt, tickets_for_sender

SENDER = "web:resident-outbox"
# Nothing listens on the discard port: the driver fails at once, as with a database that is down.
DOWN = "postgresql+psycopg://postgres@127.0.0.1:9/hotline"


def _ask(spool: Spool, database_url: str, message_id: str = "m-1") -> TicketReceipt | SpooledTicket:
    return open_ticket_durably(
        spool, category=TicketCategory.HUMAN_AGENT, transcript=["居民：转人工", "助手：好的"], channel="web",
        sender_id=SENDER, resident_id=None, request_key=request_key(SENDER, message_id), database_url=database_url,
    )


def _tickets(database_url: str) -> int:
    with session_scope(database_url) as session:
        return session.scalar(select(func.count()).select_from(Ticket)) or 0


def test_the_same_request_key_opens_one_ticket(database_url: str, tmp_path: Path) -> None:
    spool = Spool(tmp_path / "actions.sqlite")
    before = _tickets(database_url)
    first, again = _ask(spool, database_url), _ask(spool, database_url)
    assert isinstance(first, TicketReceipt) and isinstance(again, TicketReceipt)
    assert first.number == again.number
    assert _tickets(database_url) == before + 1
    other = _ask(spool, database_url, message_id="m-2")  # another message: another ticket
    assert isinstance(other, TicketReceipt) and other.number != first.number


def test_with_the_database_down_the_ticket_is_spooled_then_written_once(database_url: str,
                                                                        tmp_path: Path) -> None:
    spool = Spool(tmp_path / "actions.sqlite")
    before = _tickets(database_url)
    spooled = _ask(spool, DOWN)
    assert isinstance(spooled, SpooledTicket) and len(spooled.reference) == 8
    assert _ask(spool, DOWN) == spooled and len(spool) == 1  # the turn retried: still one entry
    assert drain(spool, DOWN) == 0 and len(spool) == 1  # still down: kept, attempt counted
    assert spool.entries()[0].attempts == 1

    assert drain(spool, database_url) == 1 and len(spool) == 0  # back: written
    assert _tickets(database_url) == before + 1
    with session_scope(database_url) as session:
        [view] = tickets_for_sender(session, SENDER)
    assert view.category == TicketCategory.HUMAN_AGENT
    # The entry applied again (a crash between the commit and the spool's delete) gives the same ticket.
    again = _ask(spool, database_url)
    assert isinstance(again, TicketReceipt) and again.number == view.number
    assert _tickets(database_url) == before + 1


def test_the_spool_file_is_private(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool" / "gateway.sqlite")
    spool.put("feedback", "k1", {"sender_id": "web:x"})
    spool.put("feedback", "k1", {"sender_id": "web:x"})
    assert len(spool) == 1
    assert (spool.path.stat().st_mode & 0o077) == 0


def test_draining_stops_at_the_first_failure_and_keeps_the_order(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.sqlite")
    for key in ("a", "b", "c"):
        spool.put("x", key, {"key": key})
    applied: list[str] = []

    def apply(kind: str, payload: dict) -> None:
        if payload["key"] == "b" and not applied[1:]:
            applied.append("b-failed")
            raise RuntimeError("database down")
        applied.append(payload["key"])

    assert spool.drain(apply) == 1  # a written, b failed, c waits behind it
    assert [e.key for e in spool.entries()] == ["b", "c"]
    assert spool.drain(apply) == 2 and len(spool) == 0
    assert applied == ["a", "b-failed", "b", "c"]
