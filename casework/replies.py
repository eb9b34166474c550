"""What the ticket side sends to the resident's chat: agents' replies, the invitation to rate, 回访 feedback.

Messages are queued per ticket and delivered to the chat the ticket came from — and to the chats of tickets
merged into it, since those are the same resident. The web page fetches its messages (`messages_for_sender`,
fetched = delivered); the gateway's WeChat outbox claims the rest (`claim_undelivered`) and sends them as
customer-service messages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.column_types import utc_now
from casework.enums import MessageKind
from casework.models import Ticket, TicketMessage
from casework.senders import delivery_sender, stored_sender
from hotline.privacy import mask_text

RATING_INVITATION_TEXT = (
    "您的工单{number}已答复。请您对本次办理进行评价：满意、基本满意或不满意，也可以附上您的意见。"
)


@dataclass(frozen=True)
class AgentMessage:
    message_id: int
    ticket_number: str
    channel: str
    sender_id: str
    author: str
    text: str
    created_at: datetime
    kind: MessageKind = MessageKind.REPLY


def queue_message(
    ticket: Ticket, *, kind: MessageKind, author: str, text: str, now: datetime | None = None
) -> list[TicketMessage]:
    """One message per chat of this resident (the ticket's, and those of tickets merged into it)."""
    moment = now or utc_now()
    recipients: dict[tuple[str, str], str | None] = {}  # (channel, stored sender) → sealed reply address
    for each in [ticket, *ticket.duplicates]:
        recipients.setdefault((each.channel, each.sender_id), each.reply_to)
    messages = [
        TicketMessage(
            channel=channel,
            sender_id=sender,
            reply_to=reply_to,
            author=author,
            kind=kind,
            text=mask_text(text),
            created_at=moment,
        )
        for (channel, sender), reply_to in recipients.items()
    ]
    ticket.messages.extend(messages)
    return messages


def add_agent_message(
    session: Session,
    ticket: Ticket,
    *,
    author: str,
    text: str,
    kind: MessageKind = MessageKind.REPLY,
    now: datetime | None = None,
) -> AgentMessage:
    """Queue an agent's reply for delivery to the resident's chat; returns the first queued message."""
    messages = queue_message(ticket, kind=kind, author=author, text=text, now=now)
    session.flush()
    return _agent_message(messages[0], ticket.number)


def invite_rating(ticket: Ticket, *, now: datetime | None = None) -> None:
    """Ask the resident to rate, once the ticket is answered (the gateway adds the buttons or the link)."""
    queue_message(
        ticket,
        kind=MessageKind.RATING_INVITATION,
        author="system:评价邀请",
        text=RATING_INVITATION_TEXT.format(number=ticket.number),
        now=now,
    )


def messages_for_sender(
    session: Session, sender_id: str, *, after_id: int = 0, limit: int = 50, now: datetime | None = None
) -> list[AgentMessage]:
    """Messages to `sender_id` after message `after_id`, oldest first; fetched means delivered.

    Sender ids are namespaced (`web:…`, `wechat:…`) and issued by the gateway, so the id alone picks the
    resident's messages, whatever channel label the ticket was opened with.
    """
    rows = session.execute(
        select(TicketMessage, Ticket.number)
        .join(Ticket, Ticket.id == TicketMessage.ticket_id)
        .where(TicketMessage.sender_id == stored_sender(sender_id), TicketMessage.id > after_id)
        .order_by(TicketMessage.id)
        .limit(limit)
    ).all()
    _mark_delivered([message for message, _ in rows], now)
    return [_agent_message(message, number) for message, number in rows]


def claim_undelivered(
    session: Session, *, sender_prefix: str, limit: int = 20, now: datetime | None = None
) -> list[AgentMessage]:
    """Undelivered messages to senders whose id starts with `sender_prefix`, marked delivered in the caller's
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
        delivery_sender(message.sender_id, message.reply_to),  # the outbox needs the WeChat openid back
        message.author,
        message.text,
        message.created_at,
        MessageKind(message.kind),
    )
