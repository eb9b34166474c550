"""Verifying who is asking before any personal lookup: name, 18-digit ID number, last 4 digits of the phone.

The outcome lives only in slots that no user message can fill (`verified`, `verified_resident_id`,
`verification_failures`, `identity_status`) and expires with the session.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.conversation import actor, latest_intent, latest_text
from actions.domain.phrasing import asks_about_own_records
from casework.db import session_scope
from casework.id_numbers import check_id_number, check_phone_last4, normalize_digits
from casework.verification import VerifiedResident, verification_locked, verify_identity
from hotline.settings import get_settings

IDENTITY_SLOTS = ("person_name", "id_number", "phone_last4")
MAX_VERIFICATION_FAILURES = 3

# Identity status values the rules branch on (categorical slot `identity_status`). NOT_NEEDED: the question is
# about the rules for everybody, so the documents answer it and nobody is asked for an ID number.
VERIFIED, UNVERIFIED, LOCKED, NOT_NEEDED = "verified", "unverified", "locked", "not_needed"

# "我叫张三" / "姓名：张三" / "张三。" → "张三"; names may hold the middle dot of minority names.
_NAME_PREFIX = re.compile(r"^(我的名字是|我的名字叫|名字是|名字叫|我叫|我是|本人|姓名是|姓名[:：]?|名字[:：]?)")
_NAME = re.compile(r"^(?:[\u4e00-\u9fff]{2,4}|[\u4e00-\u9fff]{1,10}(?:·[\u4e00-\u9fff]{1,10})+)$")
# Characters that make a message a question or a request, not a name ("为什么", "不想说", "查余额").
_PART_SEPARATOR = re.compile(r"[,，;；、\s]+")
_NOT_IN_NAMES = set("吗呢吧啊么什怎哪谁查询办要想说不没的了嗯哦")
# The longest run that could be an ID number (digits, X, separators) inside a sentence.
_ID_CANDIDATE = re.compile(r"[0-9０-９Xx][0-9０-９Xx \-]{5,}[0-9０-９Xx]|[0-9０-９]+")
_DIGIT_RUN = re.compile(r"\d+")


def verification_failures(tracker: Tracker) -> int:
    return int(tracker.get_slot("verification_failures") or 0)


class ActionCheckIdentity(Action):
    """Before an account question: is the resident verified, still to be verified, or locked out?

    A verified resident gets their records whatever the wording. Anyone else is asked for an ID number only
    when the question is about their own records; a question about the rules goes to the documents.
    """

    def name(self) -> str:
        return "action_check_identity"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        verified = tracker.get_slot("verified") and tracker.get_slot("verified_resident_id") is not None
        if not verified and not asks_about_own_records(latest_text(tracker)):
            return [SlotSet("pending_lookup", None), SlotSet("identity_status", NOT_NEEDED)]
        events: list[EventType] = [SlotSet("pending_lookup", latest_intent(tracker))]
        if verified:
            return [*events, SlotSet("identity_status", VERIFIED)]
        if verification_failures(tracker) >= MAX_VERIFICATION_FAILURES or _locked_across_sessions(tracker):
            return [*events, SlotSet("identity_status", LOCKED)]
        # A fresh form every time: nothing half-typed in an abandoned attempt is reused.
        return [*events, SlotSet("identity_status", UNVERIFIED), *(SlotSet(slot, None) for slot in IDENTITY_SLOTS)]


def _locked_across_sessions(tracker: Tracker) -> bool:
    """A new session resets the slot count, not the audit trail: repeated guessing stays locked for a while."""
    with session_scope() as session:
        return verification_locked(session, actor(tracker))


class ValidateIdentityForm(FormValidationAction):
    def name(self) -> str:
        return "validate_identity_form"

    def validate_person_name(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if slot_value is None:  # cleared by an action, not typed by the resident: nothing to check
            return {"person_name": None}
        # The message first: NLU may tag only part of an unusual name ("陈" / "演示" of "陈演示").
        for candidate in reversed(_candidates(slot_value, tracker)):
            name = extract_name(candidate)
            if name is not None:
                return {"person_name": name}
        dispatcher.utter_message(text="请输入您身份证上的中文姓名，例如“张三”。")
        return {"person_name": None}

    def validate_id_number(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if slot_value is None:
            return {"id_number": None}
        checks = [check_id_number(extract_id_number(c)) for c in _candidates(slot_value, tracker)]
        valid = next((c for c in checks if c.valid), None)
        if valid is None:
            # Explain what is wrong with the fullest reading of what the resident typed.
            dispatcher.utter_message(text=checks[-1].problem)
            return {"id_number": None}
        return {"id_number": valid.normalized}

    def validate_phone_last4(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if slot_value is None:
            return {"phone_last4": None}
        checks = [check_phone_last4(extract_phone_digits(c)) for c in _candidates(slot_value, tracker)]
        valid = next((c for c in checks if c.valid), None)
        if valid is None:
            dispatcher.utter_message(text=checks[-1].problem)
            return {"phone_last4": None}
        return {"phone_last4": valid.normalized}

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Check each field, then, once all three are valid, match them against the registered record."""
        events = await super().get_validation_events(dispatcher, tracker, domain)
        values = {slot: tracker.get_slot(slot) for slot in IDENTITY_SLOTS}
        if not all(values.values()) or tracker.get_slot("verified"):
            return events
        outcome = self._verify(dispatcher, tracker, values)
        # The verification outcome overrides the per-field results for the same slots.
        return [e for e in events if e.get("name") not in outcome] + [SlotSet(k, v) for k, v in outcome.items()]

    def _verify(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, values: dict[str, Any]
    ) -> dict[str, Any]:
        settings = get_settings()
        with session_scope() as session:
            resident = verify_identity(
                session, values["person_name"], values["id_number"], values["phone_last4"],
                actor=actor(tracker), audit_log_file=settings.audit_log_file,
            )
        if resident is not None:
            dispatcher.utter_message(text=verified_text(resident))
            return {
                "verified": True,
                "verified_resident_id": resident.resident_id,
                "verification_failures": 0.0,
                "identity_status": VERIFIED,
            }

        failures = verification_failures(tracker) + 1
        if failures >= MAX_VERIFICATION_FAILURES:
            # Keep the fields filled so the form completes; the submit action opens a ticket for a human.
            return {"verified": False, "verification_failures": float(failures), "identity_status": LOCKED}
        remaining = MAX_VERIFICATION_FAILURES - failures
        # Never say which field did not match: that would let anyone probe whose ID number is whose.
        dispatcher.utter_message(
            text=f"抱歉，您提供的信息与登记信息不一致，请核对后从姓名开始重新输入（还可以尝试{remaining}次）。"
        )
        return {
            "verified": False,
            "verification_failures": float(failures),
            **{slot: None for slot in IDENTITY_SLOTS},
        }


def _candidates(slot_value: Any, tracker: Tracker) -> list[str]:
    """The extracted value, then the whole message: an entity cut short by NLU should not fail the resident."""
    candidates = [str(slot_value)]
    text = latest_text(tracker)
    if text and text not in candidates:
        candidates.append(text)
    return candidates


def verified_text(resident: VerifiedResident) -> str:
    phone = f"，手机 {resident.masked_phone}" if resident.masked_phone else ""
    return f"身份核验通过：{resident.masked_name}（身份证 {resident.masked_id_number}{phone}）。"


def extract_name(text: str) -> str | None:
    """"张三" / "我叫张三。" / "我叫张三，身份证号……" → "张三"; None when no part of the message is a name."""
    normalized = unicodedata.normalize("NFKC", text).replace("•", "·").replace("・", "·")
    # A message may carry all three fields: look at each comma-separated part.
    for part in _PART_SEPARATOR.split(normalized):
        value = "".join(_NAME_PREFIX.sub("", part.strip().strip("。.!！～~")).split())
        if _NAME.fullmatch(value) and not _NOT_IN_NAMES & set(value):
            return value
    return None


def extract_id_number(text: str) -> str:
    """The ID-number-like part of a sentence ("我的身份证号是 110101 19900307 7777" → the digits), else the text."""
    candidates = _ID_CANDIDATE.findall(text)
    if not candidates:
        return text
    return max(candidates, key=lambda c: len(normalize_digits(c)))


def extract_phone_digits(text: str) -> str:
    """"后四位是5678" → "5678"; a whole mobile number is kept whole (its last four are used)."""
    runs = _DIGIT_RUN.findall(normalize_digits(text))
    if not runs:
        return text
    return max(runs, key=len)
