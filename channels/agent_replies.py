"""Agents' replies to escalated tickets for one web session, as the web page polls for them, and the bot's answers
to messages it could not take at the time (replayed once it was back: channels/replay.py)."""

from __future__ import annotations

from channels.schemas import AgentMessage, AgentMessages
from hotline.settings import Settings


def for_sender(settings: Settings, sender_id: str, since: str | None) -> AgentMessages:
    # Imported here: the casework package pulls in SQLAlchemy models the rest of the gateway does not need.
    from casework.db import session_scope
    from casework.enums import MessageKind
    from casework.journal import answers_for_sender
    from casework.tickets import messages_for_sender
    from channels.ratings import rating_token

    after_id = int(since) if since and since.isascii() and since.isdigit() else 0
    with session_scope(settings.database_url) as session:
        replies = messages_for_sender(session, sender_id, after_id=after_id)
        replayed = answers_for_sender(session, sender_id)  # given once: marked delivered
    messages = [
        AgentMessage(
            id=str(reply.message_id),
            ticket_number=reply.ticket_number,
            text=reply.text,
            sent_at=reply.created_at.isoformat(timespec="seconds"),
            kind=reply.kind,
            # The invitation to rate carries the ticket's signed rating token (channels/ratings.py).
            rating_token=rating_token(settings, reply.ticket_number)
            if reply.kind is MessageKind.RATING_INVITATION
            else None,
        )
        for reply in replies
    ]
    # The cursor counts agents' messages only; replayed answers are given once without one.
    next_since = messages[-1].id if messages else (str(after_id) if after_id else None)
    messages += [
        AgentMessage(id=f"Q{answer.reference}", ticket_number="", text=answer.answer, kind=REPLAYED_ANSWER,
                     sent_at=answer.created_at.isoformat(timespec="seconds"), reference=answer.reference)
        for answer in replayed
    ]
    return AgentMessages(messages=messages, next_since=next_since)


REPLAYED_ANSWER = "留言答复"
