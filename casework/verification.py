"""Identity verification before any personal lookup: name + ID number + last four digits of the phone.

The answer is only "verified" (with a masked view) or None. It never says which field did not match, so the
hotline cannot be used to probe whether an ID number exists or what name belongs to it.
"""

from __future__ import annotations

import hmac
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework.audit import masked_resident, record_lookup
from casework.column_types import utc_now
from casework.enums import LookupKind, LookupOutcome, Scheme
from casework.id_numbers import check_id_number, check_phone_last4
from casework.models import AuditRecord, Resident
from hotline.privacy import mask_id_number, mask_name, mask_phone, mask_text

# Four digits of a phone are only 10 000 guesses: after this many failures in the window, stop trying and
# hand the resident to a person (身份核验失败 ticket) instead.
MAX_FAILED_ATTEMPTS = 5
FAILED_ATTEMPTS_WINDOW = timedelta(hours=1)

# Compared against when no resident matches, so a miss costs about the same time as a near-hit.
_DECOY_NAME = "\u0000" * 4
_DECOY_PHONE_LAST4 = "\u0000" * 4


@dataclass(frozen=True)
class VerifiedResident:
    resident_id: int  # internal id: keep it server-side (slot / session), never show it to the resident
    masked_name: str
    masked_id_number: str
    masked_phone: str | None
    region: str | None
    scheme: Scheme | None

    @property
    def masked_subject(self) -> str:
        return f"{self.masked_name} {self.masked_id_number}"


def verify_identity(
    session: Session,
    name: str,
    id_number: str,
    phone_last4: str,
    *,
    actor: str | None = None,
    audit_log_file: Path | None = None,
) -> VerifiedResident | None:
    """The resident whose name, ID number and registered phone (last four digits) all match, else None.

    With `actor` (e.g. "rest:<sender_id>") the attempt is audited, successful or not.
    """
    id_check = check_id_number(id_number)
    phone_check = check_phone_last4(phone_last4)
    resident = None
    if id_check.valid:
        resident = session.scalars(select(Resident).where(Resident.id_number == id_check.normalized)).first()

    expected_name = _normalize_name(resident.name) if resident else _DECOY_NAME
    expected_last4 = (resident.phone or "")[-4:] if resident and resident.phone else _DECOY_PHONE_LAST4
    # Evaluate both comparisons unconditionally (no short-circuit) so timing does not reveal which failed.
    name_matches = hmac.compare_digest(_normalize_name(name).encode(), expected_name.encode())
    phone_matches = hmac.compare_digest((phone_check.normalized or "").encode(), expected_last4.encode())
    verified = resident is not None and id_check.valid and phone_check.valid and name_matches & phone_matches

    if actor is not None:
        record_lookup(
            session,
            actor=actor,
            lookup=LookupKind.VERIFY_IDENTITY,
            outcome=LookupOutcome.VERIFIED if verified else LookupOutcome.REJECTED,
            resident=resident if verified else None,
            # A failed attempt names only what was typed (masked), never the record it was compared with.
            subject=None if verified else _masked_attempt(name, id_check.normalized or id_number),
            log_file=audit_log_file,
        )
    if not verified or resident is None:
        return None
    return verified_view(resident)


def failed_attempts(session: Session, actor: str, *, window: timedelta = FAILED_ATTEMPTS_WINDOW) -> int:
    """Failed verifications audited for `actor` (the same "channel:sender" passed to verify_identity)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(AuditRecord)
            .where(
                AuditRecord.actor == mask_text(actor),
                AuditRecord.lookup == LookupKind.VERIFY_IDENTITY,
                AuditRecord.outcome == LookupOutcome.REJECTED,
                AuditRecord.occurred_at >= utc_now() - window,
            )
        )
        or 0
    )


def verification_locked(session: Session, actor: str) -> bool:
    """True once `actor` has failed MAX_FAILED_ATTEMPTS times within the window: stop asking, escalate."""
    return failed_attempts(session, actor) >= MAX_FAILED_ATTEMPTS


def verified_view(resident: Resident) -> VerifiedResident:
    return VerifiedResident(
        resident_id=resident.id,
        masked_name=mask_name(resident.name),
        masked_id_number=mask_id_number(resident.id_number),
        masked_phone=mask_phone(resident.phone) if resident.phone else None,
        region=resident.region,
        scheme=resident.scheme,
    )


def load_verified(session: Session, resident_id: int) -> VerifiedResident | None:
    """Re-load a resident verified earlier in the conversation (e.g. from a slot holding the internal id)."""
    resident = session.get(Resident, resident_id)
    return verified_view(resident) if resident is not None else None


def _normalize_name(name: str) -> str:
    # NFKC folds full-width letters; the middle dot variants in minority names are unified; spaces dropped.
    value = unicodedata.normalize("NFKC", name or "")
    value = value.replace("•", "·").replace("・", "·").replace("．", "·")
    return "".join(value.split())


def _masked_attempt(name: str, id_number: str) -> str:
    return f"{mask_name(_normalize_name(name))} {mask_id_number(id_number)}".strip()


__all__ = [
    "MAX_FAILED_ATTEMPTS",
    "VerifiedResident",
    "failed_attempts",
    "load_verified",
    "masked_resident",
    "verification_locked",
    "verified_view",
    "verify_identity",
]
