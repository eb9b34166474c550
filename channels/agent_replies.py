"""Agents' replies to escalated tickets, read from the data layer's `ticket_messages` for one sender.

Sender ids are namespaced (`web:…`, `wechat:…`) and issued by the gateway, so the sender id alone picks the
resident's messages, whatever channel label the ticket was opened with. Fetching marks them delivered.
"""

from __future__ import annotations

from datetime import UTC, datetime

from channels.schemas import AgentMessage, AgentMessages
from hotline.settings import Settings


def for_sender(settings: Settings, sender_id: str, since: str | None) -> AgentMessages:
    # Imported here: the data layer pulls in SQLAlchemy models the rest of the gateway does not need.
    from sqlalchemy import select

    from actions.store.db import session_scope
    from actions.store.models import Ticket, TicketMessage

    after_id = int(since) if since and since.isdigit() else 0
    with session_scope(settings.database_url) as session:
        rows = session.execute(
            select(TicketMessage, Ticket.number)
            .join(Ticket, Ticket.id == TicketMessage.ticket_id)
            .where(TicketMessage.sender_id == sender_id, TicketMessage.id > after_id)
            .order_by(TicketMessage.id)
            .limit(50)
        ).all()
        now = datetime.now(UTC)
        messages = []
        for message, number in rows:
            if message.delivered_at is None:
                message.delivered_at = now
            messages.append(
                AgentMessage(
                    id=str(message.id),
                    ticket_number=number,
                    text=message.text,
                    sent_at=message.created_at.isoformat(timespec="seconds"),
                )
            )
    next_since = messages[-1].id if messages else (str(after_id) if after_id else None)
    return AgentMessages(messages=messages, next_since=next_since)
