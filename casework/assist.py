"""Agent assist's casework: the ticket category an intent suggests, the suggestions agents were shown, and what
they did with them (inserted into a reply, marked useful or wrong), counted so the suggestions can be measured.

The suggestions themselves come from the knowledge base in the action server (actions/assist_api.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from casework.agents import AgentIdentity
from casework.column_types import utc_now
from casework.enums import SuggestionVerdict, TicketCategory
from casework.handling import NotPermitted
from casework.models import AssistSuggestion
from hotline.privacy import mask_text

# Intents that file something: the category their ticket gets (the bot's escalation uses the same table).
CATEGORY_BY_INTENT: dict[str, TicketCategory] = {
    "request_human": TicketCategory.HUMAN_AGENT,
    "complaint": TicketCategory.COMPLAINT,
    "report_fraud": TicketCategory.FRAUD_REPORT,
}


def suggested_category(intent: str | None, answerable: bool) -> TicketCategory:
    """The category an agent would file this under: by the filing intent, else by whether the documents
    answer it (a question they cannot answer is 无法回答; anything else a consultation, 转人工咨询)."""
    if intent in CATEGORY_BY_INTENT:
        return CATEGORY_BY_INTENT[intent]
    return TicketCategory.HUMAN_AGENT if answerable else TicketCategory.UNANSWERED


@dataclass(frozen=True)
class ShownSuggestion:
    chunk_id: str
    source: str
    confidence: float


def record_shown(
    session: Session,
    agent: AgentIdentity,
    query: str,
    suggestions: Sequence[ShownSuggestion],
    *,
    ticket_id: int | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Store what was shown (masked query, passage, rank); returns the ids the desk marks them by."""
    moment = now or utc_now()
    rows = [
        AssistSuggestion(
            shown_at=moment,
            agent_id=agent.id,
            ticket_id=ticket_id,
            query=mask_text(query),
            rank=rank,
            chunk_id=s.chunk_id[:128],
            source=s.source[:300],
            confidence=float(s.confidence),
        )
        for rank, s in enumerate(suggestions, start=1)
    ]
    session.add_all(rows)
    session.flush()
    return [row.id for row in rows]


class UnknownSuggestion(LookupError):
    """No suggestion with that id."""


def mark_suggestion(
    session: Session, suggestion_id: int, mark: str, agent: AgentIdentity, *, now: datetime | None = None
) -> AssistSuggestion:
    """`inserted` (put into a reply), `useful` or `wrong`; a later useful/wrong replaces an earlier one."""
    row = session.get(AssistSuggestion, suggestion_id)
    if row is None:
        raise UnknownSuggestion(suggestion_id)
    if row.agent_id != agent.id and not agent.is_supervisor:
        raise NotPermitted("只能标记展示给自己的建议答案。")
    moment = now or utc_now()
    if mark == "inserted":
        row.inserted_at = row.inserted_at or moment
    else:
        row.verdict = SuggestionVerdict.USEFUL if mark == "useful" else SuggestionVerdict.WRONG
        row.verdict_at = moment
    return row


@dataclass(frozen=True)
class AssistCounts:
    shown: int
    inserted: int
    useful: int
    wrong: int
    top_inserted: int  # inserted suggestions that were ranked first

    @property
    def insert_rate(self) -> float | None:
        return self.inserted / self.shown if self.shown else None


def assist_counts(session: Session, *, since: datetime, until: datetime | None = None) -> AssistCounts:
    until = until or utc_now()
    window = (AssistSuggestion.shown_at >= since, AssistSuggestion.shown_at < until)

    def count(*conditions: ColumnElement[bool]) -> int:
        return int(
            session.scalar(select(func.count()).select_from(AssistSuggestion).where(*window, *conditions))
        )

    return AssistCounts(
        shown=count(),
        inserted=count(AssistSuggestion.inserted_at.is_not(None)),
        useful=count(AssistSuggestion.verdict == SuggestionVerdict.USEFUL),
        wrong=count(AssistSuggestion.verdict == SuggestionVerdict.WRONG),
        top_inserted=count(AssistSuggestion.inserted_at.is_not(None), AssistSuggestion.rank == 1),
    )
