""""我的工单办得怎么样了": the resident learns the state of the tickets their own chat opened, and nothing else."""

from __future__ import annotations

from actions.escalation import ActionEscalateToHuman
from actions.ticket_progress import ActionTicketProgress
from casework.db import session_scope
from casework.enums import Rating, TicketStatus
from casework.ratings import rate_ticket
from casework.tickets import find_ticket, transition


def _ticket(conversation, sender_id: str) -> str:
    tracker = conversation.tracker("我要投诉窗口态度差", "complaint", sender_id=sender_id)
    return conversation.run(ActionEscalateToHuman(), tracker)[1]["ticket_number"]


def test_the_residents_own_tickets_are_told_with_stage_and_promise(database, conversation) -> None:
    number = _ticket(conversation, "web:mine")
    messages, _ = conversation.run(
        ActionTicketProgress(), conversation.tracker("我的工单办得怎么样了", "ask_ticket_progress", sender_id="web:mine")
    )
    reply = conversation.texts(messages)
    assert number in reply and "投诉" in reply and "已受理" in reply and "承诺在" in reply


def test_an_answered_ticket_invites_a_rating_and_a_poor_one_names_the_callback(database, conversation) -> None:
    number = _ticket(conversation, "web:rated")
    with session_scope() as session:
        ticket = find_ticket(session, number)
        for status in (TicketStatus.HANDLING, TicketStatus.ANSWERED):
            transition(ticket, status, "agent:test")
    ask = conversation.tracker("我投诉的那件事有结果了吗", "ask_ticket_progress", sender_id="web:rated")
    assert "回复“满意”“基本满意”或“不满意”" in conversation.texts(conversation.run(ActionTicketProgress(), ask)[0])
    with session_scope() as session:
        rate_ticket(find_ticket(session, number), Rating.DISSATISFIED, "web:rated")
    reply = conversation.texts(conversation.run(ActionTicketProgress(), ask)[0])
    assert "已安排回访" in reply and "反馈整改情况" in reply and "回复“满意”" not in reply


def test_a_number_from_another_chat_is_not_disclosed(database, conversation) -> None:
    number = _ticket(conversation, "web:owner")
    tracker = conversation.tracker(f"工单{number}办完没", "ask_ticket_progress", sender_id="web:stranger")
    reply = conversation.texts(conversation.run(ActionTicketProgress(), tracker)[0])
    assert "不是在当前这个聊天窗口中登记的" in reply and "投诉" not in reply


def test_a_resident_without_tickets_is_told_how_to_get_one(database, conversation) -> None:
    tracker = conversation.tracker("我的工单现在什么状态", "ask_ticket_progress", sender_id="web:new")
    assert "还没有登记过工单" in conversation.texts(conversation.run(ActionTicketProgress(), tracker)[0])


def test_a_question_about_the_time_limits_of_tickets_is_answered_from_the_documents(database, conversation) -> None:
    # Spoken in the first person, but it asks the rule, and this chat has no ticket to tell about.
    text = "我打热线反映问题，说给我派了工单，江苏对这种工单有没有规定限时办完"
    messages = conversation.run(ActionTicketProgress(), conversation.tracker(text, "ask_ticket_progress"))[0]
    assert any("citations" in (m.get("custom") or {}) for m in messages)
    assert "还没有登记过工单" not in conversation.texts(messages)
