"""回访 (follow-up) tasks: owed to every resident who rates a ticket 不满意, due within N working days.

南昌 专栏6: "实名差评回访率达到100%，原则上应在10个工作日向评价人反馈整改情况". The number of days comes from
`callback_working_days` in the time-limit file; the ticket cannot be closed while its task is open
(casework/lifecycle.py), and a task running late raises a 督办 (casework/supervision.py).
"""

from __future__ import annotations

from datetime import datetime

from casework.calendar import WorkingCalendar, default_calendar
from casework.column_types import utc_now
from casework.enums import MessageKind, TicketEventKind, TicketStatus
from casework.lifecycle import IllegalTransition, open_callback, record_event, transition
from casework.models import CallbackTask, Ticket
from casework.replies import queue_message
from casework.time_limits import TimeLimitRules, default_time_limits
from hotline.privacy import mask_text

FEEDBACK_TEXT = "关于您评价“不满意”的工单{number}，我们回访后的整改和处理情况如下：{outcome}"


def open_callback_task(
    ticket: Ticket,
    *,
    reason: str,
    now: datetime | None = None,
    calendar: WorkingCalendar | None = None,
    limits: TimeLimitRules | None = None,
) -> CallbackTask:
    now = now or utc_now()
    days = (limits or default_time_limits()).callback_working_days
    task = CallbackTask(
        reason=mask_text(reason)[:500],
        opened_at=now,
        due_at=(calendar or default_calendar()).add_working_days(now, days),
    )
    ticket.callbacks.append(task)
    record_event(
        ticket,
        TicketEventKind.CALLBACK,
        "system:回访",
        f"开启回访任务（{days}个工作日内）：{reason}",
        now=now,
    )
    return task


def complete_callback(
    ticket: Ticket,
    actor: str,
    outcome: str,
    *,
    reopen: bool = False,
    tell_resident: bool = True,
    now: datetime | None = None,
) -> CallbackTask:
    """Record what the 回访 found and what was done; the resident is told (their chat), then the ticket is
    closed — or, with `reopen`, goes back to handling because the problem is not solved."""
    task = open_callback(ticket)
    if task is None:
        raise IllegalTransition(f"工单{ticket.number}没有待完成的回访任务。")
    text = mask_text(outcome.strip())
    if not text:
        raise IllegalTransition("请填写回访情况（向居民反馈的整改和处理结果）。")
    now = now or utc_now()
    task.done_at, task.done_by, task.outcome = now, mask_text(actor), text
    record_event(ticket, TicketEventKind.CALLBACK, actor, f"回访完成：{text}", now=now)
    if tell_resident:
        queue_message(
            ticket,
            kind=MessageKind.CALLBACK_FEEDBACK,
            author=actor,
            text=FEEDBACK_TEXT.format(number=ticket.number, outcome=text),
            now=now,
        )
    if TicketStatus(ticket.status) is TicketStatus.FOLLOWED_UP:
        if reopen:
            transition(ticket, TicketStatus.HANDLING, actor, "回访发现问题尚未解决，重新办理", now=now)
        else:
            transition(ticket, TicketStatus.CLOSED, actor, "回访完成，办结", now=now)
            if ticket.rating is not None:
                transition(ticket, TicketStatus.RATED, actor, "评价与回访均已完成", now=now)
    return task
