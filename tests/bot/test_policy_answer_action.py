"""The policy action answers from the real knowledge base, rewrites follow-ups, and escalates repeated abstentions."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from actions.policy_answers import ActionAcknowledge, ActionAnswerPolicy, ActionSmallTalk
from casework.db import session_scope
from casework.enums import TicketCategory
from casework.models import Ticket

# A question the default corpus (five regional 医保 plans) has nothing relevant for: the knowledge base refuses.
UNCOVERED = "火星上能用医保吗"
# One it has nothing exact for, only passages that may be related ("related" band).
LOOSELY_COVERED = "异地就医备案需要什么材料"  # the documents name 异地就医备案, not its materials
COVERED = "周口城乡居民医保住院报销比例是多少"


def _payload(messages):  # type: ignore[no-untyped-def]
    return next(m["custom"] for m in messages if m.get("custom") and "citations" in m["custom"])


def test_covered_question_is_answered_with_cited_passages(conversation) -> None:
    messages, slots = conversation.run(ActionAnswerPolicy(), conversation.tracker(COVERED))
    payload = _payload(messages)
    assert payload["abstain"] is False and payload["band"] == "confident" and payload["citations"]
    reply = conversation.texts(messages)
    assert "来源" in reply and payload["citations"][0]["doc_title"].strip("《》") in reply
    # the reply leads with the sentence that carries the asked-for figure
    assert payload["citations"][0]["lead"] and payload["citations"][0]["lead"][:20] in reply
    assert slots["last_policy_topic"] == COVERED and slots["abstain_streak"] == 0


def test_reply_adds_no_numbers_beyond_the_quoted_documents(conversation) -> None:
    messages, _ = conversation.run(ActionAnswerPolicy(), conversation.tracker(COVERED))
    payload = _payload(messages)
    sources = "".join(c["text"] + c["doc_title"] + c["section"] + c["region"] for c in payload["citations"])
    for number in re.findall(r"\d+(?:\.\d+)?", conversation.texts(messages)):
        assert number in sources, number


def test_region_follow_up_searches_the_new_region(conversation) -> None:
    tracker = conversation.tracker(
        "南昌呢？", slots={"last_policy_topic": COVERED, "last_region": "周口"})
    messages, slots = conversation.run(ActionAnswerPolicy(), tracker)
    payload = _payload(messages)
    assert payload["abstain"] is False
    assert slots["last_region"] == "南昌" and slots["last_policy_topic"] == "南昌城乡居民医保住院报销比例是多少"
    assert all(not c["region"] or "南昌" in c["region"] for c in payload["citations"])


def test_a_follow_up_about_a_place_with_no_document_is_not_answered_with_the_old_regions_rule(conversation) -> None:
    # given a 周口 question answered from 周口's plan, when the resident asks the same of 北京
    tracker = conversation.tracker("那北京呢", slots={"last_policy_topic": COVERED, "last_region": "周口"})
    messages, slots = conversation.run(ActionAnswerPolicy(), tracker)
    # then no confident answer passes 周口's rule off as 北京's, and the old region is not carried over
    assert _payload(messages)["band"] != "confident"
    assert slots.get("last_region") != "周口"


def test_first_abstention_offers_a_human_without_a_ticket(database, conversation) -> None:
    messages, slots = conversation.run(ActionAnswerPolicy(), conversation.tracker(UNCOVERED))
    assert _payload(messages) == {"band": "refused", "citations": [], "abstain": True}
    assert any(b["payload"] == "/request_human" for m in messages for b in m.get("buttons") or [])
    assert slots["abstain_streak"] == 1
    with session_scope() as session:
        assert session.scalars(select(Ticket)).all() == []


def test_second_abstention_in_a_row_opens_a_ticket(database, conversation) -> None:
    tracker = conversation.tracker(UNCOVERED, slots={"abstain_streak": 1.0})
    messages, slots = conversation.run(ActionAnswerPolicy(), tracker)
    assert "工单号" in conversation.texts(messages)
    assert slots["abstain_streak"] == 0
    with session_scope() as session:
        ticket = session.scalars(select(Ticket)).one()
    assert ticket.category is TicketCategory.UNANSWERED and slots["ticket_number"] == ticket.number


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_message_gets_a_polite_request_for_a_question(conversation, text) -> None:
    messages, slots = conversation.run(ActionAnswerPolicy(), conversation.tracker(text))
    assert "请输入" in conversation.texts(messages) and slots == {}


def test_personal_details_outside_a_lookup_are_not_searched(conversation) -> None:
    tracker = conversation.tracker("360102198503129014", "inform",
                                   entities=[{"entity": "id_number", "value": "360102198503129014"}])
    messages, slots = conversation.run(ActionAnswerPolicy(), tracker)
    assert "想查询哪项个人信息" in conversation.texts(messages)
    assert slots == {} and not any(m.get("custom") for m in messages)


def test_an_unclear_grunt_is_not_counted_as_an_abstention(conversation) -> None:
    messages, slots = conversation.run(ActionAnswerPolicy(), conversation.tracker("嗯", "nlu_fallback"))
    assert messages[0]["response"] == "utter_default" and slots == {}


def test_out_of_scope_guess_is_answered_when_the_documents_cover_it(conversation) -> None:
    # The classifier may call a question "out of scope" that the documents answer (基层网点 handle 异地就医备案).
    tracker = conversation.tracker("异地就医备案能在哪里办", "out_of_scope")
    messages, slots = conversation.run(ActionAnswerPolicy(), tracker)
    assert _payload(messages)["abstain"] is False
    assert slots["abstain_streak"] == 0


def test_out_of_scope_question_the_documents_do_not_cover_is_declined_without_counting(
    database, conversation
) -> None:
    tracker = conversation.tracker("帮我订一张去北京的火车票", "out_of_scope", slots={"abstain_streak": 1.0})
    messages, slots = conversation.run(ActionAnswerPolicy(), tracker)
    assert [m.get("response") for m in messages] == ["utter_out_of_scope"]
    assert slots == {}  # not an abstention: the streak towards a ticket is untouched
    with session_scope() as session:
        assert session.scalars(select(Ticket)).all() == []


def test_out_of_scope_guess_with_related_passages_shows_them_marked_without_counting(database, conversation) -> None:
    # Residents' 医保 questions are often taken for out of scope (救助对象是怎么识别的): the possibly related
    # passages are shown, under a reply that says the question may lie outside 医保, and nothing is counted.
    tracker = conversation.tracker(LOOSELY_COVERED, "out_of_scope", slots={"abstain_streak": 1.0})
    messages, slots = conversation.run(ActionAnswerPolicy(), tracker)
    payload = _payload(messages)
    assert payload["band"] == "related" and payload["abstain"] is True and payload["citations"]
    reply = conversation.texts(messages)
    assert reply.startswith("这个问题可能不在医保政策的范围内") and "【可能相关】" in reply
    assert any(b["payload"] == "/request_human" for m in messages for b in m.get("buttons") or [])
    assert "abstain_streak" not in slots and slots["last_policy_topic"] == LOOSELY_COVERED
    with session_scope() as session:
        assert session.scalars(select(Ticket)).all() == []


def test_a_follow_up_taken_for_out_of_scope_is_not_called_out_of_scope(conversation) -> None:
    tracker = conversation.tracker("那材料呢", "out_of_scope", slots={"last_policy_topic": "异地就医备案怎么办"})
    messages, _ = conversation.run(ActionAnswerPolicy(), tracker)
    reply = conversation.texts(messages)
    assert _payload(messages)["citations"] and "可能不在医保政策的范围内" not in reply


def test_account_question_about_the_rules_is_answered_with_a_way_to_the_own_record(conversation) -> None:
    tracker = conversation.tracker("周口退休的人个人账户每个月划多少", "check_account_balance")
    messages, slots = conversation.run(ActionAnswerPolicy(), tracker)
    assert _payload(messages)["abstain"] is False
    buttons = [b for m in messages for b in m.get("buttons") or []]
    assert buttons == [{"title": "查询本人个人账户余额", "payload": "/check_account_balance"}]
    assert slots["abstain_streak"] == 0


def test_account_question_the_documents_do_not_cover_offers_the_own_record(database, conversation) -> None:
    tracker = conversation.tracker(UNCOVERED, "check_enrollment", slots={"abstain_streak": 1.0})
    messages, slots = conversation.run(ActionAnswerPolicy(), tracker)
    assert "如需查询本人参保状态" in conversation.texts(messages)
    payloads = [b["payload"] for m in messages for b in m.get("buttons") or []]
    assert payloads == ["/check_enrollment", "/request_human"]
    assert slots == {}  # most likely a personal question: not an abstention towards a ticket
    with session_scope() as session:
        assert session.scalars(select(Ticket)).all() == []


def test_possibly_related_passages_are_shown_as_such_and_count_towards_a_person(database, conversation) -> None:
    # given a question the documents only touch on
    messages, slots = conversation.run(ActionAnswerPolicy(), conversation.tracker(LOOSELY_COVERED))
    payload = _payload(messages)
    # then the passages are shown, marked as possibly related, with 转人工, and no ticket yet
    assert payload["band"] == "related" and payload["abstain"] is True and 1 <= len(payload["citations"]) <= 2
    assert "可能相关" in conversation.texts(messages) and "是这样规定的" not in conversation.texts(messages)
    assert any(b["payload"] == "/request_human" for m in messages for b in m.get("buttons") or [])
    assert slots["abstain_streak"] == 1 and slots["last_policy_topic"] == LOOSELY_COVERED
    # when the next question is not answered either, a ticket is opened
    tracker = conversation.tracker(LOOSELY_COVERED, slots={"abstain_streak": 1.0})
    _, slots = conversation.run(ActionAnswerPolicy(), tracker)
    assert slots["abstain_streak"] == 0 and slots["ticket_number"]


def test_a_follow_up_taken_for_a_yes_or_no_is_answered_as_a_follow_up(conversation) -> None:
    tracker = conversation.tracker("那职工呢", "deny", slots={"last_policy_topic": COVERED, "last_region": "周口"})
    messages, slots = conversation.run(ActionAcknowledge(), tracker)
    assert _payload(messages)["citations"]
    assert slots["last_policy_topic"] == "周口职工医保住院报销比例是多少"


@pytest.mark.parametrize(("text", "intent"), [("好的呀", "affirm"), ("不用了", "deny"), ("/deny", "deny")])
def test_a_plain_yes_or_no_is_asked_what_else(conversation, text, intent) -> None:
    tracker = conversation.tracker(text, intent, slots={"last_policy_topic": COVERED, "last_region": "周口"})
    messages, slots = conversation.run(ActionAcknowledge(), tracker)
    assert [m.get("response") for m in messages] == ["utter_anything_else"] and slots == {}


def test_a_policy_question_taken_for_chitchat_is_answered_from_the_documents(conversation) -> None:
    tracker = conversation.tracker("我的医保信息会不会被泄露出去", "chitchat")
    messages, _ = conversation.run(ActionSmallTalk(), tracker)
    payload = _payload(messages)
    assert payload["band"] == "confident" and payload["citations"]


@pytest.mark.parametrize("text", ["我想给我爸妈交医保，去哪交", "医保局周末上班吗"])
def test_small_talk_that_asks_about_a_medical_insurance_matter_gets_the_three_band_reply(conversation, text) -> None:
    # The classifier took these for chitchat; short of a confident answer they still get the documents' reply
    # (possibly related passages, or the refusal with 转人工), never a pleasantry.
    messages, _ = conversation.run(ActionSmallTalk(), conversation.tracker(text, "chitchat"))
    assert _payload(messages)["band"] in {"confident", "related", "refused"}
    assert "utter_chitchat" not in [m.get("response") for m in messages]


NAME = [{"entity": "person_name", "value": "王小明", "start": 5, "end": 8}]


@pytest.mark.parametrize(("text", "intent", "entities", "response"), [
    ("你吃饭了吗", "chitchat", [], "utter_chitchat"),
    ("你好", "greet", [], "utter_greet"),
    ("您好，我叫王小明", "greet", NAME, "utter_greet"),  # personal details are never searched
    ("你好，我想咨询一下医保", "greet", [], "utter_greet"),  # names 医保 but asks nothing yet
])
def test_small_talk_gets_its_friendly_reply_and_counts_nothing(database, conversation, text, intent, entities,
                                                               response) -> None:
    # After an answer, "你好" is a greeting, not a follow-up of the previous question.
    tracker = conversation.tracker(text, intent, entities=entities, slots={
        "last_policy_topic": COVERED, "last_region": "周口", "abstain_streak": 1.0})
    messages, slots = conversation.run(ActionSmallTalk(), tracker)
    assert [m.get("response") for m in messages] == [response] and slots == {}
    with session_scope() as session:
        assert session.scalars(select(Ticket)).all() == []
