"""Handing a conversation to a person: open a ticket (工单) with the transcript and tell the resident its number."""

from __future__ import annotations

import logging
import uuid

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import actor, input_channel, transcript
from casework.enums import TicketCategory
from casework.outbox import SpooledTicket, open_ticket_durably, request_key, ticket_spool

logger = logging.getLogger(__name__)

# The first sentence depends on why the conversation is handed over; the rest (number, time limit) does not.
OPENING_BY_CATEGORY: dict[TicketCategory, str] = {
    TicketCategory.HUMAN_AGENT: "好的，已为您转接人工服务并登记了工单。",
    TicketCategory.COMPLAINT: "您反映的问题我们已经记录，并为您登记了投诉工单。",
    TicketCategory.FRAUD_REPORT: "感谢您的举报，已为您登记举报工单。",
    TicketCategory.VERIFICATION_FAILED: "已为您登记人工核实工单。",
    TicketCategory.UNANSWERED: "这个问题我暂时无法从官方文件中找到答案，已为您登记工单，转交工作人员解答。",
}
SPOOLED_TEXT = (
    "系统正在恢复，工单号稍后生成（登记号 {reference}）。您的诉求和对话记录已经保存，不会丢失；"
    "稍后发送“我的工单办得怎么样了”即可查看工单号和办理时限。"
)
# A further unanswered question within minutes joins the open ticket (casework.tickets.UNANSWERED_MERGE_WINDOW).
APPENDED_TEXT = "这个问题我也暂时无法从官方文件中找到答案，已补充到您刚才的工单里，由工作人员一并解答。"


def escalate(dispatcher: CollectingDispatcher, tracker: Tracker, category: TicketCategory) -> list[EventType]:
    """Open a ticket for this conversation, tell the resident its number and time limit; returns the events."""
    resident_id = tracker.get_slot("verified_resident_id") if tracker.get_slot("verified") else None
    # Keyed by the message that asked: the same message handled twice (a turn retried on another Rasa server)
    # gives one ticket; while the database is down the ticket waits in the local spool (casework.outbox).
    message_id = str(tracker.latest_message.get("message_id") or uuid.uuid4().hex)
    receipt = open_ticket_durably(
        ticket_spool(),
        category=category,
        transcript=transcript(tracker),
        channel=input_channel(tracker),
        sender_id=tracker.sender_id,
        resident_id=int(resident_id) if resident_id is not None else None,
        request_key=request_key(tracker.sender_id, message_id),
    )
    if isinstance(receipt, SpooledTicket):
        logger.warning("ticket %s spooled (%s) for %s", receipt.reference, category, actor(tracker))
        dispatcher.utter_message(
            text=f"{OPENING_BY_CATEGORY[category]}{SPOOLED_TEXT.format(reference=receipt.reference)}",
            json_message={"ticket": {"reference": receipt.reference, "category": str(category), "pending": True}},
        )
        return []
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
