"""督办 (supervision): a ticket not answered within its time limit, or a 回访 not done within its limit, raises
a supervision event once. Run periodically by the gateway and by `hotline db supervise`; several processes may
run it at once (rows another transaction is supervising are skipped)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.column_types import CHINA_TZ, utc_now
from casework.enums import SupervisionKind, TicketEventKind, TicketStatus
from casework.lifecycle import OPEN_STATUSES, record_event, transition
from casework.models import CallbackTask, SupervisionEvent, Ticket

SYSTEM_ACTOR = "system:超时督办"


def supervise_overdue(
    session: Session, *, now: datetime | None = None, actor: str = SYSTEM_ACTOR
) -> list[SupervisionEvent]:
    """Raise 督办 on every overdue open ticket (it moves to 督办) and every overdue 回访 task; returns the
    events raised now, none twice."""
    now = now or utc_now()
    overdue_tickets = session.scalars(
        select(Ticket)
        .where(
            Ticket.status.in_(OPEN_STATUSES),
            Ticket.due_at < now,
            Ticket.supervised.is_(False),
            Ticket.merged_into_id.is_(None),
        )
        .order_by(Ticket.due_at)
        .with_for_update(skip_locked=True)
    ).all()
    raised = [
        _raise(ticket, SupervisionKind.OVERDUE, ticket.due_at, actor, now) for ticket in overdue_tickets
    ]
    for ticket in overdue_tickets:
        transition(ticket, TicketStatus.SUPERVISED, actor, "超过办理时限，自动督办", now=now)
    late_callbacks = session.scalars(
        select(CallbackTask)
        .where(
            CallbackTask.done_at.is_(None), CallbackTask.due_at < now, CallbackTask.supervised_at.is_(None)
        )
        .order_by(CallbackTask.due_at)
        .with_for_update(skip_locked=True)
    ).all()
    for task in late_callbacks:
        task.supervised_at = now
        raised.append(_raise(task.ticket, SupervisionKind.CALLBACK_OVERDUE, task.due_at, actor, now))
        record_event(task.ticket, TicketEventKind.SUPERVISION, actor, "回访超过时限，自动督办", now=now)
    session.add_all(raised)
    session.flush()
    return raised


def _raise(
    ticket: Ticket, kind: SupervisionKind, due_at: datetime, actor: str, now: datetime
) -> SupervisionEvent:
    due = due_at.astimezone(CHINA_TZ)
    return SupervisionEvent(
        ticket=ticket,
        kind=kind,
        raised_at=now,
        due_at=due_at,
        note=f"{kind}：时限 {due.month}月{due.day}日 {due:%H:%M}（{actor}）",
    )
