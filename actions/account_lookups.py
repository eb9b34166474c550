"""Answering a verified resident's questions about their own records, straight from the database."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions import identity_form
from actions.conversation import actor, latest_intent, latest_text
from actions.domain import answers
from actions.handover import escalate
from casework import accounts
from casework.accounts import UnknownResident
from casework.db import session_scope
from casework.enums import TicketCategory
from casework.identity_input import masked_id_numbers
from casework.models import Resident
from casework.sealed_ids import unseal_id_number
from casework.verification import load_verified
from hotline.privacy import id_numbers_in, mask_id_number
from hotline.settings import get_settings

logger = logging.getLogger(__name__)

ONLY_OWN_RECORDS_TEXT = (
    "为保护个人信息安全，只能查询您本人（已核验身份）的信息，不能查询其他人的证件号码对应的记录。"
    "如需查询家人的信息，请由本人核验身份后查询，或携带相关证明到医保经办窗口办理。"
)

# intent → (lookup in the database, reply text). Each lookup writes its own audit record.
Lookup = Callable[[Session, int, str, Any], str]


def _enrolment(session: Session, resident_id: int, who: str, audit: Any) -> str:
    return answers.enrolment_text(accounts.enrolment_status(session, resident_id, actor=who, audit_log_file=audit))


def _contributions(session: Session, resident_id: int, who: str, audit: Any) -> str:
    summary = accounts.contribution_records(session, resident_id, actor=who, audit_log_file=audit)
    resident = load_verified(session, resident_id)
    return answers.contributions_text(summary, resident.scheme if resident else None)


def _balance(session: Session, resident_id: int, who: str, audit: Any) -> str:
    balance = accounts.account_balance(session, resident_id, actor=who, audit_log_file=audit)
    resident = load_verified(session, resident_id)
    return answers.balance_text(balance, resident.scheme if resident else None)


def _reimbursements(session: Session, resident_id: int, who: str, audit: Any) -> str:
    return answers.reimbursement_text(accounts.reimbursements(session, resident_id, actor=who, audit_log_file=audit))


def _offsite_filings(session: Session, resident_id: int, who: str, audit: Any) -> str:
    return answers.offsite_filing_text(
        accounts.offsite_filings(session, resident_id, actor=who, audit_log_file=audit)
    )


def _evoucher(session: Session, resident_id: int, who: str, audit: Any) -> str:
    return answers.evoucher_text(accounts.evoucher_status(session, resident_id, actor=who, audit_log_file=audit))


LOOKUPS: dict[str, Lookup] = {
    "check_enrollment": _enrolment,
    "check_contributions": _contributions,
    "check_account_balance": _balance,
    "check_reimbursement": _reimbursements,
    "check_offsite_filing": _offsite_filings,
    "check_e_voucher": _evoucher,
}


class ActionAnswerAccountQuery(Action):
    """Runs after `action_check_identity` (verified) or when the identity form completes."""

    def name(self) -> str:
        return "action_answer_account_query"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        resident_id = tracker.get_slot("verified_resident_id")
        if not tracker.get_slot("verified") or resident_id is None:
            return self._not_verified(dispatcher, tracker)

        if _names_someone_else(tracker, int(resident_id)):
            dispatcher.utter_message(text=ONLY_OWN_RECORDS_TEXT)
            return [SlotSet("pending_lookup", None)]
        intent = tracker.get_slot("pending_lookup") or latest_intent(tracker)
        lookup = LOOKUPS.get(intent or "")
        if lookup is None:
            dispatcher.utter_message(response="utter_anything_else")
            return [SlotSet("pending_lookup", None)]
        try:
            with session_scope() as session:
                text = lookup(session, int(resident_id), actor(tracker), get_settings().audit_log_file)
        except UnknownResident:
            # The record disappeared since verification: verify again rather than show someone else's data.
            logger.warning("verified resident %s no longer exists", resident_id)
            dispatcher.utter_message(text="抱歉，暂时查不到您的登记信息，请稍后再试，或说“转人工”请坐席为您核实。")
            return [SlotSet("verified", False), SlotSet("verified_resident_id", None),
                    SlotSet("identity_status", None), SlotSet("pending_lookup", None)]
        dispatcher.utter_message(text=text)
        return [SlotSet("pending_lookup", None)]

    def _not_verified(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        cleared = [SlotSet(slot, None) for slot in identity_form.IDENTITY_SLOTS]
        failures = identity_form.verification_failures(tracker)
        locked = tracker.get_slot("identity_status") == identity_form.LOCKED
        if locked and failures < identity_form.MAX_VERIFICATION_FAILURES:
            # Locked out across conversations: the form has said until when, and offered a person.
            return [*cleared, SlotSet("pending_lookup", None)]
        if failures >= identity_form.MAX_VERIFICATION_FAILURES:
            dispatcher.utter_message(
                text="很抱歉，身份核验已连续3次未通过。为保护您的信息安全，本次对话不能继续自助查询个人信息。"
            )
            return [*cleared, SlotSet("pending_lookup", None),
                    *escalate(dispatcher, tracker, TicketCategory.VERIFICATION_FAILED)]
        dispatcher.utter_message(response="utter_verification_cancelled")
        return [*cleared, SlotSet("pending_lookup", None)]


def _names_someone_else(tracker: Tracker, resident_id: int) -> bool:
    """True when the message names an ID number that is not the verified resident's ("查一下4417…9028的余额"):
    a verified resident may look up their own records only, and must be told so, not given their own."""
    text = latest_text(tracker)
    masked, whole = masked_id_numbers(text), id_numbers_in(text)
    if not masked and not whole:
        return False
    with session_scope() as session:
        resident = session.get(Resident, resident_id)
        own = resident.id_number.upper() if resident else ""
        named = [n.upper() for n in whole]
        for form in masked:  # the gateway sealed what it masked; unsealed, it compares exactly
            typed = unseal_id_number(session, tracker.sender_id, form)
            named.append(typed.upper() if typed else form.upper())
    return any(n != own and n != mask_id_number(own) for n in named)
