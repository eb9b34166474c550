"""What agents do to tickets on the desk: claim, reply, change the status, note, return, reassign, merge, 回访.

Who may do what is decided here, not in the gateway: the handler (assignee) or a supervisor acts on a ticket;
anyone logged in may claim an unassigned ticket or add an internal note. Refusals raise `NotPermitted` (the
gateway answers 403) or `IllegalTransition` (409); both carry a Chinese message for the desk.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from casework.agents import AgentIdentity, find_agent
from casework.callbacks import complete_callback
from casework.column_types import utc_now
from casework.enums import TicketEventKind, TicketStatus
from casework.lifecycle import FINISHED_STATUSES, IllegalTransition, record_event, transition
from casework.models import Ticket, TicketEvent, TicketNote
from casework.replies import AgentMessage, add_agent_message, invite_rating
from hotline.privacy import mask_text

MAX_TEXT_CHARS = 4000


class NotPermitted(PermissionError):
    """The agent may not do this to this ticket; the message (Chinese) says why."""


def claim(ticket: Ticket, agent: AgentIdentity, *, now: datetime | None = None) -> None:
    """Take a ticket from the pool; a newly received or dispatched ticket moves to 办理."""
    _not_merged(ticket)
    if ticket.assignee_id == agent.id:
        return
    if ticket.assignee_id is not None:
        raise IllegalTransition(
            f"工单{ticket.number}已由{ticket.assignee.display_name}认领；需要时请主管改派。"
        )
    if TicketStatus(ticket.status) in FINISHED_STATUSES:
        raise IllegalTransition(f"工单{ticket.number}已{ticket.status}，无需认领。")
    now = now or utc_now()
    ticket.assignee_id = agent.id
    record_event(ticket, TicketEventKind.CLAIM, agent.actor, f"{agent.display_name}认领", now=now)
    if TicketStatus(ticket.status) in (TicketStatus.RECEIVED, TicketStatus.DISPATCHED):
        transition(ticket, TicketStatus.HANDLING, agent.actor, "认领后办理", now=now)


def reply(
    session: Session,
    ticket: Ticket,
    agent: AgentIdentity,
    text: str,
    *,
    resolve: bool = False,
    now: datetime | None = None,
) -> AgentMessage:
    """Send a reply to the resident's chat; with `resolve`, the ticket is answered (答复) and rating invited."""
    _require_handler(ticket, agent)
    message = add_agent_message(session, ticket, author=agent.actor, text=_text(text, "回复内容"), now=now)
    if resolve:
        change_status(ticket, agent, TicketStatus.ANSWERED, "已答复居民", now=now)
    return message


def change_status(
    ticket: Ticket,
    agent: AgentIdentity,
    target: TicketStatus | str,
    note: str = "",
    *,
    now: datetime | None = None,
) -> TicketEvent:
    _require_handler(ticket, agent)
    if TicketStatus(target) is TicketStatus.DISPATCHED and TicketStatus(ticket.status) is TicketStatus.HANDLING:
        raise IllegalTransition("办理中的工单请用“退回”并说明原因，它会回到待派单的队列。")
    event = transition(ticket, target, agent.actor, note, now=now)
    if TicketStatus(target) is TicketStatus.ANSWERED:
        invite_rating(ticket, now=now)
    return event


def set_summary(ticket: Ticket, agent: AgentIdentity, summary: str) -> None:
    """The handling summary (办理摘要) the queue shows instead of the resident's first words."""
    _require_handler(ticket, agent)
    ticket.summary = mask_text(summary.strip())[:500] or None


def add_note(ticket: Ticket, agent: AgentIdentity, text: str, *, now: datetime | None = None) -> TicketNote:
    """An internal note: for the desk only, never sent to the resident."""
    note = TicketNote(author=agent.actor, text=mask_text(_text(text, "备注")), created_at=now or utc_now())
    ticket.notes.append(note)
    return note


def return_to_pool(ticket: Ticket, agent: AgentIdentity, reason: str, *, now: datetime | None = None) -> None:
    """Give the ticket back for someone else to claim, saying why (退回)."""
    _require_handler(ticket, agent)
    reason = _text(reason, "退回原因")
    now = now or utc_now()
    ticket.assignee_id = None
    record_event(ticket, TicketEventKind.RETURN, agent.actor, f"退回待派：{reason}", now=now)
    if TicketStatus(ticket.status) is TicketStatus.HANDLING:
        transition(ticket, TicketStatus.DISPATCHED, agent.actor, f"退回：{reason}", now=now)


def reassign(
    session: Session,
    ticket: Ticket,
    agent: AgentIdentity,
    to_username: str,
    reason: str = "",
    *,
    now: datetime | None = None,
) -> None:
    """Hand the ticket to another agent (改派): its handler or a supervisor may."""
    _require_handler(ticket, agent)
    target = find_agent(session, to_username)
    if target is None or not target.active:
        raise IllegalTransition(f"没有名为“{to_username}”的在岗坐席。")
    before = ticket.assignee.display_name if ticket.assignee else "待认领"
    ticket.assignee_id, ticket.assignee = target.id, target
    note = f"{before} → {target.display_name}" + (f"：{mask_text(reason.strip())}" if reason.strip() else "")
    record_event(ticket, TicketEventKind.REASSIGN, agent.actor, note, now=now)


def merge(
    duplicate: Ticket, into: Ticket, agent: AgentIdentity, note: str = "", *, now: datetime | None = None
) -> None:
    """Merge a duplicate (same resident, same topic) into `into`: its transcript is appended there, it leaves
    the queue, and replies on `into` reach the duplicate's chat too."""
    _require_handler(duplicate, agent)
    if duplicate.id == into.id:
        raise IllegalTransition("不能把工单合并到它自己。")
    for ticket in (duplicate, into):
        _not_merged(ticket)
        if TicketStatus(ticket.status) in FINISHED_STATUSES:
            raise IllegalTransition(f"工单{ticket.number}已{ticket.status}，不能再合并。")
    if not _same_resident(duplicate, into):
        raise IllegalTransition(
            f"工单{duplicate.number}与{into.number}不是同一居民提出的（会话和核验身份都不同），不能合并。"
        )
    now = now or utc_now()
    duplicate.merged_into_id, duplicate.merged_into, duplicate.assignee_id = into.id, into, None
    into.transcript += f"\n—— 以下并入自工单{duplicate.number} ——\n{duplicate.transcript}"
    extra = f"：{mask_text(note.strip())}" if note.strip() else ""
    record_event(
        duplicate, TicketEventKind.MERGE, agent.actor, f"作为重复工单并入{into.number}{extra}", now=now
    )
    record_event(into, TicketEventKind.MERGE, agent.actor, f"并入重复工单{duplicate.number}{extra}", now=now)


def finish_callback(
    ticket: Ticket, agent: AgentIdentity, outcome: str, *, reopen: bool = False, now: datetime | None = None
) -> None:
    _require_handler(ticket, agent)
    complete_callback(ticket, agent.actor, _text(outcome, "回访情况"), reopen=reopen, now=now)


def _require_handler(ticket: Ticket, agent: AgentIdentity) -> None:
    _not_merged(ticket)
    if agent.is_supervisor or ticket.assignee_id == agent.id:
        return
    if ticket.assignee_id is None:
        raise NotPermitted(f"工单{ticket.number}尚未认领，请先认领再办理。")
    raise NotPermitted(f"工单{ticket.number}由{ticket.assignee.display_name}办理，只有办理人或主管可以操作。")


def _not_merged(ticket: Ticket) -> None:
    if ticket.merged_into is not None:
        raise IllegalTransition(
            f"工单{ticket.number}已并入工单{ticket.merged_into.number}，请在该工单上办理。"
        )


def _same_resident(a: Ticket, b: Ticket) -> bool:
    if a.resident_id is not None and a.resident_id == b.resident_id:
        return True
    return a.sender_id == b.sender_id


def _text(text: str, what: str) -> str:
    value = text.strip()
    if not value:
        raise IllegalTransition(f"{what}不能为空。")
    if len(value) > MAX_TEXT_CHARS:
        raise IllegalTransition(f"{what}过长，请控制在 {MAX_TEXT_CHARS} 字以内。")
    return value
