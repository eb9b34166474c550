"""The resident asks for a person, complains or reports fraud (a ticket), or rates the service afterwards."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import actor, latest_entity, latest_intent, latest_text
from actions.domain.phrasing import asks_how_filing_works
from actions.handover import escalate
from actions.policy_answers import ActionAnswerPolicy
from casework.db import session_scope
from casework.enums import Rating, TicketCategory
from casework.tickets import IllegalTransition, find_ticket, rate_ticket

CATEGORY_BY_INTENT: dict[str, TicketCategory] = {
    "request_human": TicketCategory.HUMAN_AGENT,
    "complaint": TicketCategory.COMPLAINT,
    "report_fraud": TicketCategory.FRAUD_REPORT,
}
# Intents that file something the resident states; a request for a person is never a question about rules.
FILED_BY_STATEMENT = frozenset({"complaint", "report_fraud"})


class ActionEscalateToHuman(Action):
    """request_human, complaint, report_fraud → a ticket of the matching category.

    A question about how reports or complaints are handled ("举报的线索都会查吗") is not a report: the documents
    answer it, with a button to file one after all.
    """

    def name(self) -> str:
        return "action_escalate_to_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intent = latest_intent(tracker) or ""
        if intent in FILED_BY_STATEMENT and asks_how_filing_works(latest_text(tracker)):
            return await ActionAnswerPolicy().run(dispatcher, tracker, domain)
        return escalate(dispatcher, tracker, CATEGORY_BY_INTENT.get(intent, TicketCategory.HUMAN_AGENT))


class ActionRecordRating(Action):
    """Store the resident's rating on their ticket when it can be rated; the thanks is `utter_rating_thanks`."""

    def name(self) -> str:
        return "action_record_rating"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        number = tracker.get_slot("ticket_number")
        rating = rating_from_text(latest_entity(tracker, "rating") or latest_text(tracker))
        if not number or rating is None:
            return []
        with session_scope() as session:
            ticket = find_ticket(session, number)
            if ticket is None:
                return []
            try:
                rate_ticket(ticket, rating, actor(tracker))
            except IllegalTransition:
                # The ticket is still being handled: the follow-up call after 办结 collects the rating.
                dispatcher.utter_message(
                    text=f"您的工单{number}还在办理中，办结后工作人员回访时会再请您评价。"
                )
        return []


_POOR = re.compile(r"差|不满意|很不好|不好|[12]\s*分|一分|两分|二分|[12]\s*星")
_FAIR = re.compile(r"中|一般|还行|凑合|基本满意|3\s*分|三分|3\s*星")
_GOOD = re.compile(r"好|满意|不错|[45]\s*分|四分|五分|[45]\s*星|👍")


def rating_from_text(text: str) -> Rating | None:
    """"差评" → 差, "还行" → 中, "5分" → 好; None when no rating can be read."""
    for pattern, rating in ((_POOR, Rating.POOR), (_FAIR, Rating.FAIR), (_GOOD, Rating.GOOD)):
        if pattern.search(text):
            return rating
    return None
