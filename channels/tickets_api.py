"""The tickets API of the agent desk (`/api/tickets`): the queue, one ticket, and what agents do to it.

Every endpoint requires a logged-in agent (channels/deps.py). The rules — who may act, which status may
follow which — are the ticket domain's (casework.handling, casework.lifecycle); refusals come back as 403 / 409
with its Chinese message. Residents are shown masked; their sender ids never leave the gateway.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from sqlalchemy.orm import Session

from casework import handling
from casework.agents import list_agents
from casework.enums import TicketCategory, TicketStatus
from casework.models import Ticket
from casework.queue import QueueFilter, ticket_detail, ticket_queue
from channels.deps import CurrentAgent, DbSession, ticket_or_404
from channels.desk_schemas import (
    AgentOut,
    CallbackRequest,
    MergeRequest,
    NoteRequest,
    QueueItemOut,
    ReassignRequest,
    ReplyRequest,
    ReturnRequest,
    TicketOut,
    UpdateRequest,
)

router = APIRouter(prefix="/api/tickets", tags=["desk: tickets"])

NumberPath = Annotated[str, Path(max_length=32, description="工单号，例如 12393-20261123-0007")]
ERRORS = {
    401: {"description": "未登录"},
    403: {"description": "无权操作（不是办理人或主管）"},
    404: {"description": "没有这个工单"},
    409: {"description": "当前状态不允许此操作"},
}


def _detail(db: Session, ticket: Ticket) -> TicketOut:
    db.flush()
    db.expire(ticket)  # assignment and relationships as stored, not as this request left them in memory
    return TicketOut.of_detail(ticket_detail(db, ticket))


@router.get("", response_model=list[QueueItemOut], responses=ERRORS)
def queue(
    agent: CurrentAgent,
    db: DbSession,
    state: Annotated[list[TicketStatus] | None, Query(description="状态，可多选；默认为未办结的全部")] = None,
    category: TicketCategory | None = None,
    overdue: Annotated[bool | None, Query(description="true：答复或回访已超时")] = None,
    assignee: Annotated[
        str | None, Query(max_length=64, description="me、none（待认领）或坐席登录名")
    ] = None,
    channel: Annotated[str | None, Query(max_length=16, description="web 或 wechat")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[QueueItemOut]:
    """The queue, most urgent (earliest due) first, with each ticket's SLA countdown in working time."""
    flt = QueueFilter(tuple(state or ()), category, overdue, assignee, channel, limit)
    return [QueueItemOut.of(item) for item in ticket_queue(db, flt, me=agent)]


@router.get("/{number}", response_model=TicketOut, responses=ERRORS)
def get_ticket(number: NumberPath, agent: CurrentAgent, db: DbSession) -> TicketOut:
    """One ticket: masked transcript, history, messages to the resident, internal notes, 回访 tasks."""
    return _detail(db, ticket_or_404(db, number))


@router.post("/{number}/claim", response_model=TicketOut, responses=ERRORS)
def claim(number: NumberPath, agent: CurrentAgent, db: DbSession) -> TicketOut:
    """Take the ticket from the pool; a new one moves to 办理."""
    ticket = ticket_or_404(db, number)
    handling.claim(ticket, agent)
    return _detail(db, ticket)


@router.patch("/{number}", response_model=TicketOut, responses=ERRORS)
def update(number: NumberPath, body: UpdateRequest, agent: CurrentAgent, db: DbSession) -> TicketOut:
    """Change the status (must be allowed next; 答复 invites the resident's rating) and/or the summary."""
    ticket = ticket_or_404(db, number)
    if body.status is not None:
        handling.change_status(ticket, agent, body.status, body.note)
    if body.summary is not None:
        handling.set_summary(ticket, agent, body.summary)
    return _detail(db, ticket)


@router.post("/{number}/reply", response_model=TicketOut, responses=ERRORS)
def reply(number: NumberPath, body: ReplyRequest, agent: CurrentAgent, db: DbSession) -> TicketOut:
    """Send a reply into the resident's chat (web page, or a WeChat customer-service message)."""
    ticket = ticket_or_404(db, number)
    handling.reply(db, ticket, agent, body.text, resolve=body.resolve)
    return _detail(db, ticket)


@router.post("/{number}/notes", response_model=TicketOut, responses=ERRORS)
def add_note(number: NumberPath, body: NoteRequest, agent: CurrentAgent, db: DbSession) -> TicketOut:
    """An internal note, for agents and supervisors only."""
    ticket = ticket_or_404(db, number)
    handling.add_note(ticket, agent, body.text)
    return _detail(db, ticket)


@router.post("/{number}/merge", response_model=TicketOut, responses=ERRORS)
def merge(number: NumberPath, body: MergeRequest, agent: CurrentAgent, db: DbSession) -> TicketOut:
    """Merge this duplicate (same resident, same topic) into `into`; returns the ticket it was merged into."""
    duplicate, into = ticket_or_404(db, number), ticket_or_404(db, body.into)
    handling.merge(duplicate, into, agent, body.note)
    return _detail(db, into)


@router.post("/{number}/reassign", response_model=TicketOut, responses=ERRORS)
def reassign(number: NumberPath, body: ReassignRequest, agent: CurrentAgent, db: DbSession) -> TicketOut:
    ticket = ticket_or_404(db, number)
    handling.reassign(db, ticket, agent, body.assignee, body.reason)
    return _detail(db, ticket)


@router.post("/{number}/return", response_model=TicketOut, responses=ERRORS)
def return_to_pool(number: NumberPath, body: ReturnRequest, agent: CurrentAgent, db: DbSession) -> TicketOut:
    """Give the ticket back to the pool, with the reason (退回)."""
    ticket = ticket_or_404(db, number)
    handling.return_to_pool(ticket, agent, body.reason)
    return _detail(db, ticket)


@router.post("/{number}/callback", response_model=TicketOut, responses=ERRORS)
def finish_callback(
    number: NumberPath, body: CallbackRequest, agent: CurrentAgent, db: DbSession
) -> TicketOut:
    """Record the 回访 owed for a 不满意 rating: the resident is told, then the ticket closes (or reopens)."""
    ticket = ticket_or_404(db, number)
    handling.finish_callback(ticket, agent, body.outcome, reopen=body.reopen)
    return _detail(db, ticket)


agents_router = APIRouter(prefix="/api/agents", tags=["desk: tickets"])


@agents_router.get("", response_model=list[AgentOut])
def agents(agent: CurrentAgent, db: DbSession) -> list[AgentOut]:
    """Agents on duty (for reassigning)."""
    return [AgentOut.of(a) for a in list_agents(db)]
