"""Work orders (工单): opening them from a conversation, their time limits, and the 12393 lifecycle.

Lifecycle (12393 / 12345 practice): 受理 → 派单 → 办理 → 答复 → 办结 → 回访 → 评价, with 督办 (supervision)
entered when a ticket runs past its time limit. `LEGAL_TRANSITIONS` is the single statement of which moves
are allowed; `transition()` is the only code that changes a ticket's status.

Time limits (`TIME_LIMITS`, the one place to change them) are counted in working time on
`DEFAULT_CALENDAR` (Mon–Fri 09:00–17:00 China time). Statutory holidays and 调休 working weekends are not
built in because they change every year: pass them to `WorkingCalendar(holidays=…, extra_workdays=…)`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.column_types import CHINA_TZ, utc_now
from casework.enums import Rating, TicketCategory, TicketStatus
from casework.models import Resident, Ticket, TicketEvent, TicketMessage, TicketSequence
from casework.verification import VerifiedResident
from hotline.privacy import mask_text

TICKET_PREFIX = "12393"

# --- time limits -------------------------------------------------------------------------


@dataclass(frozen=True)
class TimeLimit:
    amount: int
    unit: Literal["working_hours", "working_days"]
    promise: str  # what happens within the limit, as told to the resident

    @property
    def text(self) -> str:
        unit = "个工作小时" if self.unit == "working_hours" else "个工作日"
        return f"{self.amount}{unit}内{self.promise}"


# Why these values: a hand-over to a person is a live conversation, so hours; questions the assistant could
# not answer and failed identity checks need a look at records, so one working day; 5 working days is the
# usual 12345/12393 limit for complaints; 举报 follows the 15-working-day acceptance decision of the NHSA
# 《医疗保障基金使用监督管理举报处理暂行办法》.
TIME_LIMITS: dict[TicketCategory, TimeLimit] = {
    TicketCategory.HUMAN_AGENT: TimeLimit(2, "working_hours", "由人工客服回复您"),
    TicketCategory.UNANSWERED: TimeLimit(1, "working_days", "由工作人员核实后答复您"),
    TicketCategory.VERIFICATION_FAILED: TimeLimit(1, "working_days", "由工作人员人工核实身份后与您联系"),
    TicketCategory.COMPLAINT: TimeLimit(5, "working_days", "答复您投诉的处理结果"),
    TicketCategory.FRAUD_REPORT: TimeLimit(15, "working_days", "告知您举报是否受理"),
}


@dataclass(frozen=True)
class WorkingCalendar:
    opens: time = time(9, 0)
    closes: time = time(17, 0)
    holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()  # 调休: weekend days worked

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        remaining = timedelta(hours=hours)
        cursor = start.astimezone(CHINA_TZ)
        while True:
            if not self.is_working_day(cursor.date()) or cursor.time() >= self.closes:
                cursor = self._opening(self._next_working_day(cursor.date()))
                continue
            cursor = max(cursor, self._opening(cursor.date()))
            available = self._closing(cursor.date()) - cursor
            if remaining <= available:
                return cursor + remaining
            remaining -= available
            cursor = self._opening(self._next_working_day(cursor.date()))

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """Closing time of the `days`-th working day after the day of `start` (which does not count)."""
        day = start.astimezone(CHINA_TZ).date()
        for _ in range(days):
            day = self._next_working_day(day)
        return self._closing(day)

    def due_at(self, start: datetime, limit: TimeLimit) -> datetime:
        if limit.unit == "working_hours":
            return self.add_working_hours(start, limit.amount)
        return self.add_working_days(start, limit.amount)

    def _next_working_day(self, day: date) -> date:
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def _opening(self, day: date) -> datetime:
        return datetime.combine(day, self.opens, CHINA_TZ)

    def _closing(self, day: date) -> datetime:
        return datetime.combine(day, self.closes, CHINA_TZ)


DEFAULT_CALENDAR = WorkingCalendar()

# --- lifecycle ---------------------------------------------------------------------------

OPEN_STATUSES = frozenset({TicketStatus.RECEIVED, TicketStatus.DISPATCHED, TicketStatus.HANDLING})

LEGAL_TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    # A hotline agent may handle a ticket at once (直接办理) instead of dispatching it to a department.
    TicketStatus.RECEIVED: frozenset(
        {TicketStatus.DISPATCHED, TicketStatus.HANDLING, TicketStatus.SUPERVISED}
    ),
    TicketStatus.DISPATCHED: frozenset({TicketStatus.HANDLING, TicketStatus.SUPERVISED}),
    TicketStatus.HANDLING: frozenset({TicketStatus.ANSWERED, TicketStatus.SUPERVISED}),
    # Supervision pushes the handler: work resumes, or the overdue answer is finally given.
    TicketStatus.SUPERVISED: frozenset({TicketStatus.HANDLING, TicketStatus.ANSWERED}),
    # An answer the resident does not accept goes back to handling.
    TicketStatus.ANSWERED: frozenset({TicketStatus.CLOSED, TicketStatus.HANDLING}),
    # A resident may rate in the chat right away; otherwise the follow-up call collects the rating.
    TicketStatus.CLOSED: frozenset({TicketStatus.FOLLOWED_UP, TicketStatus.RATED}),
    # A follow-up that finds the problem unsolved reopens the ticket.
    TicketStatus.FOLLOWED_UP: frozenset({TicketStatus.RATED, TicketStatus.HANDLING}),
    TicketStatus.RATED: frozenset(),
}


class IllegalTransition(ValueError):
    """A status change the lifecycle does not allow; the message is for the agent desk."""


def allowed_next(status: TicketStatus) -> list[TicketStatus]:
    """The statuses a ticket may move to next, in lifecycle order (for the agent desk's buttons)."""
    return [s for s in TicketStatus if s in LEGAL_TRANSITIONS[status]]


def transition(
    ticket: Ticket,
    to_status: TicketStatus | str,
    actor: str,
    note: str = "",
    *,
    now: datetime | None = None,
) -> TicketEvent:
    """Move `ticket` to `to_status`, recording who did it and why; raises IllegalTransition otherwise."""
    target = TicketStatus(to_status)
    current = TicketStatus(ticket.status)
    if target not in LEGAL_TRANSITIONS[current]:
        options = "、".join(allowed_next(current)) or "无（流程已结束）"
        raise IllegalTransition(
            f"工单{ticket.number}当前为「{current}」，不能直接转为「{target}」；可转为：{options}。"
        )
    if target is TicketStatus.RATED and ticket.rating is None:
        raise IllegalTransition(
            f"工单{ticket.number}还没有评价结果，请通过 rate_ticket 记录评价（好/中/差）。"
        )
    now = now or utc_now()
    event = TicketEvent(
        from_status=current, to_status=target, actor=mask_text(actor), note=mask_text(note), occurred_at=now
    )
    ticket.events.append(event)
    ticket.status = target
    if target is TicketStatus.SUPERVISED:
        ticket.supervised = True
        ticket.supervised_at = ticket.supervised_at or now
    if target is TicketStatus.CLOSED:
        ticket.closed_at = now
    if target is TicketStatus.HANDLING:
        ticket.closed_at = None  # reopened
    return event


def rate_ticket(
    ticket: Ticket,
    rating: Rating | str,
    actor: str,
    comment: str = "",
    *,
    now: datetime | None = None,
) -> TicketEvent:
    """Record the resident's rating (好/中/差) and close the lifecycle at 评价."""
    value = Rating(rating)
    if TicketStatus.RATED not in LEGAL_TRANSITIONS[TicketStatus(ticket.status)]:
        raise IllegalTransition(f"工单{ticket.number}当前为「{ticket.status}」，办结后才能评价。")
    ticket.rating = value
    ticket.rating_comment = mask_text(comment) or None
    return transition(
        ticket, TicketStatus.RATED, actor, f"评价：{value}" + (f"，{comment}" if comment else ""), now=now
    )


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
    calendar: WorkingCalendar = DEFAULT_CALENDAR,
) -> TicketReceipt:
    """Register a ticket at 受理 with a numbered receipt; personal data in the text is masked before storing.

    `transcript` is the conversation so far (one string, or one line per turn). `channel` and `sender_id`
    are kept so an agent's reply can be delivered back to the same chat.
    """
    kind = TicketCategory(category)
    now = now or utc_now()
    limit = TIME_LIMITS[kind]
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
        due_at=calendar.due_at(now, limit),
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


# --- agent replies -----------------------------------------------------------------------


@dataclass(frozen=True)
class AgentMessage:
    message_id: int
    ticket_number: str
    channel: str
    sender_id: str
    author: str
    text: str
    created_at: datetime


def add_agent_message(
    session: Session, ticket: Ticket, *, author: str, text: str, now: datetime | None = None
) -> AgentMessage:
    """Queue an agent's reply for delivery to the chat the ticket came from."""
    message = TicketMessage(
        channel=ticket.channel,
        sender_id=ticket.sender_id,
        author=author,
        text=mask_text(text),
        created_at=now or utc_now(),
    )
    ticket.messages.append(message)
    session.flush()
    return _agent_message(message, ticket.number)


def messages_for_sender(
    session: Session, sender_id: str, *, after_id: int = 0, limit: int = 50, now: datetime | None = None
) -> list[AgentMessage]:
    """Agents' replies to `sender_id`'s tickets after message `after_id`, oldest first; fetched means delivered.

    Sender ids are namespaced (`web:…`, `wechat:…`) and issued by the gateway, so the id alone picks the
    resident's messages, whatever channel label the ticket was opened with.
    """
    rows = session.execute(
        select(TicketMessage, Ticket.number)
        .join(Ticket, Ticket.id == TicketMessage.ticket_id)
        .where(TicketMessage.sender_id == sender_id, TicketMessage.id > after_id)
        .order_by(TicketMessage.id)
        .limit(limit)
    ).all()
    _mark_delivered([message for message, _ in rows], now)
    return [_agent_message(message, number) for message, number in rows]


def claim_undelivered(
    session: Session, *, sender_prefix: str, limit: int = 20, now: datetime | None = None
) -> list[AgentMessage]:
    """Undelivered replies to senders whose id starts with `sender_prefix`, marked delivered in the caller's
    transaction; rows another transaction holds are skipped, so two gateway processes never send one twice."""
    rows = session.execute(
        select(TicketMessage, Ticket.number)
        .join(Ticket, Ticket.id == TicketMessage.ticket_id)
        .where(TicketMessage.sender_id.startswith(sender_prefix), TicketMessage.delivered_at.is_(None))
        .order_by(TicketMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    _mark_delivered([message for message, _ in rows], now)
    return [_agent_message(message, number) for message, number in rows]


def _mark_delivered(messages: Iterable[TicketMessage], now: datetime | None) -> None:
    moment = now or utc_now()
    for message in messages:
        if message.delivered_at is None:
            message.delivered_at = moment


def _agent_message(message: TicketMessage, number: str) -> AgentMessage:
    return AgentMessage(
        message.id,
        number,
        message.channel,
        message.sender_id,
        message.author,
        message.text,
        message.created_at,
    )
