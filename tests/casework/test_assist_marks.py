"""Agent assist's casework: the category an intent suggests; suggestions shown, inserted and marked, counted."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from casework.agents import create_agent, identity
from casework.assist import (
    ShownSuggestion,
    UnknownSuggestion,
    assist_counts,
    mark_suggestion,
    record_shown,
    suggested_category,
)
from casework.column_types import CHINA_TZ
from casework.enums import TicketCategory
from casework.handling import NotPermitted
from casework.models import AssistSuggestion

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=CHINA_TZ)


@pytest.mark.parametrize(
    ("intent", "answerable", "category"),
    [
        ("complaint", True, TicketCategory.COMPLAINT),
        ("report_fraud", False, TicketCategory.FRAUD_REPORT),
        ("policy_question", True, TicketCategory.HUMAN_AGENT),
        ("policy_question", False, TicketCategory.UNANSWERED),
        (None, False, TicketCategory.UNANSWERED),
    ],
)
def test_the_suggested_category_follows_the_intent_and_whether_the_documents_answer(
    intent: str | None, answerable: bool, category: TicketCategory
) -> None:
    assert suggested_category(intent, answerable) is category


def test_shown_inserted_and_marked_suggestions_are_counted(session: Session) -> None:
    wang = identity(
        create_agent(session, username="wang", display_name="王芳", role="坐席", password="a-long-password")
    )
    zhao = identity(
        create_agent(session, username="zhao", display_name="赵强", role="坐席", password="a-long-password")
    )
    shown = [ShownSuggestion(f"doc-{i}", "《文件》 · 第一章", 0.9 - i / 10) for i in range(3)]
    ids = record_shown(session, wang, "身份证360102198503129014的报销", shown, now=NOW)
    assert len(ids) == 3
    mark_suggestion(session, ids[0], "inserted", wang, now=NOW)
    mark_suggestion(session, ids[0], "useful", wang, now=NOW)
    mark_suggestion(session, ids[2], "wrong", wang, now=NOW)
    with pytest.raises(NotPermitted):
        mark_suggestion(session, ids[1], "wrong", zhao)
    with pytest.raises(UnknownSuggestion):
        mark_suggestion(session, 999_999, "useful", wang)
    counts = assist_counts(session, since=NOW - timedelta(hours=1), until=NOW + timedelta(hours=1))
    assert (counts.shown, counts.inserted, counts.useful, counts.wrong, counts.top_inserted) == (
        3,
        1,
        1,
        1,
        1,
    )
    assert counts.insert_rate == pytest.approx(1 / 3)
    assert "3601**********9014" in session.get(AssistSuggestion, ids[0]).query
