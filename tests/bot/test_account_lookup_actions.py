"""Account questions from a verified resident are answered from the database, audited, in plain Chinese."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from actions.account_lookups import ActionAnswerAccountQuery
from casework.db import session_scope
from casework.enums import LookupKind, LookupOutcome, TicketCategory
from casework.models import AuditRecord, Ticket
from casework.pseudonyms import sender_pseudonym
from casework.seed import demo_resident
from casework.verification import verify_identity


def _verified_tracker(conversation, key: str, intent: str, text: str = "查一下"):  # type: ignore[no-untyped-def]
    demo = demo_resident(key)
    with session_scope() as session:
        resident = verify_identity(session, demo.name, demo.id_number, demo.phone[-4:])
    assert resident is not None
    return conversation.tracker(
        text, intent,
        slots={"verified": True, "verified_resident_id": resident.resident_id, "pending_lookup": intent},
    )


@pytest.mark.parametrize(
    ("key", "intent", "expected"),
    [
        ("employee", "check_enrollment", ["参保缴费状态", "江西省南昌市职工医保", "南昌演示科技有限公司"]),
        ("employee", "check_account_balance", ["个人账户余额为", "元", "最近几笔"]),
        ("employee", "check_reimbursement", ["最近一笔报销", "南昌市演示妇幼保健院", "已受理", "共有 4 笔"]),
        ("employee", "check_e_voucher", ["医保电子凭证已激活"]),
        ("resident_paid", "check_contributions", ["年度居民医保已缴费", "400.00 元"]),
        ("resident_paid", "check_account_balance", ["居民医保不设个人账户"]),
        ("lapsed", "check_enrollment", ["终止参保"]),
        ("lapsed", "check_contributions", ["欠缴"]),
        ("lapsed", "check_e_voucher", ["尚未激活"]),
        ("offsite", "check_offsite_filing", ["正在生效的异地就医备案", "海南省三亚市", "长期有效"]),
    ],
)
def test_each_lookup_answers_from_the_database(database, conversation, key, intent, expected) -> None:
    messages, slots = conversation.run(ActionAnswerAccountQuery(), _verified_tracker(conversation, key, intent))
    reply = conversation.texts(messages)
    for phrase in expected:
        assert phrase in reply, reply
    assert slots["pending_lookup"] is None


@pytest.mark.parametrize(
    ("key", "intent", "expected"),
    [
        ("no_claims", "check_reimbursement", "没有查到您的报销记录"),
        ("never_enrolled", "check_enrollment", "没有查到您的参保记录"),
        ("never_enrolled", "check_offsite_filing", "没有查到您的异地就医备案记录"),
        ("partial", "check_contributions", "没有查到您的缴费记录"),
        ("partial", "check_e_voucher", "没有查到您医保电子凭证的激活信息"),
        ("never_enrolled", "check_account_balance", "暂未查到您的个人账户收支记录"),
    ],
)
def test_no_record_and_partial_data_are_said_plainly(database, conversation, key, intent, expected) -> None:
    messages, _ = conversation.run(ActionAnswerAccountQuery(), _verified_tracker(conversation, key, intent))
    assert expected in conversation.texts(messages)


def test_every_lookup_is_audited_with_the_sender_as_actor(database, conversation) -> None:
    conversation.run(ActionAnswerAccountQuery(), _verified_tracker(conversation, "employee", "check_account_balance"))
    with session_scope() as session:
        records = session.scalars(select(AuditRecord).where(AuditRecord.lookup == LookupKind.ACCOUNT_BALANCE)).all()
    assert [(r.actor, r.outcome) for r in records] == [(f"web:{sender_pseudonym('resident-1')}", LookupOutcome.FOUND)]
    assert demo_resident("employee").id_number not in records[0].subject


def test_unverified_resident_gets_no_data(database, conversation) -> None:
    tracker = conversation.tracker("查余额", "check_account_balance", slots={"pending_lookup": "check_account_balance"})
    messages, _ = conversation.run(ActionAnswerAccountQuery(), tracker)
    assert "余额为" not in conversation.texts(messages)
    with session_scope() as session:
        assert session.scalars(select(AuditRecord)).all() == []


def test_third_failed_verification_opens_a_ticket_for_a_human(database, conversation) -> None:
    tracker = conversation.tracker(
        "9999", "inform",
        slots={"verification_failures": 3.0, "person_name": "张演示", "pending_lookup": "check_account_balance"},
        history=[conversation.user("查余额", "check_account_balance"), conversation.bot("请问您的姓名是？")],
    )
    messages, slots = conversation.run(ActionAnswerAccountQuery(), tracker)
    reply = conversation.texts(messages)
    assert "3次未通过" in reply and "工单号" in reply
    assert slots["person_name"] is None and slots["id_number"] is None
    with session_scope() as session:
        ticket = session.scalars(select(Ticket)).one()
    assert ticket.category is TicketCategory.VERIFICATION_FAILED
    assert slots["ticket_number"] == ticket.number


@pytest.mark.parametrize("typed", ["masked by the gateway", "whole"])
def test_a_verified_resident_asking_for_another_id_number_is_told_only_their_own(
    database, conversation, typed: str
) -> None:
    from casework.sealed_ids import mask_for_bot

    other = demo_resident("resident_paid").id_number
    text = f"帮我查一下{other}的个人账户余额"
    if typed == "masked by the gateway":
        with session_scope() as session:
            text = mask_for_bot(session, "resident-1", text)
    messages, _ = conversation.run(ActionAnswerAccountQuery(),
                                   _verified_tracker(conversation, "employee", "check_account_balance", text))
    reply = conversation.texts(messages)
    assert "只能查询您本人" in reply and "余额为" not in reply
    with session_scope() as session:  # nothing was looked up, so nothing is audited as a lookup
        assert session.scalars(select(AuditRecord).where(AuditRecord.lookup == LookupKind.ACCOUNT_BALANCE)).all() == []


def test_naming_ones_own_id_number_still_answers(database, conversation) -> None:
    own = demo_resident("employee").id_number
    messages, _ = conversation.run(ActionAnswerAccountQuery(), _verified_tracker(
        conversation, "employee", "check_account_balance", f"查一下{own}的余额"))
    assert "余额为" in conversation.texts(messages)

