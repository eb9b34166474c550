"""The real Rasa server and action server, talked to through the signed gateway channel like the gateway does."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from casework.db import session_scope
from casework.enums import TicketCategory
from casework.models import Ticket
from casework.seed import demo_resident
from casework.senders import stored_sender
from channels.rasa_client import ask_rasa

pytestmark = [pytest.mark.services, pytest.mark.slow]

EMPLOYEE = demo_resident("employee")
# The whole turn (REST → Rasa NLU and policies → action server → retrieval → reply) for a policy question.


def say(stack: Any, sender: str, message: str) -> list[dict[str, Any]]:
    # The stack's settings: an ID number in the message is sealed in the stack's database on the way.
    return ask_rasa(stack.settings(), sender, message, rasa_url=stack.rasa_url).messages


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def customs(replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r["custom"] for r in replies if "custom" in r]


def test_policy_answer_quotes_the_documents_with_citations(warm_bot_stack) -> None:
    replies = say(warm_bot_stack, f"policy-{uuid.uuid4().hex}", "周口城乡居民医保住院报销比例是多少")
    payload = next(c for c in customs(replies) if "citations" in c)
    assert payload["abstain"] is False and payload["band"] == "confident"
    assert 1 <= len(payload["citations"]) <= 3
    first = payload["citations"][0]
    assert set(first) == {"chunk_id", "doc_title", "section", "region", "text", "lead", "score"}
    reply = texts(replies)
    assert f"《{first['doc_title'].strip('《》')}》" in reply and "来源" in reply


def test_follow_up_is_answered_with_the_previous_topic(warm_bot_stack) -> None:
    sender = f"followup-{uuid.uuid4().hex}"
    say(warm_bot_stack, sender, "周口城乡居民医保住院报销比例是多少")
    replies = say(warm_bot_stack, sender, "南昌呢？")
    payload = next(c for c in customs(replies) if "citations" in c)
    if not payload["abstain"]:
        assert any("南昌" in c["region"] for c in payload["citations"])


def test_verification_replies_are_masked_and_lookup_answers(warm_bot_stack) -> None:
    sender = f"verify-{uuid.uuid4().hex}"
    conversation = [
        say(warm_bot_stack, sender, "查一下我的医保个人账户余额"),
        say(warm_bot_stack, sender, EMPLOYEE.name),
        say(warm_bot_stack, sender, f"身份证号{EMPLOYEE.id_number}"),
        say(warm_bot_stack, sender, f"手机尾号{EMPLOYEE.phone[-4:]}"),
    ]
    assert "姓名" in texts(conversation[0])
    assert "身份证" in texts(conversation[1])
    assert "手机" in texts(conversation[2])
    final = texts(conversation[3])
    assert "身份核验通过" in final and "个人账户余额为" in final
    everything = "\n".join(texts(turn) for turn in conversation)
    assert EMPLOYEE.id_number not in everything and EMPLOYEE.phone not in everything
    assert EMPLOYEE.id_number[:4] + "*" * 10 + EMPLOYEE.id_number[-4:] in final


@pytest.mark.parametrize("question", [
    "退休了个人账户还划钱吗，按什么标准划", "职工医保缴费年限换个城市认不认", "举报骗保的线索是不是都会有人查",
])
def test_questions_about_accounts_and_reports_are_answered_from_the_documents(warm_bot_stack, question) -> None:
    # Whatever the NLU reads (a policy question, a lookup, a report), nobody is asked for an ID number and no
    # ticket is opened for a question about the rules.
    replies = say(warm_bot_stack, f"rules-{uuid.uuid4().hex}", question)
    assert any("citations" in c for c in customs(replies)), texts(replies)
    reply = texts(replies)
    assert "核实您的身份" not in reply and "您的姓名" not in reply and "工单号" not in reply


def test_the_own_record_button_starts_the_identity_check(warm_bot_stack) -> None:
    replies = say(warm_bot_stack, f"button-{uuid.uuid4().hex}", "/check_account_balance")
    assert "核实您的身份" in texts(replies) and "您的姓名" in texts(replies)


def test_request_for_a_human_opens_a_ticket_with_a_number(warm_bot_stack) -> None:
    sender = f"human-{uuid.uuid4().hex}"
    say(warm_bot_stack, sender, "异地就医备案怎么办理")
    reply = texts(say(warm_bot_stack, sender, "我要转人工"))
    number = re.search(r"工单号：(12393-\d{8}-\d{4})", reply)
    assert number, reply
    with session_scope(warm_bot_stack.database_url) as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == number.group(1))).one()
        assert ticket.category is TicketCategory.HUMAN_AGENT
        assert ticket.channel == "gateway" and ticket.sender_id == stored_sender(sender)
        assert "异地就医备案怎么办理" in ticket.transcript


@pytest.mark.parametrize("text", ["異地就醫可以直接結算嗎", "俺娘在乡下住院了，新农合能报多少"])
def test_traditional_characters_and_dialect_reach_the_policy_answer_not_a_ticket(warm_bot_stack, text) -> None:
    replies = say(warm_bot_stack, f"forms-{uuid.uuid4().hex}", text)
    payload = next(c for c in customs(replies) if "citations" in c)
    assert payload["band"] in {"confident", "related"} and payload["citations"]
    assert "工单" not in texts(replies)


def test_a_question_about_ratings_is_answered_from_the_documents_not_recorded(warm_bot_stack) -> None:
    replies = say(warm_bot_stack, f"rating-q-{uuid.uuid4().hex}", "我对上次的服务不满意，给了差评，多久会有人回访我")
    payload = next(c for c in customs(replies) if "citations" in c)
    assert payload["citations"] and "10个工作日" in texts(replies)


def test_a_first_person_question_about_a_rule_gets_the_rule_before_any_identity_check(warm_bot_stack) -> None:
    # Whether the classifier takes it for a lookup (identity form) or a policy question, the rule comes first.
    replies = say(warm_bot_stack, f"rule-{uuid.uuid4().hex}", "单位给我交的那份医保还进不进我个人账户")
    cited = [i for i, r in enumerate(replies) if "citations" in (r.get("custom") or {})]
    assert cited, texts(replies)
    assert any("个人账户" in c["text"] for c in replies[cited[0]]["custom"]["citations"])
    identity_asked = [i for i, r in enumerate(replies) if "核实您的身份" in (r.get("text") or "")]
    assert all(cited[0] < i for i in identity_asked)


def test_a_narrowing_follow_up_keeps_the_region_of_the_previous_question(warm_bot_stack) -> None:
    sender = f"narrow-{uuid.uuid4().hex}"
    say(warm_bot_stack, sender, "周口职工医保个人账户是怎么划入的")
    replies = say(warm_bot_stack, sender, "那退休的人个人账户每个月划多少")
    payload = next(c for c in customs(replies) if "citations" in c)
    assert payload["citations"] and all("周口" in c["region"] for c in payload["citations"])
