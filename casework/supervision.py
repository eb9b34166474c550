"""督办 (supervision): open tickets past their time limit are put under supervision, once each."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.column_types import utc_now
from casework.enums import TicketStatus
from casework.lifecycle import OPEN_STATUSES, transition
from casework.models import Ticket


def supervise_overdue(
    session: Session, *, now: datetime | None = None, actor: str = "system:超时督办"
) -> list[str]:
    """Put every open ticket past its time limit under supervision (督办) once; returns their numbers."""
    now = now or utc_now()
    overdue = session.scalars(
        select(Ticket)
        .where(Ticket.status.in_(OPEN_STATUSES), Ticket.due_at < now, Ticket.supervised.is_(False))
        .order_by(Ticket.due_at)
    ).all()
    for ticket in overdue:
        transition(ticket, TicketStatus.SUPERVISED, actor, "超过办理时限，自动督办", now=now)
    return [t.number for t in overdue]
