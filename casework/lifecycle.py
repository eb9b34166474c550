"""The 12393 ticket lifecycle: which status may follow which, and the one function that changes a status.

Lifecycle (12393 / 12345 practice): 受理 → 派单 → 办理 → 答复 → 办结 → 回访 → 评价, with 督办 (supervision)
entered when a ticket runs past its time limit. `LEGAL_TRANSITIONS` is the single statement of which moves are
allowed; `transition()` is the only code that changes a ticket's status, and it appends every change to the
ticket's history (who, when, from, to, note).
"""

from __future__ import annotations

from datetime import datetime

from casework.column_types import utc_now
from casework.enums import TicketStatus
from casework.models import Ticket, TicketEvent
from hotline.privacy import mask_text

OPEN_STATUSES = frozenset({TicketStatus.RECEIVED, TicketStatus.DISPATCHED, TicketStatus.HANDLING})

LEGAL_TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    # A hotline agent may handle a ticket at once (直接办理) instead of dispatching it to a department.
    TicketStatus.RECEIVED: frozenset({TicketStatus.DISPATCHED, TicketStatus.HANDLING, TicketStatus.SUPERVISED}),
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
    """A status change the lifecycle does not allow; the message (Chinese) is for the agent desk."""


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
        raise IllegalTransition(f"工单{ticket.number}还没有评价结果，请先记录居民的评价。")
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
