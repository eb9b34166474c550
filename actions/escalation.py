"""The resident asks for a person, complains or reports fraud (a ticket), or rates its handling afterwards."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.conversation import actor, latest_entity, latest_intent, latest_text
from actions.domain.phrasing import asks_about_rating_rules, asks_how_filing_works
from actions.handover import escalate
from actions.policy_answers import ActionAnswerPolicy
from casework.assist import CATEGORY_BY_INTENT
from casework.db import session_scope
from casework.enums import Rating, TicketCategory
from casework.lifecycle import RATEABLE_STATUSES
from casework.models import Ticket
from casework.tickets import (
    IllegalTransition,
    due_text,
    find_own_ticket,
    latest_rateable_ticket,
    rate_ticket,
)

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
    """The resident rates their answered ticket: 满意 / 基本满意 close it, 不满意 opens a 回访 (casework.ratings).

    The ticket is the one this conversation opened, else the resident's latest answered one waiting for a rating;
    only tickets opened from this same chat can be rated.
    """

    def name(self) -> str:
        return "action_record_rating"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = latest_text(tracker)
        if asks_about_rating_rules(text):
            # "差评了多久有人回访" asks how ratings are handled: the documents answer it, nothing is rated.
            return await ActionAnswerPolicy().run(dispatcher, tracker, domain)
        rating = rating_from_text(latest_entity(tracker, "rating") or text)
        if rating is None:
            dispatcher.utter_message(response="utter_ask_rating")
            return []
        with session_scope() as session:
            ticket = _ticket_to_rate(session, tracker)
            if ticket is None:
                dispatcher.utter_message(response="utter_no_ticket_to_rate")
                return []
            try:
                outcome = rate_ticket(ticket, rating, actor(tracker), "" if text.startswith("/") else text)
            except IllegalTransition as refusal:
                dispatcher.utter_message(text=str(refusal))
                return []
        if outcome.callback_due is not None:
            dispatcher.utter_message(
                text=CALLBACK_PROMISE.format(number=outcome.number, due=due_text(outcome.callback_due))
            )
        else:
            dispatcher.utter_message(response="utter_rating_thanks")
        return []


CALLBACK_PROMISE = (
    "很抱歉这次没有让您满意。我们已为工单{number}安排回访，工作人员会在{due}与您联系，并反馈整改情况。"
)


def _ticket_to_rate(session: Session, tracker: Tracker) -> Ticket | None:
    number = tracker.get_slot("ticket_number")
    own = find_own_ticket(session, number, sender_id=tracker.sender_id) if number else None
    if own is not None and own.rating is None and own.status in RATEABLE_STATUSES:
        return own
    return latest_rateable_ticket(session, tracker.sender_id) or own


_POOR = re.compile(r"不\S{0,2}满意|差评|很差|太差|不好|不行|[12]\s*[分星]|[一两二]\s*[分星颗]")
_FAIR = re.compile(r"基本满意|一般|还行|凑合|还可以|中评|3\s*[分星]|三\s*[分星颗]")
_GOOD = re.compile(r"满意|好评|很好|挺好|不错|满分|[45]\s*[分星]|[四五]\s*[分星颗]|👍")


def rating_from_text(text: str) -> Rating | None:
    """ "差评" → 不满意, "还行" → 基本满意, "5星" → 满意; None when no rating can be read."""
    for pattern, rating in (
        (_POOR, Rating.DISSATISFIED),
        (_FAIR, Rating.BASICALLY_SATISFIED),
        (_GOOD, Rating.SATISFIED),
    ):
        if pattern.search(text):
            return rating
    return None
