"""Work orders (工单): opening them from a conversation and looking them up; the public face of ticket work.

The parts live in small modules, re-exported here because both processes call them through this one name:
`casework.calendar` (working time), `casework.time_limits` (limits per category, from YAML),
`casework.lifecycle` (the 12393 states and `transition`), `casework.supervision` (督办),
`casework.ratings` (the resident's rating), `casework.callbacks` (回访 tasks), `casework.replies` (messages to
the resident's chat), `casework.senders` (how sender ids are kept). The agent desk's side is in
`casework.queue` (views), `casework.handling` (claim, reply, merge …), `casework.sla` and `casework.agents`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.calendar import WorkingCalendar, default_calendar
from casework.column_types import CHINA_TZ, utc_now
from casework.enums import Rating, TicketCategory, TicketStatus
from casework.lifecycle import (
    LEGAL_TRANSITIONS,
    OPEN_STATUSES,
    RATEABLE_STATUSES,
    IllegalTransition,
    allowed_next,
    open_callback,
    transition,
)
from casework.models import Resident, Ticket, TicketEvent, TicketSequence
from casework.ratings import rate_ticket
from casework.replies import AgentMessage, add_agent_message, claim_undelivered, messages_for_sender
from casework.senders import reply_address, stored_sender
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
    "due_text",
    "find_own_ticket",
    "find_ticket",
    "latest_rateable_ticket",
    "messages_for_sender",
    "open_ticket",
    "rate_ticket",
    "supervise_overdue",
    "ticket_progress",
    "tickets_for_sender",
    "transition",
]

TICKET_PREFIX = "12393"
# A second question the documents do not cover, from the same chat within this window, is added to the open
# 无法回答 ticket instead of opening another: one resident's unanswered questions (or junk) are one piece of work.
UNANSWERED_MERGE_WINDOW = timedelta(minutes=30)

# --- opening tickets ---------------------------------------------------------------------


@dataclass(frozen=True)
class TicketReceipt:
    number: str
    due_at: datetime  # aware UTC
    time_limit_text: str  # "5个工作日内答复您投诉的处理结果"
    category: TicketCategory | None = None
    appended: bool = False  # True: the conversation was added to the sender's open ticket of that number

    @property
    def due_text(self) -> str:
        return due_text(self.due_at)


def due_text(moment: datetime) -> str:
    """`11月24日 11:00前` in China time, for telling the resident."""
    local = moment.astimezone(CHINA_TZ)
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
    request_key: str | None = None,
) -> TicketReceipt:
    """Register a ticket at 受理 with a numbered receipt; personal data in the text is masked before storing.

    `transcript` is the conversation so far (one string, or one line per turn). `channel` and `sender_id`
    are kept so an agent's reply can be delivered back to the same chat. With a `request_key` (casework.outbox)
    a second call with the same key returns the first call's ticket instead of opening another.
    """
    kind = TicketCategory(category)
    now = now or utc_now()
    limit = (limits or default_time_limits())[kind]
    if request_key is not None:
        existing = session.scalars(select(Ticket).where(Ticket.request_key == request_key)).first()
        if existing is not None:
            existing_limit = (limits or default_time_limits())[TicketCategory(existing.category)]
            return TicketReceipt(existing.number, existing.due_at, existing_limit.text,
                                 TicketCategory(existing.category))
    text = transcript if isinstance(transcript, str) else "\n".join(transcript)
    # Names cannot be recognised in free text in general, but the verified resident's own name can.
    known_names = _resident_names(session, resident)
    if kind is TicketCategory.UNANSWERED:
        recent = _recent_unanswered(session, sender_id, now)
        if recent is not None:
            _append_transcript(recent, mask_text(text, known_names))
            return TicketReceipt(recent.number, recent.due_at, limit.text, kind, appended=True)
    ticket = Ticket(
        number=_next_ticket_number(session, now),
        category=kind,
        status=TicketStatus.RECEIVED,
        channel=channel,
        sender_id=stored_sender(sender_id),
        reply_to=reply_address(sender_id),
        resident_id=resident.resident_id if resident else None,
        resident_masked=resident.masked_subject if resident else None,
        summary=mask_text(summary, known_names)[:500] if summary else None,
        transcript=mask_text(text, known_names),
        created_at=now,
        due_at=limit.due_at(now, calendar or default_calendar()),
        supervised=False,
        request_key=request_key,
    )
    ticket.events.append(
        TicketEvent(
            from_status=None,
            to_status=TicketStatus.RECEIVED,
            actor=mask_text(f"{channel}:{stored_sender(sender_id)}"),
            note=f"智能助手自动受理（{kind}）",
            occurred_at=now,
        )
    )
    session.add(ticket)
    session.flush()
    return TicketReceipt(ticket.number, ticket.due_at, limit.text, kind)


def _recent_unanswered(session: Session, sender_id: str, now: datetime) -> Ticket | None:
    return session.scalars(
        select(Ticket)
        .where(
            Ticket.sender_id == stored_sender(sender_id),
            Ticket.category == TicketCategory.UNANSWERED,
            Ticket.status.in_(OPEN_STATUSES),
            Ticket.created_at >= now - UNANSWERED_MERGE_WINDOW,
        )
        .order_by(Ticket.id.desc())
    ).first()


def _append_transcript(ticket: Ticket, transcript: str) -> None:
    """Add what the conversation said since the ticket was opened (the whole transcript if it is another one)."""
    added = transcript.removeprefix(ticket.transcript) if transcript.startswith(ticket.transcript) else transcript
    if added.strip():
        ticket.transcript = f"{ticket.transcript}\n——（同一居民随后补充）——\n{added.strip()}"


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
    """A ticket as its resident may see it: no transcript, no agents' notes."""

    number: str
    category: TicketCategory
    status: TicketStatus
    created_at: datetime
    due_at: datetime
    supervised: bool
    rating: Rating | None
    events: tuple[tuple[datetime, TicketStatus | None, TicketStatus, str], ...] = field(default=())
    merged_into: str | None = None
    callback_due: datetime | None = None  # an open 回访 task

    @property
    def rateable(self) -> bool:
        return self.status in RATEABLE_STATUSES and self.merged_into is None


def find_ticket(session: Session, number: str) -> Ticket | None:
    return session.scalars(select(Ticket).where(Ticket.number == number.strip())).first()


def find_own_ticket(session: Session, number: str, *, sender_id: str) -> Ticket | None:
    """The ticket if `sender_id`'s chat opened it; None for unknown numbers and for other people's.

    Sender ids are namespaced (`web:…`, `wechat:…`) and issued by the gateway, so the id alone identifies the
    resident's chat.
    """
    ticket = find_ticket(session, number)
    if ticket is None or ticket.sender_id != stored_sender(sender_id):
        return None
    return ticket


def ticket_progress(session: Session, number: str, *, sender_id: str) -> TicketView | None:
    """A ticket's progress for the resident who opened it; None for unknown numbers and for other people's."""
    ticket = find_own_ticket(session, number, sender_id=sender_id)
    return _view(ticket) if ticket is not None else None


def tickets_for_sender(session: Session, sender_id: str, *, limit: int = 3) -> list[TicketView]:
    """The resident's most recent tickets, newest first."""
    tickets = session.scalars(
        select(Ticket)
        .where(Ticket.sender_id == stored_sender(sender_id))
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(limit)
    ).all()
    return [_view(ticket) for ticket in tickets]


def latest_rateable_ticket(session: Session, sender_id: str) -> Ticket | None:
    """The resident's most recently answered ticket still waiting for a rating (for "满意" in the chat)."""
    return session.scalars(
        select(Ticket)
        .where(
            Ticket.sender_id == stored_sender(sender_id),
            Ticket.status.in_(RATEABLE_STATUSES),
            Ticket.merged_into_id.is_(None),
            Ticket.rating.is_(None),
        )
        .order_by(Ticket.answered_at.desc(), Ticket.id.desc())
    ).first()


def _view(ticket: Ticket) -> TicketView:
    task = open_callback(ticket)
    return TicketView(
        ticket.number,
        TicketCategory(ticket.category),
        TicketStatus(ticket.status),
        ticket.created_at,
        ticket.due_at,
        ticket.supervised,
        Rating(ticket.rating) if ticket.rating else None,
        tuple((e.occurred_at, e.from_status, e.to_status, e.note) for e in ticket.events),
        ticket.merged_into.number if ticket.merged_into else None,
        task.due_at if task else None,
    )
