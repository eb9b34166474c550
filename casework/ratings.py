"""The resident's rating (满意 / 基本满意 / 不满意) of a ticket's handling, after the answer.

满意 and 基本满意 close the ticket (办结 → 评价). 不满意 opens a 回访 task (casework/callbacks.py) and moves the
ticket to 回访: it is closed only once the task is done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from casework.calendar import WorkingCalendar
from casework.callbacks import open_callback_task
from casework.column_types import utc_now
from casework.enums import Rating, TicketEventKind, TicketStatus
from casework.lifecycle import RATEABLE_STATUSES, IllegalTransition, open_callback, record_event, transition
from casework.models import Ticket
from casework.time_limits import TimeLimitRules
from hotline.privacy import mask_text

MAX_COMMENT_CHARS = 500


@dataclass(frozen=True)
class RatingOutcome:
    number: str
    rating: Rating
    status: TicketStatus
    callback_due: datetime | None  # set when 不满意 opened (or found) a 回访 task


def rate_ticket(
    ticket: Ticket,
    rating: Rating | str,
    actor: str,
    comment: str = "",
    *,
    now: datetime | None = None,
    calendar: WorkingCalendar | None = None,
    limits: TimeLimitRules | None = None,
) -> RatingOutcome:
    """Record the resident's rating; raises IllegalTransition (Chinese message) when it cannot be rated now."""
    value = Rating(rating)
    current = TicketStatus(ticket.status)
    if ticket.merged_into is not None:
        raise IllegalTransition(
            f"工单{ticket.number}已并入工单{ticket.merged_into.number}，请对该工单进行评价。"
        )
    if current is TicketStatus.RATED or _rated_since_last_answer(ticket):
        raise IllegalTransition(f"工单{ticket.number}已经评价过了，感谢您的反馈。")
    if current not in RATEABLE_STATUSES:
        raise IllegalTransition(f"工单{ticket.number}当前为「{current}」，工作人员答复后才能评价。")
    now = now or utc_now()
    remark = mask_text(comment.strip())[:MAX_COMMENT_CHARS]
    ticket.rating, ticket.rating_comment, ticket.rated_at = value, remark or None, now
    record_event(
        ticket,
        TicketEventKind.RATING,
        actor,
        f"居民评价：{value}" + (f"（{remark}）" if remark else ""),
        now=now,
    )
    if value is Rating.DISSATISFIED:
        task = open_callback(ticket) or open_callback_task(
            ticket,
            reason=f"居民评价不满意{('：' + remark) if remark else ''}",
            now=now,
            calendar=calendar,
            limits=limits,
        )
        if current is not TicketStatus.FOLLOWED_UP:
            transition(ticket, TicketStatus.FOLLOWED_UP, actor, "居民评价不满意，转回访", now=now)
        return RatingOutcome(ticket.number, value, TicketStatus(ticket.status), task.due_at)
    if open_callback(ticket) is None:
        if current is TicketStatus.ANSWERED:
            transition(ticket, TicketStatus.CLOSED, actor, f"居民评价{value}，办结", now=now)
        transition(ticket, TicketStatus.RATED, actor, "评价完成", now=now)
    return RatingOutcome(ticket.number, value, TicketStatus(ticket.status), None)


def _rated_since_last_answer(ticket: Ticket) -> bool:
    """One rating per answer: after a reopened ticket is answered again, the resident may rate again."""
    if ticket.rated_at is None:
        return False
    answers = [
        e.occurred_at
        for e in ticket.events
        if e.kind is TicketEventKind.STATUS and e.to_status is TicketStatus.ANSWERED
    ]
    return not answers or ticket.rated_at >= max(answers)
