"""Handing a conversation to a person: open a ticket (工单) with the transcript and tell the resident its number."""

from __future__ import annotations

import logging

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import actor, input_channel, transcript
from casework.db import session_scope
from casework.enums import TicketCategory
from casework.tickets import open_ticket
from casework.verification import load_verified

logger = logging.getLogger(__name__)

# The first sentence depends on why the conversation is handed over; the rest (number, time limit) does not.
OPENING_BY_CATEGORY: dict[TicketCategory, str] = {
    TicketCategory.HUMAN_AGENT: "好的，已为您转接人工服务并登记了工单。",
    TicketCategory.COMPLAINT: "您反映的问题我们已经记录，并为您登记了投诉工单。",
    TicketCategory.FRAUD_REPORT: "感谢您的举报，已为您登记举报工单。",
    TicketCategory.VERIFICATION_FAILED: "已为您登记人工核实工单。",
    TicketCategory.UNANSWERED: "这个问题我暂时无法从官方文件中找到答案，已为您登记工单，转交工作人员解答。",
}
# A further unanswered question within minutes joins the open ticket (casework.tickets.UNANSWERED_MERGE_WINDOW).
APPENDED_TEXT = "这个问题我也暂时无法从官方文件中找到答案，已补充到您刚才的工单里，由工作人员一并解答。"


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
            f"{APPENDED_TEXT if receipt.appended else OPENING_BY_CATEGORY[category]}工单号：{receipt.number}。"
            f"我们会在{receipt.time_limit_text}（{receipt.due_text}），请您保持联系方式畅通。"
            "对话记录已附在工单里，您不用再重复说明。"
        ),
        json_message={"ticket": {"number": receipt.number, "category": str(category),
                                 "due_at": receipt.due_at.isoformat(), "time_limit": receipt.time_limit_text}},
    )
    return [SlotSet("ticket_number", receipt.number)]
