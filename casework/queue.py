"""What the agent desk shows: the queue (filtered, most urgent first) and one ticket with everything on it.

Views are frozen dataclasses, not ORM rows, so the gateway never lazy-loads after its session closed, and only
masked data leaves: the transcript and the resident's name/ID were masked when stored; the raw sender id
(a web session or a WeChat OpenID) is never shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Exists, and_, exists, or_, select
from sqlalchemy.orm import Session

from casework.agents import AgentIdentity
from casework.calendar import WorkingCalendar, default_calendar
from casework.column_types import utc_now
from casework.enums import MessageKind, Rating, TicketCategory, TicketEventKind, TicketStatus
from casework.lifecycle import FINISHED_STATUSES, allowed_next, open_callback
from casework.models import Agent, CallbackTask, Ticket, TicketMessage
from casework.sla import Deadline, deadline
from casework.time_limits import TimeLimitRules, default_time_limits

UNASSIGNED = "none"
MINE = "me"


@dataclass(frozen=True)
class QueueFilter:
    statuses: tuple[TicketStatus, ...] = ()  # empty: every status still being worked on
    category: TicketCategory | None = None
    overdue: bool | None = None  # answer or 回访 past its time limit
    assignee: str | None = None  # "me", "none" (the pool) or a username
    channel: str | None = None  # "web", "wechat"
    limit: int = 200


@dataclass(frozen=True)
class QueueItem:
    number: str
    category: TicketCategory
    status: TicketStatus
    channel: str
    created_at: datetime
    deadline: Deadline
    assignee: str | None  # username
    assignee_name: str | None
    resident: str | None  # masked name and ID number, when the resident was verified
    topic: str  # the summary, or the resident's first words
    supervised: bool
    callback_due: datetime | None  # an open 回访 task's due time
    rating: Rating | None


@dataclass(frozen=True)
class HistoryLine:
    occurred_at: datetime
    kind: TicketEventKind
    from_status: TicketStatus | None
    to_status: TicketStatus
    actor: str
    note: str


@dataclass(frozen=True)
class MessageLine:
    created_at: datetime
    kind: MessageKind
    author: str
    text: str
    delivered: bool


@dataclass(frozen=True)
class NoteLine:
    created_at: datetime
    author: str
    text: str


@dataclass(frozen=True)
class CallbackLine:
    opened_at: datetime
    due_at: datetime
    reason: str
    done_at: datetime | None
    done_by: str | None
    outcome: str | None


@dataclass(frozen=True)
class TicketDetail:
    item: QueueItem
    transcript: str
    summary: str | None
    rating_comment: str | None
    allowed_next: list[TicketStatus]
    history: list[HistoryLine] = field(default_factory=list)
    messages: list[MessageLine] = field(default_factory=list)
    notes: list[NoteLine] = field(default_factory=list)
    callbacks: list[CallbackLine] = field(default_factory=list)
    merged_into: str | None = None
    merged_from: list[str] = field(default_factory=list)


def ticket_queue(
    session: Session,
    flt: QueueFilter,
    *,
    me: AgentIdentity,
    now: datetime | None = None,
    calendar: WorkingCalendar | None = None,
    limits: TimeLimitRules | None = None,
) -> list[QueueItem]:
    now = now or utc_now()
    statuses = flt.statuses or tuple(s for s in TicketStatus if s not in FINISHED_STATUSES)
    query = select(Ticket).where(Ticket.merged_into_id.is_(None), Ticket.status.in_(statuses))
    if flt.category is not None:
        query = query.where(Ticket.category == flt.category)
    if flt.channel:
        query = query.where(Ticket.channel == flt.channel)
    if flt.assignee == MINE:
        query = query.where(Ticket.assignee_id == me.id)
    elif flt.assignee == UNASSIGNED:
        query = query.where(Ticket.assignee_id.is_(None))
    elif flt.assignee:
        query = query.join(Agent, Agent.id == Ticket.assignee_id).where(Agent.username == flt.assignee)
    if flt.overdue is not None:
        late = or_(and_(Ticket.answered_at.is_(None), Ticket.due_at < now), _late_callback(now))
        query = query.where(late if flt.overdue else ~late)
    tickets = session.scalars(query.order_by(Ticket.due_at, Ticket.id).limit(flt.limit)).all()
    calendar, limits = calendar or default_calendar(), limits or default_time_limits()
    return [queue_item(t, now=now, calendar=calendar, limits=limits) for t in tickets]


def ticket_detail(
    session: Session,
    ticket: Ticket,
    *,
    now: datetime | None = None,
    calendar: WorkingCalendar | None = None,
    limits: TimeLimitRules | None = None,
) -> TicketDetail:
    return TicketDetail(
        item=queue_item(ticket, now=now, calendar=calendar, limits=limits),
        transcript=ticket.transcript,
        summary=ticket.summary,
        rating_comment=ticket.rating_comment,
        allowed_next=[] if ticket.merged_into_id else allowed_next(TicketStatus(ticket.status)),
        history=[
            HistoryLine(
                e.occurred_at,
                TicketEventKind(e.kind),
                e.from_status,
                e.to_status,
                actor_label(e.actor),
                e.note,
            )
            for e in ticket.events
        ],
        messages=[
            MessageLine(m.created_at, MessageKind(m.kind), m.author, m.text, m.delivered_at is not None)
            for m in _one_per_send(ticket)
        ],
        notes=[NoteLine(n.created_at, n.author, n.text) for n in ticket.notes],
        callbacks=[
            CallbackLine(c.opened_at, c.due_at, c.reason, c.done_at, c.done_by, c.outcome)
            for c in ticket.callbacks
        ],
        merged_into=ticket.merged_into.number if ticket.merged_into else None,
        merged_from=[d.number for d in ticket.duplicates],
    )


def queue_item(
    ticket: Ticket,
    *,
    now: datetime | None = None,
    calendar: WorkingCalendar | None = None,
    limits: TimeLimitRules | None = None,
) -> QueueItem:
    task = open_callback(ticket)
    return QueueItem(
        number=ticket.number,
        category=TicketCategory(ticket.category),
        status=TicketStatus(ticket.status),
        channel=ticket.channel,
        created_at=ticket.created_at,
        deadline=deadline(ticket, now=now, calendar=calendar, limits=limits),
        assignee=ticket.assignee.username if ticket.assignee else None,
        assignee_name=ticket.assignee.display_name if ticket.assignee else None,
        resident=ticket.resident_masked,
        topic=ticket.summary or _first_resident_line(ticket.transcript),
        supervised=ticket.supervised,
        callback_due=task.due_at if task else None,
        rating=Rating(ticket.rating) if ticket.rating else None,
    )


CHANNEL_NAMES = {"web": "网页", "wechat": "微信", "rest": "接口"}


def actor_label(actor: str) -> str:
    """How the desk names who did something: `agent:wang` → `坐席 wang`, `system:超时督办` → `系统（超时督办）`,
    a resident's chat (`web:…`, stored as a keyed hash) → `居民（网页）`: agents never see a sender id."""
    kind, _, rest = actor.partition(":")
    if kind == "agent":
        return f"坐席 {rest}"
    if kind == "system":
        return f"系统（{rest}）"
    if kind == "resident":
        return f"居民（{rest}）"
    return f"居民（{CHANNEL_NAMES.get(kind, kind)}）"


def _late_callback(now: datetime) -> Exists:
    return exists().where(
        CallbackTask.ticket_id == Ticket.id, CallbackTask.done_at.is_(None), CallbackTask.due_at < now
    )


def _first_resident_line(transcript: str, limit: int = 60) -> str:
    lines = [line.split("：", 1)[1] for line in transcript.splitlines() if line.startswith("居民：")]
    text = (lines[0] if lines else transcript).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _one_per_send(ticket: Ticket) -> list[TicketMessage]:
    """A message sent to a resident with two chats (merged tickets) is shown once on the desk."""
    seen: set[tuple[datetime, str, str]] = set()
    shown: list[TicketMessage] = []
    for message in ticket.messages:
        key = (message.created_at, message.author, message.text)
        if key not in seen:
            seen.add(key)
            shown.append(message)
    return shown
