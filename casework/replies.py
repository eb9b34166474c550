"""Messages agents send back to residents, queued per ticket and delivered to the chat the ticket came from.

The web page fetches its messages (`messages_for_sender`, fetched = delivered); the gateway's WeChat outbox
claims the rest (`claim_undelivered`) and sends them as customer-service messages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.column_types import utc_now
from casework.models import Ticket, TicketMessage
from hotline.privacy import mask_text


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
