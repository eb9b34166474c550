"""The 12393 ticket lifecycle: which status may follow which, and the one function that changes a status.

Lifecycle (12393 / 12345 practice): 受理 → 派单 → 办理 → 答复 → 办结 → 回访 → 评价, with 督办 (supervision)
entered when a ticket runs past its time limit. `LEGAL_TRANSITIONS` is the single statement of which moves are
allowed; `transition()` is the only code that changes a ticket's status, and it appends every change to the
ticket's history (who, when, from, to, note). `record_event()` appends the history lines that keep the status
(认领, 改派, 合并 …).

The resident rates after the answer (答复): 满意 / 基本满意 close the ticket (办结 → 评价); 不满意 opens a 回访
task (casework/callbacks.py) and the ticket cannot be closed until that task is done.
"""

from __future__ import annotations

from datetime import datetime

from casework.column_types import utc_now
from casework.enums import TicketEventKind, TicketStatus
from casework.models import CallbackTask, Ticket, TicketEvent
from hotline.privacy import mask_text

OPEN_STATUSES = frozenset({TicketStatus.RECEIVED, TicketStatus.DISPATCHED, TicketStatus.HANDLING})

LEGAL_TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    # A hotline agent may handle a ticket at once (直接办理) instead of dispatching it to a department.
    TicketStatus.RECEIVED: frozenset(
        {TicketStatus.DISPATCHED, TicketStatus.HANDLING, TicketStatus.SUPERVISED}
    ),
    TicketStatus.DISPATCHED: frozenset({TicketStatus.HANDLING, TicketStatus.SUPERVISED}),
    # 派单 again: the handler returned the ticket to the pool (退回), with a reason, for someone else to claim.
    TicketStatus.HANDLING: frozenset(
        {TicketStatus.DISPATCHED, TicketStatus.ANSWERED, TicketStatus.SUPERVISED}
    ),
    # Supervision pushes the handler: work resumes, or the overdue answer is finally given.
    TicketStatus.SUPERVISED: frozenset({TicketStatus.HANDLING, TicketStatus.ANSWERED}),
    # After the answer: closed (satisfied, or no rating came), back to handling (not accepted), or 回访 (不满意).
    TicketStatus.ANSWERED: frozenset({TicketStatus.CLOSED, TicketStatus.HANDLING, TicketStatus.FOLLOWED_UP}),
    # A resident may still rate a closed ticket; otherwise the follow-up call collects the rating.
    TicketStatus.CLOSED: frozenset({TicketStatus.FOLLOWED_UP, TicketStatus.RATED}),
    # The follow-up closes the ticket, or finds the problem unsolved and reopens it, or collects the rating.
    TicketStatus.FOLLOWED_UP: frozenset({TicketStatus.CLOSED, TicketStatus.HANDLING, TicketStatus.RATED}),
    TicketStatus.RATED: frozenset(),
}
# The statuses in which the resident's evaluation is asked for and accepted.
RATEABLE_STATUSES = frozenset({TicketStatus.ANSWERED, TicketStatus.CLOSED, TicketStatus.FOLLOWED_UP})
# No longer worked on: the queue leaves them out unless asked.
FINISHED_STATUSES = frozenset({TicketStatus.CLOSED, TicketStatus.RATED})


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
    if target in (TicketStatus.CLOSED, TicketStatus.RATED) and open_callback(ticket) is not None:
        raise IllegalTransition(
            f"工单{ticket.number}的回访任务尚未完成（居民评价不满意），完成回访并反馈整改情况后才能办结。"
        )
    now = now or utc_now()
    event = record_event(ticket, TicketEventKind.STATUS, actor, note, now=now, to_status=target)
    ticket.status = target
    if target is TicketStatus.ANSWERED:
        ticket.answered_at = ticket.answered_at or now  # the SLA counts the first answer
    if target is TicketStatus.SUPERVISED:
        ticket.supervised = True
        ticket.supervised_at = ticket.supervised_at or now
    if target is TicketStatus.CLOSED:
        ticket.closed_at = now
    if target is TicketStatus.HANDLING:
        ticket.closed_at = None  # reopened
    return event


def record_event(
    ticket: Ticket,
    kind: TicketEventKind,
    actor: str,
    note: str = "",
    *,
    now: datetime | None = None,
    to_status: TicketStatus | None = None,
) -> TicketEvent:
    """Append one line to the ticket's history; without `to_status` the status stays what it is."""
    current = TicketStatus(ticket.status)
    event = TicketEvent(
        kind=kind,
        from_status=current,
        to_status=to_status or current,
        actor=mask_text(actor),
        note=mask_text(note),
        occurred_at=now or utc_now(),
    )
    ticket.events.append(event)
    return event


def open_callback(ticket: Ticket) -> CallbackTask | None:
    """The ticket's 回访 task that is not done yet, if any."""
    return next((task for task in ticket.callbacks if task.done_at is None), None)
