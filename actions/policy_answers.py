"""Answering policy questions from the official documents, with citations, or abstaining honestly."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import latest_intent
from actions.domain.answers import compose_policy_answer
from actions.domain.followups import FollowUp, rewrite_follow_up
from actions.escalation import escalate
from actions.knowledge import knowledge_base, start_loading
from actions.store.enums import TicketCategory
from knowledge_base.errors import EmptyQuestionError
from knowledge_base.regions import detect_region
from knowledge_base.types import SearchResult

logger = logging.getLogger(__name__)

# Two "not in the documents" in a row: the resident needs a person, not a third attempt.
ABSTENTIONS_BEFORE_ESCALATION = 2

# The action server imports this module at start: begin loading the index and model right away, so the
# first question does not pay for it and health checks answer meanwhile.
start_loading()


class ActionAnswerPolicy(Action):
    def name(self) -> str:
        return "action_answer_policy"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = (tracker.latest_message.get("text") or "").strip()
        question = rewrite_follow_up(
            text,
            previous_topic=tracker.get_slot("last_policy_topic"),
            previous_region=tracker.get_slot("last_region"),
            detect_region=detect_region,
        )
        if question.is_follow_up:
            logger.info("follow-up %r rewritten as %r (region %s)", text, question.question, question.region)
        try:
            result = await asyncio.to_thread(_search, question)
        except EmptyQuestionError as error:
            dispatcher.utter_message(text=str(error))
            return []

        answer = compose_policy_answer(result)
        if not answer.abstain:
            dispatcher.utter_message(text=answer.text, json_message=answer.payload)
            return [
                SlotSet("last_policy_topic", question.question),
                SlotSet("last_region", result.region or question.region),
                SlotSet("abstain_streak", 0.0),
            ]

        streak = int(tracker.get_slot("abstain_streak") or 0) + 1
        if streak < ABSTENTIONS_BEFORE_ESCALATION:
            dispatcher.utter_message(text=answer.text, buttons=answer.buttons, json_message=answer.payload)
            return [SlotSet("abstain_streak", float(streak))]

        # Second abstention in a row: no buttons to click, a ticket is opened right away.
        dispatcher.utter_message(text=answer.text, json_message=answer.payload)
        logger.info("abstained %d times in a row (latest intent %s): escalating", streak, latest_intent(tracker))
        return [SlotSet("abstain_streak", 0.0), *escalate(dispatcher, tracker, TicketCategory.UNANSWERED)]


def _search(question: FollowUp) -> SearchResult:
    return knowledge_base().search(question.question, region=question.region)
