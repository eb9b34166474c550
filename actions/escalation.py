"""Handing a conversation to a person: a ticket (工单) with the transcript, and a rating afterwards."""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import actor, input_channel, latest_entity, latest_intent, transcript
from actions.domain.tickets import IllegalTransition, find_ticket, open_ticket, rate_ticket
from actions.domain.verification import load_verified
from actions.store.db import session_scope
from actions.store.enums import Rating, TicketCategory

logger = logging.getLogger(__name__)

CATEGORY_BY_INTENT: dict[str, TicketCategory] = {
    "request_human": TicketCategory.HUMAN_AGENT,
    "complaint": TicketCategory.COMPLAINT,
    "report_fraud": TicketCategory.FRAUD_REPORT,
}

# The first sentence depends on why the conversation is handed over; the rest (number, time limit) does not.
OPENING_BY_CATEGORY: dict[TicketCategory, str] = {
    TicketCategory.HUMAN_AGENT: "好的，已为您转接人工服务并登记了工单。",
    TicketCategory.COMPLAINT: "您反映的问题我们已经记录，并为您登记了投诉工单。",
    TicketCategory.FRAUD_REPORT: "感谢您的举报，已为您登记举报工单。",
    TicketCategory.VERIFICATION_FAILED: "已为您登记人工核实工单。",
    TicketCategory.UNANSWERED: "这个问题我暂时无法从官方文件中找到答案，已为您登记工单，转交工作人员解答。",
}


def escalate(dispatcher: CollectingDispatcher, tracker: Tracker, category: TicketCategory) -> list[EventType]:
    """Open a ticket for this conversation, tell the resident its number and time limit; returns the events."""
    resident_id = tracker.get_slot("verified_resident_id") if tracker.get_slot("verified") else None
    with session_scope() as session:
        resident = load_verified(session, int(resident_id)) if resident_id is not None else None
        receipt = open_ticket(
            session,
            category=category,
            transcript=transcript(tracker),
            channel=input_channel(tracker),
            sender_id=tracker.sender_id,
            resident=resident,
        )
    logger.info("ticket %s opened (%s) for %s", receipt.number, category, actor(tracker))
    dispatcher.utter_message(
        text=(
            f"{OPENING_BY_CATEGORY[category]}工单号：{receipt.number}。"
            f"我们会在{receipt.time_limit_text}（{receipt.due_text}），请您保持联系方式畅通。"
            "对话记录已附在工单里，您不用再重复说明。"
        ),
        json_message={"ticket": {"number": receipt.number, "category": str(category),
                                 "due_at": receipt.due_at.isoformat(), "time_limit": receipt.time_limit_text}},
    )
    return [SlotSet("ticket_number", receipt.number)]


class ActionEscalateToHuman(Action):
    """request_human, complaint, report_fraud → a ticket of the matching category."""

    def name(self) -> str:
        return "action_escalate_to_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        category = CATEGORY_BY_INTENT.get(latest_intent(tracker) or "", TicketCategory.HUMAN_AGENT)
        return escalate(dispatcher, tracker, category)


class ActionRecordRating(Action):
    """Store the resident's rating on their ticket when it can be rated; the thanks is `utter_rating_thanks`."""

    def name(self) -> str:
        return "action_record_rating"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        number = tracker.get_slot("ticket_number")
        rating = rating_from_text(latest_entity(tracker, "rating") or tracker.latest_message.get("text") or "")
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
