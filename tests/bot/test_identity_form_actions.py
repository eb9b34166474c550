"""The identity form: each field checked and explained, the three matched against the database, masked replies."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from actions.identity_form import (
    ActionCheckIdentity,
    ValidateIdentityForm,
    extract_id_number,
    extract_name,
)
from actions.knowledge import knowledge_base
from casework.db import session_scope
from casework.enums import LookupKind, LookupOutcome
from casework.models import AuditRecord
from casework.pseudonyms import sender_pseudonym
from casework.seed import demo_resident
from casework.verification import verify_identity

EMPLOYEE = demo_resident("employee")


def _form_turn(conversation, text: str, **candidates):  # type: ignore[no-untyped-def]
    """The tracker after Rasa extracted slot candidates from the resident's message while the form is active."""
    prior = candidates.pop("prior", {})
    failures = candidates.pop("failures", 0.0)
    sender_id = candidates.pop("sender_id", "resident-1")
    return conversation.tracker(
        text, "inform",
        slots={**prior, **candidates, "verification_failures": failures, "requested_slot": "person_name"},
        after_user=[conversation.slot(name, value) for name, value in candidates.items()],
        active_loop="identity_form", sender_id=sender_id,
    )


def test_name_is_taken_from_a_sentence(database, conversation) -> None:
    messages, slots = conversation.run(ValidateIdentityForm(), _form_turn(conversation, "我叫张演示", person_name="我叫张演示"))
    assert slots["person_name"] == "张演示"
    assert messages == []


def test_a_name_split_by_nlu_is_taken_whole_from_the_message(database, conversation) -> None:
    messages, slots = conversation.run(ValidateIdentityForm(), _form_turn(conversation, "陈演示", person_name="演示"))
    assert slots["person_name"] == "陈演示"


def test_a_name_that_is_not_a_name_is_asked_again(database, conversation) -> None:
    messages, slots = conversation.run(ValidateIdentityForm(), _form_turn(conversation, "为什么", person_name="12345"))
    assert slots["person_name"] is None
    assert "中文姓名" in conversation.texts(messages)


def test_wrong_check_digit_is_explained_and_asked_again(database, conversation) -> None:
    wrong = EMPLOYEE.id_number[:-1] + ("0" if EMPLOYEE.id_number[-1] != "0" else "1")
    messages, slots = conversation.run(ValidateIdentityForm(), _form_turn(conversation, wrong, id_number=wrong))
    assert slots["id_number"] is None
    assert "校验位" in conversation.texts(messages)
    assert wrong not in conversation.texts(messages)


def test_wrong_length_is_explained(database, conversation) -> None:
    messages, slots = conversation.run(ValidateIdentityForm(), _form_turn(conversation, "36010219850312", id_number="36010219850312"))
    assert slots["id_number"] is None
    assert "18位" in conversation.texts(messages) and "14位" in conversation.texts(messages)


def test_impossible_birth_date_is_explained(database, conversation) -> None:
    from casework.id_numbers import check_digit

    first17 = "36010219851332901"  # 13th month
    bad = first17 + check_digit(first17)
    messages, slots = conversation.run(ValidateIdentityForm(), _form_turn(conversation, bad, id_number=bad))
    assert slots["id_number"] is None
    assert "出生日期" in conversation.texts(messages)


def test_all_three_fields_in_one_message_are_each_taken(database, conversation) -> None:
    text = f"我叫{EMPLOYEE.name}，身份证号{EMPLOYEE.id_number}，手机尾号0001"
    tracker = _form_turn(conversation, text, person_name=text, id_number=EMPLOYEE.id_number, phone_last4="0001")
    messages, slots = conversation.run(ValidateIdentityForm(), tracker)
    assert slots["person_name"] == EMPLOYEE.name and slots["verified"] is True
    assert "身份核验通过" in conversation.texts(messages)


def test_slots_cleared_before_the_form_starts_are_not_complained_about(database, conversation) -> None:
    tracker = _form_turn(conversation, "我想查一下我的参保状态", person_name=None, id_number=None, phone_last4=None)
    messages, _ = conversation.run(ValidateIdentityForm(), tracker)
    assert messages == []


def test_id_number_typed_with_spaces_inside_a_sentence_is_accepted() -> None:
    spaced = f"我的身份证号是 {EMPLOYEE.id_number[:6]} {EMPLOYEE.id_number[6:14]} {EMPLOYEE.id_number[14:]}"
    assert extract_id_number(spaced).replace(" ", "") == EMPLOYEE.id_number
    assert extract_name("姓名：张演示。") == "张演示"


def test_matching_identity_verifies_with_masked_reply_and_audit(database, conversation) -> None:
    tracker = _form_turn(
        conversation, "0001", phone_last4="后四位0001",
        prior={"person_name": EMPLOYEE.name, "id_number": EMPLOYEE.id_number},
    )
    messages, slots = conversation.run(ValidateIdentityForm(), tracker)
    reply = conversation.texts(messages)
    assert slots["verified"] is True and slots["identity_status"] == "verified"
    assert isinstance(slots["verified_resident_id"], int)
    assert "身份核验通过" in reply
    assert EMPLOYEE.id_number not in reply and EMPLOYEE.phone not in reply and EMPLOYEE.name not in reply
    assert "3601**********" in reply and "138****0001" in reply
    with session_scope() as session:
        audit = session.scalars(select(AuditRecord).where(AuditRecord.lookup == LookupKind.VERIFY_IDENTITY)).all()
    # The audit names the conversation by its keyed hash: the table hands nobody a sender id to reuse.
    assert [(a.actor, a.outcome) for a in audit] == [(f"web:{sender_pseudonym('resident-1')}", LookupOutcome.VERIFIED)]
    assert "resident-1" not in audit[0].actor


def test_mismatch_clears_the_fields_counts_and_does_not_say_which_field(database, conversation) -> None:
    tracker = _form_turn(
        conversation, "9999", phone_last4="9999",
        prior={"person_name": EMPLOYEE.name, "id_number": EMPLOYEE.id_number},
    )
    messages, slots = conversation.run(ValidateIdentityForm(), tracker)
    reply = conversation.texts(messages)
    assert slots["verified"] is False and slots["verification_failures"] == 1
    assert slots["person_name"] is None and slots["id_number"] is None and slots["phone_last4"] is None
    assert "不一致" in reply and "还可以尝试2次" in reply


def test_mismatch_reply_is_the_same_whichever_field_is_wrong(database, conversation) -> None:
    wrong_phone = _form_turn(conversation, "9999", phone_last4="9999",
                             prior={"person_name": EMPLOYEE.name, "id_number": EMPLOYEE.id_number})
    wrong_name = _form_turn(conversation, "0001", phone_last4="0001",
                            prior={"person_name": "王某某", "id_number": EMPLOYEE.id_number})
    replies = [conversation.texts(conversation.run(ValidateIdentityForm(), t)[0]) for t in (wrong_phone, wrong_name)]
    assert replies[0] == replies[1]


def test_third_mismatch_locks_and_lets_the_form_finish(database, conversation) -> None:
    tracker = _form_turn(
        conversation, "9999", phone_last4="9999", failures=2.0,
        prior={"person_name": EMPLOYEE.name, "id_number": EMPLOYEE.id_number},
    )
    _, slots = conversation.run(ValidateIdentityForm(), tracker)
    assert slots["verification_failures"] == 3 and slots["identity_status"] == "locked"
    assert slots["phone_last4"] == "9999"  # kept, so the form completes and the submit rule escalates


def test_check_identity_routes_unverified_verified_and_locked(database, conversation) -> None:
    _, fresh = conversation.run(ActionCheckIdentity(), conversation.tracker("查一下余额", "check_account_balance"))
    assert fresh["identity_status"] == "unverified" and fresh["pending_lookup"] == "check_account_balance"
    assert fresh["person_name"] is None  # a new form starts empty

    _, verified = conversation.run(ActionCheckIdentity(), conversation.tracker(
        "查参保", "check_enrollment", slots={"verified": True, "verified_resident_id": 1}))
    assert verified["identity_status"] == "verified"

    _, locked = conversation.run(ActionCheckIdentity(), conversation.tracker(
        "查参保", "check_enrollment", slots={"verification_failures": 3.0}))
    assert locked["identity_status"] == "locked"


@pytest.mark.parametrize("text", ["退休了个人账户还划钱吗", "职工医保缴费年限换城市认不认"])
def test_a_question_about_the_rules_needs_no_identity(database, conversation, text) -> None:
    _, slots = conversation.run(ActionCheckIdentity(), conversation.tracker(text, "check_account_balance"))
    assert slots["identity_status"] == "not_needed" and slots["pending_lookup"] is None
    assert "person_name" not in slots  # no form starts


@pytest.mark.parametrize("text", ["查一下余额", "我的个人账户还有多少钱", "/check_account_balance", "帮忙看下到账没"])
def test_a_question_about_the_own_record_asks_for_identity(database, conversation, text) -> None:
    _, slots = conversation.run(ActionCheckIdentity(), conversation.tracker(text, "check_account_balance"))
    assert slots["identity_status"] == "unverified"


@pytest.mark.parametrize("text", ["单位给我交的那份医保还进不进我个人账户", "俺家是低保户，在周口交医保政府给掏钱不",
                                  # which scheme one should join; where one's 户口 lets one pay
                                  "俺没单位也没上班，在云南该参哪种医保", "我住曲靖户口在昭通，医保能在曲靖就近交不",
                                  # whether a case can be reimbursed (了没 inside the sentence is no record's state)
                                  "我在外地住院了没备案，回来还能报不",
                                  # where an app is had
                                  "我用的是iPhone，医保APP在哪下载"])
def test_a_first_person_question_about_a_rule_gets_the_rule_before_the_form(database, conversation, text) -> None:
    knowledge_base()  # loaded, as on a running action server
    messages, slots = conversation.run(ActionCheckIdentity(), conversation.tracker(text, "check_account_balance"))

    assert slots["identity_status"] == "unverified" and slots["pending_lookup"] == "check_account_balance"
    [aside] = messages
    assert aside["custom"]["band"] in {"confident", "related"} and aside["custom"]["citations"]
    assert aside["text"].startswith("如果您想了解的是一般规定") and "核实身份" in aside["text"]
    if aside["custom"]["band"] == "related":
        assert "【可能相关】" in aside["text"]


@pytest.mark.parametrize("text", ["我的个人账户还有多少钱", "我个人账户这个月到账了没", "我退休了每个月的钱到账没",
                                  "我住院的钱能报的那部分报了没有啊"])
def test_a_question_about_the_state_of_a_record_gets_no_rule(database, conversation, text) -> None:
    knowledge_base()
    messages, slots = conversation.run(ActionCheckIdentity(), conversation.tracker(text, "check_account_balance"))

    assert slots["identity_status"] == "unverified" and messages == []


def test_personal_details_are_never_searched_for_a_rule(database, conversation) -> None:
    knowledge_base()
    tracker = conversation.tracker("我叫张三，我个人账户每月划入多少", "check_account_balance",
                                   entities=[{"entity": "person_name", "value": "张三"}])
    messages, slots = conversation.run(ActionCheckIdentity(), tracker)

    assert slots["identity_status"] == "unverified" and messages == []


def test_a_verified_resident_gets_the_record_whatever_the_wording(database, conversation) -> None:
    tracker = conversation.tracker("个账还有多少钱", "check_account_balance",
                                   slots={"verified": True, "verified_resident_id": 1})
    _, slots = conversation.run(ActionCheckIdentity(), tracker)
    assert slots["identity_status"] == "verified" and slots["pending_lookup"] == "check_account_balance"


def _fail(times: int, sender: str, id_number: str = EMPLOYEE.id_number, client: str | None = None) -> None:
    with session_scope() as session:
        for _ in range(times):
            verify_identity(session, EMPLOYEE.name, id_number, "9999", sender_id=sender, client=client)


def test_guessing_stays_locked_after_restart_or_in_a_new_session(database, conversation) -> None:
    _fail(3, "resident-1")
    # /restart: the same sender, slot count back to zero; the database still counts three failures.
    messages, slots = conversation.run(ActionCheckIdentity(), conversation.tracker("查余额", "check_account_balance"))
    assert slots["identity_status"] == "locked"
    assert "后再试" in conversation.texts(messages)


def test_an_id_number_guessed_at_from_other_sessions_is_locked_at_every_attempt(database, conversation) -> None:
    for n in range(5):  # five sessions, one wrong guess each
        _fail(1, f"guesser-{n}")
    # A new session passes the check before the form (its own count is zero) …
    _, before = conversation.run(ActionCheckIdentity(), conversation.tracker(
        "查余额", "check_account_balance", sender_id="guesser-new"))
    assert before["identity_status"] == "unverified"
    # … but the ID number is refused as soon as it is given …
    typed = _form_turn(conversation, EMPLOYEE.id_number, id_number=EMPLOYEE.id_number, sender_id="guesser-new")
    messages, slots = conversation.run(ValidateIdentityForm(), typed)
    assert slots["id_number"] is None and "该证件号码" in conversation.texts(messages)
    # … and even the right answer, all three fields at once, is not compared while the lock holds.
    right = f"我叫{EMPLOYEE.name}，身份证号{EMPLOYEE.id_number}，手机尾号0001"
    tracker = _form_turn(conversation, right, person_name=right, id_number=EMPLOYEE.id_number,
                         phone_last4="0001", sender_id="guesser-new")
    messages, slots = conversation.run(ValidateIdentityForm(), tracker)
    assert slots.get("verified") is not True and "身份核验通过" not in conversation.texts(messages)


def test_the_client_ip_counts_across_sessions(database, conversation) -> None:
    _fail(10, "someone", id_number=demo_resident("resident_paid").id_number, client="client-key-1")
    tracker = conversation.tracker("查余额", "check_account_balance", sender_id="fresh-session")
    tracker.events[-1]["metadata"]["client"] = "client-key-1"  # the gateway's hash of the same IP
    _, slots = conversation.run(ActionCheckIdentity(), tracker)
    assert slots["identity_status"] == "locked"


def test_a_masked_id_number_is_unsealed_for_its_sender_only(database, conversation) -> None:
    from casework.sealed_ids import mask_for_bot

    with session_scope() as session:
        text = mask_for_bot(session, "resident-1", f"身份证号{EMPLOYEE.id_number}")
    assert EMPLOYEE.id_number not in text and "3601**********9014" in text
    mine = _form_turn(conversation, text, id_number="3601**********9014")
    _, slots = conversation.run(ValidateIdentityForm(), mine)
    assert slots["id_number"] == "3601**********9014"  # the slot (Rasa's tracker) keeps only the masked form
    theirs = _form_turn(conversation, text, id_number="3601**********9014", sender_id="someone-else")
    messages, slots = conversation.run(ValidateIdentityForm(), theirs)
    assert slots["id_number"] is None and "重新输入" in conversation.texts(messages)


def test_a_whole_phone_number_masked_by_the_gateway_still_verifies(database, conversation) -> None:
    from casework.sealed_ids import mask_for_bot

    with session_scope() as session:
        text = mask_for_bot(session, "resident-1", f"我叫{EMPLOYEE.name}，身份证{EMPLOYEE.id_number}，手机{EMPLOYEE.phone}")
    assert EMPLOYEE.phone not in text and "138****0001" in text
    tracker = _form_turn(conversation, text, person_name=text, id_number="3601**********9014",
                         phone_last4="138****0001")
    messages, slots = conversation.run(ValidateIdentityForm(), tracker)
    assert slots["verified"] is True, conversation.texts(messages)


def test_user_messages_cannot_fill_verification_slots(domain) -> None:
    for slot in ("verified", "verified_resident_id", "verification_failures", "identity_status",
                 "last_policy_topic", "last_region", "abstain_streak", "ticket_number", "pending_lookup"):
        assert domain["slots"][slot]["mappings"] == [{"type": "custom"}], slot
        assert "action" not in domain["slots"][slot]["mappings"][0]


def test_verification_expires_with_the_session(domain) -> None:
    assert domain["session_config"]["carry_over_slots_to_new_session"] is False
    assert 0 < domain["session_config"]["session_expiration_time"] <= 60
