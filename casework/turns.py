"""The turn log: one row per resident message the gateway relayed, and how the assistant dealt with it.

Written by the gateway after each reply (channels/turn_log.py); read by the supervisors' analytics
(casework/analytics.py). The sender is kept only as a keyed hash (counts conversations, names no one) and the
question masked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from casework.column_types import utc_now
from casework.enums import TurnOutcome
from casework.models import ConversationTurn
from hotline.privacy import mask_text

MAX_QUESTION_CHARS = 500


@dataclass(frozen=True)
class Turn:
    channel: str  # web | wechat
    conversation: str  # keyed hash of the sender id
    question: str
    outcome: TurnOutcome
    intent: str | None = None
    confidence: float | None = None
    band: str | None = None  # confident | related | refused, for answers from the documents
    answer_chunk_id: str | None = None  # the passage that answered
    answer_source: str | None = None
    ticket_number: str | None = None


def record_turn(session: Session, turn: Turn, *, now: datetime | None = None) -> None:
    session.add(
        ConversationTurn(
            occurred_at=now or utc_now(),
            channel=turn.channel[:16],
            conversation=turn.conversation[:32],
            intent=(turn.intent or None) and turn.intent[:64],
            confidence=turn.confidence,
            outcome=turn.outcome,
            band=(turn.band or None) and turn.band[:16],
            question=mask_text(turn.question)[:MAX_QUESTION_CHARS],
            answer_chunk_id=(turn.answer_chunk_id or None) and turn.answer_chunk_id[:128],
            answer_source=(turn.answer_source or None) and turn.answer_source[:300],
            ticket_number=turn.ticket_number,
        )
    )
