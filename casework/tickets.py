"""Work orders (工单): opening them from a conversation and looking them up; the public face of ticket work.

The parts live in small modules, re-exported here because both processes call them through this one name:
`casework.calendar` (working time), `casework.time_limits` (limits per category, from YAML),
`casework.lifecycle` (the 12393 states and `transition`), `casework.supervision` (督办),
`casework.ratings` (the resident's rating), `casework.replies` (agents' messages to the resident's chat).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.calendar import WorkingCalendar, default_calendar
from casework.column_types import CHINA_TZ, utc_now
from casework.enums import Rating, TicketCategory, TicketStatus
from casework.lifecycle import LEGAL_TRANSITIONS, IllegalTransition, allowed_next, transition
from casework.models import Resident, Ticket, TicketEvent, TicketSequence
from casework.ratings import rate_ticket
from casework.replies import AgentMessage, add_agent_message, claim_undelivered, messages_for_sender
from casework.supervision import supervise_overdue
from casework.time_limits import TimeLimitRules, default_time_limits
from casework.verification import VerifiedResident
from hotline.privacy import mask_text

__all__ = [
    "LEGAL_TRANSITIONS",
    "AgentMessage",
    "IllegalTransition",
    "TicketReceipt",
    "TicketView",
    "add_agent_message",
    "allowed_next",
    "claim_undelivered",
    "find_ticket",
    "messages_for_sender",
    "open_ticket",
    "rate_ticket",
    "supervise_overdue",
    "ticket_progress",
    "transition",
]

TICKET_PREFIX = "12393"

# --- opening tickets ---------------------------------------------------------------------


@dataclass(frozen=True)
class TicketReceipt:
    number: str
    due_at: datetime  # aware UTC
    time_limit_text: str  # "5个工作日内答复您投诉的处理结果"
    category: TicketCategory | None = None

    @property
    def due_text(self) -> str:
        """`11月24日 11:00前` in China time, for telling the resident."""
        local = self.due_at.astimezone(CHINA_TZ)
        return f"{local.month}月{local.day}日 {local:%H:%M}前"


def open_ticket(
    session: Session,
    *,
    category: TicketCategory | str,
    transcript: str | Sequence[str],
    channel: str,
    sender_id: str,
    resident: VerifiedResident | None = None,
    summary: str | None = None,
    now: datetime | None = None,
    calendar: WorkingCalendar | None = None,
    limits: TimeLimitRules | None = None,
) -> TicketReceipt:
    """Register a ticket at 受理 with a numbered receipt; personal data in the text is masked before storing.

    `transcript` is the conversation so far (one string, or one line per turn). `channel` and `sender_id`
    are kept so an agent's reply can be delivered back to the same chat.
    """
    kind = TicketCategory(category)
    now = now or utc_now()
    limit = (limits or default_time_limits())[kind]
    text = transcript if isinstance(transcript, str) else "\n".join(transcript)
    # Names cannot be recognised in free text in general, but the verified resident's own name can.
    known_names = _resident_names(session, resident)
    ticket = Ticket(
        number=_next_ticket_number(session, now),
        category=kind,
        status=TicketStatus.RECEIVED,
        channel=channel,
        sender_id=sender_id,
        resident_id=resident.resident_id if resident else None,
        resident_masked=resident.masked_subject if resident else None,
        summary=mask_text(summary, known_names)[:500] if summary else None,
        transcript=mask_text(text, known_names),
        created_at=now,
        due_at=limit.due_at(now, calendar or default_calendar()),
        supervised=False,
    )
    ticket.events.append(
        TicketEvent(
            from_status=None,
            to_status=TicketStatus.RECEIVED,
            actor=mask_text(f"{channel}:{sender_id}"),
            note=f"智能助手自动受理（{kind}）",
            occurred_at=now,
        )
    )
    session.add(ticket)
    session.flush()
    return TicketReceipt(ticket.number, ticket.due_at, limit.text, kind)


def _next_ticket_number(session: Session, now: datetime) -> str:
    day = now.astimezone(CHINA_TZ).strftime("%Y%m%d")
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - only the two supported backends
        raise NotImplementedError(f"ticket numbering supports sqlite and postgresql, not {dialect}")
    # One atomic upsert: the row lock serialises concurrent tickets, so no two get the same number.
    statement = (
        insert(TicketSequence)
        .values(day=day, last_value=1)
        .on_conflict_do_update(
            index_elements=[TicketSequence.day], set_={"last_value": TicketSequence.last_value + 1}
        )
        .returning(TicketSequence.last_value)
    )
    sequence = session.execute(statement).scalar_one()
    return f"{TICKET_PREFIX}-{day}-{sequence:04d}"


def _resident_names(session: Session, resident: VerifiedResident | None) -> tuple[str, ...]:
    if resident is None:
        return ()
    row = session.get(Resident, resident.resident_id)
    return (row.name,) if row is not None else ()


# --- looking tickets up ------------------------------------------------------------------


@dataclass(frozen=True)
class TicketView:
    number: str
    category: TicketCategory
    status: TicketStatus
    created_at: datetime
    due_at: datetime
    supervised: bool
    rating: Rating | None
    events: tuple[tuple[datetime, TicketStatus | None, TicketStatus, str], ...] = field(default=())


def find_ticket(session: Session, number: str) -> Ticket | None:
    return session.scalars(select(Ticket).where(Ticket.number == number.strip())).first()


def ticket_progress(session: Session, number: str, *, channel: str, sender_id: str) -> TicketView | None:
    """A ticket's progress for the resident who opened it; None for unknown numbers and for other people's."""
    ticket = find_ticket(session, number)
    if ticket is None or (ticket.channel, ticket.sender_id) != (channel, sender_id):
        return None
    return TicketView(
        ticket.number,
        ticket.category,
        ticket.status,
        ticket.created_at,
        ticket.due_at,
        ticket.supervised,
        ticket.rating,
        tuple((e.occurred_at, e.from_status, e.to_status, e.note) for e in ticket.events),
    )


