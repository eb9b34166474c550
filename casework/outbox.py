"""Opening a ticket that survives the database being down, and is never opened twice.

    outcome = open_ticket_durably(spool, category=…, transcript=…, channel=…, sender_id=…, resident_id=…,
                                  request_key=request_key(sender_id, message_id))
    if isinstance(outcome, SpooledTicket): …  # told "registered, the number follows"; written once the database is back

A ticket is keyed by its request key — the hash of the sender and the message that asked for it — kept unique in
`tickets.request_key`: asking again with the same key (a turn the gateway retried on another Rasa server, a spooled
ticket written twice) gives the receipt of the one ticket. While the database cannot be reached, the request goes
to the process's local spool (casework/spool.py) with the time it was asked, so its due time is counted from then;
`drain(spool)` writes it once the database is back (the action server runs it in a loop: `drain_forever`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from casework.column_types import utc_now
from casework.enums import TicketCategory
from casework.spool import Spool
from casework.tickets import TicketReceipt
from hotline.settings import Settings, get_settings

log = logging.getLogger(__name__)
TICKET = "ticket"


def request_key(sender_id: str, message_id: str) -> str:
    return hashlib.sha256(f"ticket:{sender_id}:{message_id}".encode()).hexdigest()


def ticket_spool(settings: Settings | None = None) -> Spool:
    """The action server's spool of tickets waiting for the database."""
    return Spool((settings or get_settings()).spool_dir / "actions.sqlite")


@dataclass(frozen=True)
class SpooledTicket:
    """A ticket kept on local disk until the database is back; `reference` is what the resident is told."""

    reference: str
    category: TicketCategory


def open_ticket_durably(spool: Spool, *, category: TicketCategory, transcript: list[str], channel: str,
                        sender_id: str, resident_id: int | None, request_key: str,
                        database_url: str | None = None) -> TicketReceipt | SpooledTicket:
    payload = {"category": str(category), "transcript": transcript, "channel": channel, "sender_id": sender_id,
               "resident_id": resident_id, "request_key": request_key, "asked_at": utc_now().isoformat()}
    try:
        return _write(payload, database_url)
    except SQLAlchemyError as error:
        spool.put(TICKET, request_key, payload)
        log.warning("database unavailable (%s): ticket %s kept in the local spool", type(error).__name__,
                    request_key[:8])
        return SpooledTicket(reference=request_key[:8].upper(), category=category)


def _write(payload: dict[str, Any], database_url: str | None = None) -> TicketReceipt:
    from casework.db import session_scope
    from casework.tickets import open_ticket
    from casework.verification import load_verified

    with session_scope(database_url) as session:
        resident_id = payload["resident_id"]
        return open_ticket(
            session,
            category=payload["category"],
            transcript=payload["transcript"],
            channel=payload["channel"],
            sender_id=payload["sender_id"],
            resident=load_verified(session, int(resident_id)) if resident_id is not None else None,
            now=datetime.fromisoformat(payload["asked_at"]),
            request_key=payload["request_key"],
        )


def drain(spool: Spool, database_url: str | None = None) -> int:
    """Write every spooled ticket (oldest first) while the database takes them; returns how many were written."""

    def apply(kind: str, payload: dict[str, Any]) -> None:
        if kind != TICKET:
            raise ValueError(f"unknown spool entry kind {kind!r}")
        receipt = _write(payload, database_url)
        log.info("spooled ticket %s written as %s", payload["request_key"][:8].upper(), receipt.number)

    return spool.drain(apply)


async def drain_forever(spool: Spool, interval: float, database_url: str | None = None) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            if len(spool):
                await asyncio.to_thread(drain, spool, database_url)
        except Exception as error:  # noqa: BLE001 - a broken spool file must not end the loop
            log.warning("ticket spool round failed: %r", error)
