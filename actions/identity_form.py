"""Verifying who is asking before any personal lookup: name, 18-digit ID number, last 4 digits of the phone.

The outcome lives only in slots that no user message can fill (`verified`, `verified_resident_id`,
`verification_failures`, `identity_status`) and expires with the session. Every attempt is also counted in the
database per ID number, conversation and client (casework.verification), and `lockout()` is asked before the
form starts, as soon as an ID number is given, and again right before each verification: `/restart`, a new
session or a new ID number does not start the count afresh.

ID numbers reach Rasa masked (`3601**********9014`); the real number is unsealed here from what the gateway
sealed for this sender (casework.sealed_ids).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.conversation import actor, client_key, latest_intent, latest_text
from actions.domain.phrasing import asks_about_own_records, asks_how_a_rule_applies
from actions.policy_answers import tell_the_rule
from casework.db import session_scope
from casework.id_numbers import IdNumberCheck, check_id_number, check_phone_last4
from casework.identity_input import (
    extract_id_number,
    extract_name,
    extract_phone_digits,
    masked_id_numbers,
)
from casework.sealed_ids import seal_id_number, unseal_id_number
from casework.verification import Lockout, VerifiedResident, lockout, verify_identity
from hotline.settings import get_settings

__all__ = [
    "ActionCheckIdentity", "ValidateIdentityForm", "extract_id_number", "extract_name", "verified_text",
]

IDENTITY_SLOTS = ("person_name", "id_number", "phone_last4")
MAX_VERIFICATION_FAILURES = 3  # in one conversation; then a 身份核验失败 ticket hands it to a person

# Identity status values the rules branch on (categorical slot `identity_status`). NOT_NEEDED: the question is
# about the rules for everybody, so the documents answer it and nobody is asked for an ID number.
VERIFIED, UNVERIFIED, LOCKED, NOT_NEEDED = "verified", "unverified", "locked", "not_needed"

HUMAN_BUTTON = {"title": "转人工", "payload": "/request_human"}
EXPIRED_ID_NUMBER_TEXT = (
    "为保护您的信息，您输入的身份证号码只保留几分钟，现已失效。请重新输入您本人的18位居民身份证号码。"
)


def verification_failures(tracker: Tracker) -> int:
    return int(tracker.get_slot("verification_failures") or 0)


def current_lockout(tracker: Tracker, id_number: str | None = None) -> Lockout | None:
    """The lockout for this conversation and client (and ID number, when given), from the database."""
    with session_scope() as session:
        return lockout(session, sender_id=tracker.sender_id, client=client_key(tracker), id_number=id_number)


class ActionCheckIdentity(Action):
    """Before an account question: is the resident verified, still to be verified, or locked out?

    A verified resident gets their records whatever the wording. Anyone else is asked for an ID number only
    when the question is about their own records; a question about the rules goes to the documents. One about
    their own records that asks how a rule applies ("我个人账户还照常进钱不") gets the rule too, before the form.
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
        if verification_failures(tracker) >= MAX_VERIFICATION_FAILURES:
            return [*events, SlotSet("identity_status", LOCKED)]
        lock = current_lockout(tracker)
        if lock is not None:
            # The rules add the general refusal and the offer of a human (utter_verification_locked).
            dispatcher.utter_message(text=lock.retry_text)
            return [*events, SlotSet("identity_status", LOCKED)]
        if asks_how_a_rule_applies(latest_text(tracker)):
            await tell_the_rule(dispatcher, tracker)
        # A fresh form every time: nothing half-typed in an abandoned attempt is reused.
        return [*events, SlotSet("identity_status", UNVERIFIED), *(SlotSet(slot, None) for slot in IDENTITY_SLOTS)]


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
        checks = [check for c in _candidates(slot_value, tracker) if (check := _read_id_number(c, tracker))]
        valid = next((c for c in checks if c.valid), None)
        if valid is None:
            # Explain what is wrong with the fullest reading of what the resident typed.
            dispatcher.utter_message(text=checks[-1].problem if checks else EXPIRED_ID_NUMBER_TEXT)
            return {"id_number": None}
        lock = current_lockout(tracker, valid.normalized)
        if lock is not None:
            dispatcher.utter_message(text=lock.message, buttons=[HUMAN_BUTTON])
            return {"id_number": None}
        # The slot (Rasa's tracker) keeps the masked form only; the number itself stays sealed until verification.
        with session_scope() as session:
            return {"id_number": seal_id_number(session, tracker.sender_id, valid.normalized or "")}

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
        for event in events:  # this turn's validated values, over what the tracker held before it
            if event.get("event") == "slot" and event.get("name") in values:
                values[event["name"]] = event.get("value")
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
            id_number = _unsealed(session, tracker.sender_id, values["id_number"])
            if id_number is None:  # sealed too long ago: ask for it again rather than guess
                dispatcher.utter_message(text=EXPIRED_ID_NUMBER_TEXT)
                return {"id_number": None}
            # Asked again right before comparing: a lockout must hold at every attempt, not only at the start.
            lock = lockout(session, sender_id=tracker.sender_id, client=client_key(tracker), id_number=id_number)
            resident = None if lock else verify_identity(
                session, values["person_name"], id_number, values["phone_last4"],
                actor=actor(tracker), audit_log_file=settings.audit_log_file,
                sender_id=tracker.sender_id, client=client_key(tracker),
            )
        if lock is not None:
            dispatcher.utter_message(text=lock.message, buttons=[HUMAN_BUTTON])
            # Fields kept so the form completes; the account action then ends the attempt.
            return {"verified": False, "identity_status": LOCKED}
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


def _read_id_number(candidate: str, tracker: Tracker) -> IdNumberCheck | None:
    """The check of the ID number in `candidate`: unsealed when the gateway masked it, None once that expired."""
    masked = masked_id_numbers(candidate)
    if not masked:
        return check_id_number(extract_id_number(candidate))
    with session_scope() as session:
        typed = unseal_id_number(session, tracker.sender_id, masked[-1])
    return check_id_number(typed) if typed else None


def _unsealed(session: Session, sender_id: str, slot_value: str) -> str | None:
    """The ID number behind the slot's masked form (a whole number, from a tool talking to Rasa, as it is)."""
    masked = masked_id_numbers(slot_value)
    return unseal_id_number(session, sender_id, masked[-1]) if masked else slot_value


def verified_text(resident: VerifiedResident) -> str:
    phone = f"，手机 {resident.masked_phone}" if resident.masked_phone else ""
    return f"身份核验通过：{resident.masked_name}（身份证 {resident.masked_id_number}{phone}）。"
