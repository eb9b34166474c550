"""Where a ticket stands against its time limit: on time, near due, overdue — or, once answered, met or missed.

The countdown is in working time (office hours on working days), the same clock the limits are counted on, so
a ticket due Monday 10:00 seen on Friday 16:00 has two working hours left, not a weekend and more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from casework.calendar import WorkingCalendar, default_calendar
from casework.column_types import utc_now
from casework.enums import TicketCategory
from casework.models import Ticket
from casework.time_limits import TimeLimitRules, default_time_limits


class SlaState(StrEnum):
    ON_TIME = "正常"
    NEAR_DUE = "临期"
    OVERDUE = "超时"
    MET = "按时答复"
    MISSED = "超时答复"


@dataclass(frozen=True)
class Deadline:
    state: SlaState
    due_at: datetime
    remaining: timedelta  # working time left (negative: overdue by); zero once answered

    @property
    def remaining_text(self) -> str:
        """`剩余 3小时20分` / `超时 1小时5分` in working time, for the desk's countdown."""
        if self.state in (SlaState.MET, SlaState.MISSED):
            return str(self.state)
        minutes = int(abs(self.remaining).total_seconds() // 60)
        hours, minutes = divmod(minutes, 60)
        amount = f"{hours}小时{minutes}分" if hours else f"{minutes}分钟"
        return f"{'超时' if self.remaining < timedelta() else '剩余'} {amount}（工作时间）"


def deadline(
    ticket: Ticket,
    *,
    now: datetime | None = None,
    calendar: WorkingCalendar | None = None,
    limits: TimeLimitRules | None = None,
) -> Deadline:
    if ticket.answered_at is not None:
        state = SlaState.MET if ticket.answered_at <= ticket.due_at else SlaState.MISSED
        return Deadline(state, ticket.due_at, timedelta())
    now = now or utc_now()
    calendar = calendar or default_calendar()
    if now > ticket.due_at:
        return Deadline(SlaState.OVERDUE, ticket.due_at, -calendar.working_time_between(ticket.due_at, now))
    remaining = calendar.working_time_between(now, ticket.due_at)
    rules = limits or default_time_limits()
    near = (
        remaining <= rules[TicketCategory(ticket.category)].working_duration(calendar) * rules.near_due_share
    )
    return Deadline(SlaState.NEAR_DUE if near else SlaState.ON_TIME, ticket.due_at, remaining)
