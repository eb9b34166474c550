"""What the gateway must not lose, as tables: messages the bot could not take, feedback, undeliverable answers.

- `queue_message` keeps a resident's message while Rasa or the action server is down and returns the reference
  the resident is told; `claim_next_conversation` hands one conversation's queued messages to a replayer (one
  replayer per conversation at a time, whatever the number of gateway workers), `record_answer` keeps what the
  bot said when it came back, `answers_for_sender` gives a web resident their answers once (delivered);
- `record_feedback`: a resident's 👍/👎 on an answer;
- `record_undeliverable`: an answer WeChat would not deliver, for staff.

Texts are masked (hotline.privacy) before they are stored; senders are stored as `casework.senders.stored_sender`,
and a queued message's real sender id only sealed (casework.sealing), cleared once its answer is delivered.
Functions take the session and do not commit (`casework.db.session_scope` does).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from casework.column_types import utc_now
from casework.enums import QueuedMessageStatus
from casework.models import Feedback, QueuedMessage, UndeliverableAnswer
from casework.sealing import seal, unseal
from casework.senders import stored_sender
from hotline.privacy import mask_text

# A replayer that took a conversation and died leaves it to another after this long.
REPLAY_LEASE = timedelta(minutes=5)
# After this many replays that did not get an answer the message stays for staff.
MAX_REPLAY_ATTEMPTS = 10


def new_reference() -> str:
    """What a resident is told to quote: 8 hex digits, e.g. `3F9A01C2`."""
    return secrets.token_hex(4).upper()


def queue_message(session: Session, *, channel: str, sender_id: str, message: str, reason: str,
                  reference: str | None = None, now: datetime | None = None) -> str:
    """Keep a message the bot could not take; returns its reference (the one given, when retried from a spool)."""
    reference = reference or new_reference()
    if session.scalars(select(QueuedMessage.id).where(QueuedMessage.reference == reference)).first():
        return reference  # written before (a spooled entry applied twice)
    session.add(QueuedMessage(
        reference=reference, channel=channel, sender=stored_sender(sender_id), reply_to=seal(sender_id),
        message=mask_text(message), reason=mask_text(reason)[:300], status=QueuedMessageStatus.QUEUED,
        attempts=0, created_at=now or utc_now(),
    ))
    session.flush()
    return reference


@dataclass(frozen=True)
class QueuedView:
    id: int
    reference: str
    channel: str
    sender_id: str | None  # None when it can no longer be unsealed (IDENTIFIER_HASH_KEY changed)
    message: str
    created_at: datetime
    attempts: int


def claim_next_conversation(session: Session, *, now: datetime | None = None) -> list[QueuedView]:
    """The queued messages of the conversation waiting longest, oldest first, leased to this caller; [] if none.

    The lease (`replayed_at`) keeps other replayers off the conversation until REPLAY_LEASE has passed; on
    PostgreSQL the rows are also locked `FOR UPDATE SKIP LOCKED` while they are claimed."""
    now = now or utc_now()
    claimable = (
        QueuedMessage.status == QueuedMessageStatus.QUEUED,
        QueuedMessage.attempts < MAX_REPLAY_ATTEMPTS,
        or_(QueuedMessage.replayed_at.is_(None), QueuedMessage.replayed_at < now - REPLAY_LEASE),
    )
    first = session.scalars(
        select(QueuedMessage).where(*claimable).order_by(QueuedMessage.id).limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    if first is None:
        return []
    rows = session.scalars(
        select(QueuedMessage).where(*claimable, QueuedMessage.sender == first.sender)
        .order_by(QueuedMessage.id).with_for_update(skip_locked=True)
    ).all()
    for row in rows:
        row.replayed_at = now
        row.attempts += 1
    session.flush()
    return [QueuedView(r.id, r.reference, r.channel, unseal(r.reply_to) if r.reply_to else None, r.message,
                       r.created_at, r.attempts) for r in rows]


def release(session: Session, message_id: int) -> None:
    """Give a claimed message back to the queue at once (the bot is still down): the next replayer may take it,
    and this try does not count towards MAX_REPLAY_ATTEMPTS (an outage of any length loses no message)."""
    row = session.get(QueuedMessage, message_id)
    if row is not None and row.status == QueuedMessageStatus.QUEUED:
        row.replayed_at = None
        row.attempts = max(0, row.attempts - 1)


def record_answer(session: Session, message_id: int, answer: str, *, delivered: bool,
                  now: datetime | None = None) -> None:
    """The bot's answer to a replayed message: delivered already (WeChat), or waiting for the web page's poll."""
    row = session.get(QueuedMessage, message_id)
    if row is None:
        return
    row.answer = mask_text(answer)
    if delivered:
        _delivered(row, now or utc_now())
    else:
        row.status = QueuedMessageStatus.ANSWERED


def record_undelivered_answer(session: Session, message_id: int, answer: str, reason: str) -> None:
    """The bot answered, but the answer could not reach the resident: staff follow up."""
    row = session.get(QueuedMessage, message_id)
    if row is not None:
        row.answer = mask_text(answer)
        row.status = QueuedMessageStatus.UNDELIVERABLE
        row.reason = mask_text(reason)[:300]
        row.reply_to = None


@dataclass(frozen=True)
class AnswerView:
    reference: str
    message: str
    answer: str
    created_at: datetime


def answers_for_sender(session: Session, sender_id: str, *, now: datetime | None = None) -> list[AnswerView]:
    """A web resident's answers to queued messages that have not reached them yet; marked delivered."""
    rows = session.scalars(
        select(QueuedMessage)
        .where(QueuedMessage.sender == stored_sender(sender_id), QueuedMessage.status == QueuedMessageStatus.ANSWERED)
        .order_by(QueuedMessage.id)
        .with_for_update(skip_locked=True)
    ).all()
    for row in rows:
        _delivered(row, now or utc_now())
    return [AnswerView(r.reference, r.message, r.answer or "", r.created_at) for r in rows]


def _delivered(row: QueuedMessage, now: datetime) -> None:
    row.status = QueuedMessageStatus.DELIVERED
    row.delivered_at = now
    row.reply_to = None  # nothing more goes to this sender from here


def queued_messages(session: Session, *, statuses: tuple[QueuedMessageStatus, ...] = (QueuedMessageStatus.QUEUED,),
                    limit: int = 100) -> list[QueuedMessage]:
    """For staff (`hotline queue list`): the messages in the given states, oldest first."""
    return list(session.scalars(
        select(QueuedMessage).where(QueuedMessage.status.in_(statuses)).order_by(QueuedMessage.id).limit(limit)
    ).all())


def record_feedback(session: Session, *, sender_id: str, rating: str, answer: str, question: str | None,
                    comment: str | None, now: datetime | None = None) -> None:
    session.add(Feedback(
        created_at=now or utc_now(), sender=stored_sender(sender_id), rating=rating, answer=mask_text(answer),
        question=mask_text(question) if question else None, comment=mask_text(comment)[:500] if comment else None,
    ))


def record_undeliverable(session: Session, *, sender_id: str, text: str, reason: str,
                         errcode: int | None = None, ticket_number: str | None = None,
                         now: datetime | None = None) -> None:
    session.add(UndeliverableAnswer(
        created_at=now or utc_now(), sender=stored_sender(sender_id), ticket_number=ticket_number,
        errcode=errcode, reason=mask_text(reason)[:300], text=mask_text(text),
    ))
