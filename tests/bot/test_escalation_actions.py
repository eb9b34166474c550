"""Handing over to a person: a ticket with category, masked transcript and channel; the number told to the resident."""

from __future__ import annotations

import re
import unicodedata

import pytest
from sqlalchemy import select

from actions.escalation import ActionEscalateToHuman, ActionRecordRating, rating_from_text
from casework.db import session_scope
from casework.enums import Rating, TicketCategory, TicketStatus
from casework.models import Ticket
from casework.seed import demo_resident
from casework.senders import stored_sender
from casework.tickets import find_ticket

EMPLOYEE = demo_resident("employee")


@pytest.mark.parametrize(
    ("intent", "category"),
    [
        ("request_human", TicketCategory.HUMAN_AGENT),
        ("complaint", TicketCategory.COMPLAINT),
        ("report_fraud", TicketCategory.FRAUD_REPORT),
    ],
)
def test_escalation_opens_a_ticket_of_the_matching_category(database, conversation, intent, category) -> None:
    messages, slots = conversation.run(ActionEscalateToHuman(), conversation.tracker("我要找人工", intent))
    reply = conversation.texts(messages)
    number = re.search(r"工单号：(12393-\d{8}-\d{4})", reply)
    assert number, reply
    assert "工作" in reply and "前" in reply  # the time limit and the due time
    assert slots["ticket_number"] == number.group(1)
    with session_scope() as session:
        ticket = session.scalars(select(Ticket)).one()
    assert ticket.category is category and ticket.status is TicketStatus.RECEIVED
    assert ticket.number == number.group(1)


def test_ticket_carries_the_masked_transcript_and_channel(database, conversation) -> None:
    history = [
        conversation.user("查一下我的报销", "check_reimbursement", channel="wechat"),
        conversation.bot("请问您的姓名是？"),
        conversation.user("张演示", "inform", channel="wechat"),
        conversation.slot("person_name", "张演示"),
        conversation.bot("请输入您本人的18位居民身份证号码。"),
        conversation.user(EMPLOYEE.id_number, "inform", channel="wechat"),
    ]
    tracker = conversation.tracker("转人工", "request_human", history=history, channel="wechat",
                                   sender_id="wx-openid-1")
    conversation.run(ActionEscalateToHuman(), tracker)
    with session_scope() as session:
        ticket = session.scalars(select(Ticket)).one()
    assert ticket.channel == "wechat" and ticket.sender_id == stored_sender("wx-openid-1")
    assert "wx-openid-1" not in ticket.sender_id
    # The ticket store folds full-width punctuation (NFKC) when it masks: compare the same way.
    transcript = unicodedata.normalize("NFKC", ticket.transcript)
    for line in ("居民：查一下我的报销", "助手：请问您的姓名是？", "居民：转人工"):
        assert unicodedata.normalize("NFKC", line) in transcript
    assert EMPLOYEE.id_number not in ticket.transcript and "张演示" not in ticket.transcript
    assert "3601**********" in ticket.transcript


def test_ticket_of_a_verified_resident_names_them_masked(database, conversation) -> None:
    from casework.verification import verify_identity

    with session_scope() as session:
        resident = verify_identity(session, EMPLOYEE.name, EMPLOYEE.id_number, EMPLOYEE.phone[-4:])
    tracker = conversation.tracker("我要投诉", "complaint",
                                   slots={"verified": True, "verified_resident_id": resident.resident_id})
    conversation.run(ActionEscalateToHuman(), tracker)
    with session_scope() as session:
        ticket = session.scalars(select(Ticket)).one()
    assert ticket.resident_id == resident.resident_id
    assert ticket.resident_masked == resident.masked_subject and EMPLOYEE.id_number not in ticket.resident_masked


def _answered(conversation, sender_id: str = "resident-1") -> str:
    """A ticket opened in this chat and answered by an agent; returns its number."""
    from casework.tickets import find_ticket, transition

    tracker = conversation.tracker("转人工", "request_human", sender_id=sender_id)
    _, slots = conversation.run(ActionEscalateToHuman(), tracker)
    with session_scope() as session:
        ticket = find_ticket(session, slots["ticket_number"])
        for status in (TicketStatus.HANDLING, TicketStatus.ANSWERED):
            transition(ticket, status, "agent:test")
    return slots["ticket_number"]


def test_a_satisfied_rating_closes_the_answered_ticket(database, conversation) -> None:
    number = _answered(conversation)
    tracker = conversation.tracker("非常满意", "give_rating", slots={"ticket_number": number},
                                   entities=[{"entity": "rating", "value": "满意"}])
    messages, _ = conversation.run(ActionRecordRating(), tracker)
    assert [m.get("response") for m in messages] == ["utter_rating_thanks"]
    with session_scope() as session:
        ticket = find_ticket(session, number)
        assert ticket.rating is Rating.SATISFIED and ticket.status is TicketStatus.RATED
        assert ticket.rating_comment == "非常满意"


def test_a_later_session_rates_the_latest_answered_ticket_of_the_same_chat(database, conversation) -> None:
    number = _answered(conversation, sender_id="web:returning")
    _answered(conversation, sender_id="web:someone-else")
    tracker = conversation.tracker("不满意，问题没有解决", "give_rating", sender_id="web:returning")  # no slot
    messages, _ = conversation.run(ActionRecordRating(), tracker)
    assert "安排回访" in conversation.texts(messages) and "前与您联系" in conversation.texts(messages)
    with session_scope() as session:
        ticket = find_ticket(session, number)
        assert ticket.status is TicketStatus.FOLLOWED_UP and ticket.rating is Rating.DISSATISFIED
        assert len(ticket.callbacks) == 1 and ticket.callbacks[0].done_at is None
        assert [t.rating for t in session.scalars(select(Ticket)) if t.number != number] == [None]


def test_a_ticket_of_another_chat_is_not_rated(database, conversation) -> None:
    number = _answered(conversation, sender_id="web:owner")
    tracker = conversation.tracker("差评", "give_rating", slots={"ticket_number": number}, sender_id="web:other")
    messages, _ = conversation.run(ActionRecordRating(), tracker)
    assert [m.get("response") for m in messages] == ["utter_no_ticket_to_rate"]
    with session_scope() as session:
        assert find_ticket(session, number).rating is None


def test_rating_of_a_ticket_still_open_is_explained_not_stored(database, conversation) -> None:
    _, slots = conversation.run(ActionEscalateToHuman(), conversation.tracker("转人工", "request_human"))
    tracker = conversation.tracker("差评", "give_rating", slots={"ticket_number": slots["ticket_number"]})
    messages, _ = conversation.run(ActionRecordRating(), tracker)
    assert "答复后才能评价" in conversation.texts(messages)
    with session_scope() as session:
        assert session.scalars(select(Ticket)).one().rating is None


def test_a_rating_with_no_ticket_waiting_says_so(database, conversation) -> None:
    messages, slots = conversation.run(ActionRecordRating(), conversation.tracker("5分", "give_rating"))
    assert [m.get("response") for m in messages] == ["utter_no_ticket_to_rate"] and slots == {}


def test_words_that_are_no_rating_get_the_three_choices(conversation) -> None:
    messages, _ = conversation.run(ActionRecordRating(), conversation.tracker("嗯", "give_rating"))
    assert [m.get("response") for m in messages] == ["utter_ask_rating"]


@pytest.mark.parametrize(
    ("text", "rating"),
    [("差评", Rating.DISSATISFIED), ("不满意", Rating.DISSATISFIED), ("不太满意", Rating.DISSATISFIED),
     ("1星", Rating.DISSATISFIED), ("基本满意", Rating.BASICALLY_SATISFIED), ("一般般吧", Rating.BASICALLY_SATISFIED),
     ("5分", Rating.SATISFIED), ("很满意", Rating.SATISFIED), ("好评", Rating.SATISFIED), ("嗯", None)],
)
def test_rating_words_are_read(text, rating) -> None:
    assert rating_from_text(text) is rating


@pytest.mark.parametrize(("text", "intent"), [("南昌举报骗保的线索是不是都会查", "report_fraud"),
                                              ("投诉医院乱收费以后多久会有处理结果", "complaint"),
                                              # colloquial questions: ending in 不 / 过没, or asking where
                                              ("要是有人冒用我的医保卡骗保，会影响我的信用不", "report_fraud"),
                                              ("冒用死人医保卡看病的，医保局查过没", "report_fraud"),
                                              ("药店想申请医保定点，申请条件去哪看", "report_fraud"),
                                              # "if I reported…", and how fraud is prevented
                                              ("我要是举报了医院骗保，会不会把我信息泄露出去", "report_fraud"),
                                              ("怎么防止有人冒名顶替住院", "report_fraud"),
                                              # what usually happens to a complaint
                                              ("我之前投诉过医院乱收费，你们一般怎么处理这种投诉", "complaint")])
def test_a_question_about_reports_is_answered_not_filed(database, conversation, text, intent) -> None:
    messages, _ = conversation.run(ActionEscalateToHuman(), conversation.tracker(text, intent))
    assert any("citations" in (m.get("custom") or {}) for m in messages)
    assert "工单号" not in conversation.texts(messages)
    assert f"/{intent}" in [b["payload"] for m in messages for b in m.get("buttons") or []]
    with session_scope() as session:
        assert session.scalars(select(Ticket)).all() == []


@pytest.mark.parametrize("text", ["我要举报有人骗医保", "有个诊所用医保卡套现", "骗保的事找谁举报", "/report_fraud",
                                  "你们怎么回事，骗保的诊所到现在也没人管"])
def test_a_report_opens_a_ticket(database, conversation, text) -> None:
    messages, _ = conversation.run(ActionEscalateToHuman(), conversation.tracker(text, "report_fraud"))
    assert "工单号" in conversation.texts(messages)
    with session_scope() as session:
        assert session.scalars(select(Ticket)).one().category is TicketCategory.FRAUD_REPORT


def test_a_rejected_name_is_not_used_to_mask_the_transcript(database, conversation) -> None:
    # Rasa first fills person_name with the whole message; the form rejects it. Only accepted names are masked.
    history = [
        conversation.user("查一下我的报销", "check_reimbursement"),
        conversation.bot("请问您的姓名是？"),
        conversation.user("查一下我的报销进度", "inform"),
        conversation.slot("person_name", "查一下我的报销进度"),
        conversation.slot("person_name", None),
        conversation.bot("请输入您身份证上的中文姓名，例如“张三”。"),
        conversation.user(EMPLOYEE.name, "inform"),
        conversation.slot("person_name", EMPLOYEE.name),
    ]
    conversation.run(ActionEscalateToHuman(), conversation.tracker("转人工", "request_human", history=history))
    with session_scope() as session:
        ticket = session.scalars(select(Ticket)).one()
    assert "居民：查一下我的报销进度" in ticket.transcript  # not 查*********
    assert EMPLOYEE.name not in ticket.transcript and f"居民：{EMPLOYEE.name[0]}**" in ticket.transcript


def test_a_second_unanswered_question_within_minutes_joins_the_open_ticket(database, conversation) -> None:
    from actions.handover import escalate
    from rasa_sdk.executor import CollectingDispatcher

    first, second = CollectingDispatcher(), CollectingDispatcher()
    escalate(first, conversation.tracker("asdfgh", "nlu_fallback"), TicketCategory.UNANSWERED)
    escalate(second, conversation.tracker("qwerty zxcv", "nlu_fallback"), TicketCategory.UNANSWERED)
    with session_scope() as session:
        tickets = session.scalars(select(Ticket)).all()
    assert len(tickets) == 1 and tickets[0].category is TicketCategory.UNANSWERED
    assert "qwerty zxcv" in tickets[0].transcript and "asdfgh" in tickets[0].transcript
    number = tickets[0].number
    assert number in first.messages[0]["text"] and number in second.messages[0]["text"]
    assert "补充到您刚才的工单" in second.messages[0]["text"]
    # Another chat, or another kind of ticket, still gets its own.
    escalate(CollectingDispatcher(), conversation.tracker("asdfgh", "nlu_fallback", sender_id="another-chat"),
             TicketCategory.UNANSWERED)
    escalate(CollectingDispatcher(), conversation.tracker("转人工", "request_human"), TicketCategory.HUMAN_AGENT)
    with session_scope() as session:
        assert len(session.scalars(select(Ticket)).all()) == 3


def test_a_question_about_how_ratings_are_handled_is_answered_not_recorded(database, conversation) -> None:
    number = _answered(conversation)
    tracker = conversation.tracker("给了差评多久会有人回访我", "give_rating", slots={"ticket_number": number})
    messages, _ = conversation.run(ActionRecordRating(), tracker)
    assert "utter_rating_thanks" not in [m.get("response") for m in messages]
    assert any("band" in (m.get("custom") or {}) for m in messages)  # the documents' answer (or refusal)
    with session_scope() as session:
        assert find_ticket(session, number).rating is None


def test_a_name_given_outside_the_form_is_masked_in_the_transcript(database, conversation) -> None:
    # "我叫张演示，…" before any form: NLU tags (part of) the name; the ticket must not keep it.
    entities = [{"entity": "person_name", "value": EMPLOYEE.name[0], "start": 2, "end": 3}]
    history = [conversation.user(f"我叫{EMPLOYEE.name}，身份证3601**********9014", "inform", entities)]
    conversation.run(ActionEscalateToHuman(), conversation.tracker("转人工", "request_human", history=history))
    with session_scope() as session:
        ticket = session.scalars(select(Ticket)).one()
    assert EMPLOYEE.name not in ticket.transcript and f"我叫{EMPLOYEE.name[0]}**" in ticket.transcript
