"""Identity verification before any personal lookup: name + ID number + last four digits of the phone.

The answer is only "verified" (with a masked view) or None. It never says which field did not match, so the
hotline cannot be used to probe whether an ID number exists or what name belongs to it.

Four digits of a phone are only 10 000 guesses, so every attempt is kept (`identity_attempts`, keyed hashes
only) and `lockout()` is asked before each one: failures are limited per ID number tried (the person, whoever
asks), per conversation and per client IP, and so is the number of different ID numbers one conversation or
client tries (enumeration). The limits hold across `/restart` and new sessions, since they live in the database.
"""

from __future__ import annotations

import hmac
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework.audit import masked_resident, record_lookup
from casework.column_types import CHINA_TZ, utc_now
from casework.enums import LookupKind, LookupOutcome, Scheme
from casework.id_numbers import check_id_number, check_phone_last4
from casework.models import IdentityAttempt, Resident
from casework.pseudonyms import id_number_pseudonym, sender_pseudonym
from hotline.privacy import mask_id_number, mask_name, mask_phone
from hotline.settings import Settings, get_settings

Scope = Literal["target", "sender", "client"]


@dataclass(frozen=True)
class AttemptLimit:
    scope: Scope  # whose attempts: one ID number's (the person), one conversation's, one client IP's
    maximum: int
    window: timedelta
    distinct_targets: bool = False  # count the different ID numbers tried, not the failures (enumeration)


def attempt_limits(settings: Settings | None = None) -> tuple[AttemptLimit, ...]:
    """The limits, with their maximums from the settings (defaults 5 / 3 / 10 / 3 / 10).

    Why these values: a resident who mistypes gets a few tries in a conversation; an ID number survives five
    wrong guesses a day from anywhere (its 10 000 phone endings would take years); one IP is often a household
    or an office NAT, so it gets more than one conversation; trying several people's ID numbers is enumeration.
    """
    s = settings or get_settings()
    return (
        AttemptLimit("target", s.identity_failures_per_id_number, timedelta(hours=24)),
        AttemptLimit("sender", s.identity_failures_per_conversation, timedelta(hours=1)),
        AttemptLimit("client", s.identity_failures_per_client, timedelta(hours=1)),
        AttemptLimit("sender", s.identity_id_numbers_per_conversation, timedelta(hours=24), distinct_targets=True),
        AttemptLimit("client", s.identity_id_numbers_per_client, timedelta(hours=24), distinct_targets=True),
    )

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
    sender_id: str | None = None,
    client: str | None = None,
) -> VerifiedResident | None:
    """The resident whose name, ID number and registered phone (last four digits) all match, else None.

    With `actor` (e.g. "web:<hashed sender>") the attempt is audited, successful or not; with `sender_id` (and
    `client`, the gateway's hash of the client IP) it counts towards the lockouts. Ask `lockout()` first.
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
    if sender_id is not None and id_check.valid:
        session.add(IdentityAttempt(
            occurred_at=utc_now(), target=id_number_pseudonym(id_check.normalized or ""),
            sender=sender_pseudonym(sender_id), client=client, succeeded=bool(verified),
        ))
    if not verified or resident is None:
        return None
    return verified_view(resident)


@dataclass(frozen=True)
class Lockout:
    """Verification is paused for this person, conversation or client until `until` (aware UTC)."""

    scope: Scope
    until: datetime

    @property
    def retry_text(self) -> str:
        """`该证件号码的身份核验尝试次数过多，请于12月3日 18:05 后再试。`"""
        local = self.until.astimezone(CHINA_TZ)
        who = "该证件号码" if self.scope == "target" else "当前对话"
        return f"{who}的身份核验尝试次数过多，请于{local.month}月{local.day}日 {local:%H:%M} 后再试。"

    @property
    def message(self) -> str:
        """What the resident is told: why in general terms, when to retry, and that a person can help."""
        return f"为保护您的信息安全，自助核验已暂停：{self.retry_text}如需现在办理，请说“转人工”，坐席会为您人工核实身份。"


def lockout(
    session: Session,
    *,
    sender_id: str,
    client: str | None = None,
    id_number: str | None = None,
    now: datetime | None = None,
    limits: tuple[AttemptLimit, ...] | None = None,
) -> Lockout | None:
    """The lockout that applies to the next attempt (the latest-ending one), or None when it may go ahead."""
    now = now or utc_now()
    keys: dict[Scope, str | None] = {
        "target": id_number_pseudonym(id_number) if id_number else None,
        "sender": sender_pseudonym(sender_id),
        "client": client,
    }
    found = [
        lock for limit in limits or attempt_limits()
        if keys[limit.scope] and (lock := _lock_of(session, limit, str(keys[limit.scope]), now))
    ]
    return max(found, key=lambda lock: lock.until) if found else None


def _lock_of(session: Session, limit: AttemptLimit, key: str, now: datetime) -> Lockout | None:
    column = {"target": IdentityAttempt.target, "sender": IdentityAttempt.sender,
              "client": IdentityAttempt.client}[limit.scope]
    recent = (IdentityAttempt.succeeded.is_(False), column == key, IdentityAttempt.occurred_at >= now - limit.window)
    if limit.distinct_targets:
        # Each ID number tried counts once, at its latest failure: the lock lifts as the oldest ones age out.
        query = select(func.max(IdentityAttempt.occurred_at)).where(*recent).group_by(IdentityAttempt.target)
    else:
        query = select(IdentityAttempt.occurred_at).where(*recent)
    moments = sorted(session.scalars(query), reverse=True)
    if len(moments) < limit.maximum:
        return None
    # Locked until the maximum-th most recent counted failure leaves the window.
    return Lockout(limit.scope, _aware(moments[limit.maximum - 1]) + limit.window)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=utc_now().tzinfo)


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
    "AttemptLimit",
    "Lockout",
    "VerifiedResident",
    "load_verified",
    "lockout",
    "attempt_limits",
    "masked_resident",
    "verified_view",
    "verify_identity",
]
