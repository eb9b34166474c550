"""Personal lookups for a verified resident: one function per question a resident asks.

Every function takes the internal `resident_id` from `verify_identity`, returns a frozen dataclass whose
"no record" and "partly known" states are explicit (`has_record`, fields that may be None), and leaves an
audit record (actor, time, lookup kind, masked subject) in the same session. Amounts are `Decimal` yuan.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.audit import record_lookup
from casework.column_types import china_today
from casework.enums import (
    ClaimState,
    ContributionState,
    EnrolmentState,
    LookupKind,
    LookupOutcome,
    OffsiteFilingState,
    OffsiteFilingType,
    Scheme,
)
from casework.models import AccountEntry, Claim, Contribution, Enrolment, OffsiteFiling, Resident


class UnknownResident(LookupError):
    """The internal id does not name a resident (stale slot, deleted record)."""


def yuan(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


# --- enrolment ---------------------------------------------------------------------------


@dataclass(frozen=True)
class EnrolmentPeriod:
    scheme: Scheme
    region: str
    status: EnrolmentState
    start_date: date
    end_date: date | None
    employer: str | None


@dataclass(frozen=True)
class EnrolmentStatus:
    periods: tuple[EnrolmentPeriod, ...]  # oldest first
    current: EnrolmentPeriod | None  # the latest period, whatever its state
    enrolled: bool  # the latest period is 参保缴费 and has not ended

    @property
    def has_record(self) -> bool:
        return bool(self.periods)


def enrolment_status(
    session: Session,
    resident_id: int,
    *,
    actor: str,
    today: date | None = None,
    audit_log_file: Path | None = None,
) -> EnrolmentStatus:
    resident = _resident(session, resident_id)
    today = today or china_today()
    rows = session.scalars(
        select(Enrolment)
        .where(Enrolment.resident_id == resident_id)
        .order_by(Enrolment.start_date, Enrolment.id)
    ).all()
    periods = tuple(
        EnrolmentPeriod(r.scheme, r.region, r.status, r.start_date, r.end_date, r.employer) for r in rows
    )
    current = periods[-1] if periods else None
    enrolled = bool(
        current
        and current.status is EnrolmentState.ACTIVE
        and current.start_date <= today
        and (current.end_date is None or current.end_date >= today)
    )
    result = EnrolmentStatus(periods, current, enrolled)
    _audit(session, actor, LookupKind.ENROLMENT, resident, result.has_record, audit_log_file)
    return result


# --- contributions -----------------------------------------------------------------------


@dataclass(frozen=True)
class ContributionRecord:
    year: int
    month: int | None  # None for a yearly (居民) contribution
    amount: Decimal
    status: ContributionState
    due_date: date
    paid_date: date | None
    overdue: bool  # unpaid and past its due date, whatever the stored status says

    @property
    def paid(self) -> bool:
        return self.status is ContributionState.PAID

    @property
    def period_text(self) -> str:
        return f"{self.year}年{self.month}月" if self.month else f"{self.year}年度"


@dataclass(frozen=True)
class ContributionSummary:
    latest_year: int | None
    latest_year_records: tuple[ContributionRecord, ...]  # in period order
    latest_year_paid_total: Decimal
    unpaid: tuple[ContributionRecord, ...]  # every unpaid record of any year, earliest due first
    next_due: ContributionRecord | None  # the earliest unpaid record not yet overdue
    last_paid: ContributionRecord | None

    @property
    def has_record(self) -> bool:
        return self.latest_year is not None

    @property
    def overdue(self) -> tuple[ContributionRecord, ...]:
        return tuple(r for r in self.unpaid if r.overdue)


def contribution_records(
    session: Session,
    resident_id: int,
    *,
    actor: str,
    today: date | None = None,
    audit_log_file: Path | None = None,
) -> ContributionSummary:
    resident = _resident(session, resident_id)
    today = today or china_today()
    rows = session.scalars(
        select(Contribution)
        .where(Contribution.resident_id == resident_id)
        .order_by(Contribution.year, Contribution.month, Contribution.id)
    ).all()
    records = [
        ContributionRecord(
            r.year,
            r.month,
            yuan(r.amount_fen),
            r.status,
            r.due_date,
            r.paid_date,
            overdue=r.status is not ContributionState.PAID and r.due_date < today,
        )
        for r in rows
    ]
    latest_year = max((r.year for r in records), default=None)
    latest = tuple(r for r in records if r.year == latest_year)
    unpaid = tuple(sorted((r for r in records if not r.paid), key=lambda r: r.due_date))
    paid = [r for r in records if r.paid]
    result = ContributionSummary(
        latest_year=latest_year,
        latest_year_records=latest,
        latest_year_paid_total=sum((r.amount for r in latest if r.paid), Decimal("0.00")),
        unpaid=unpaid,
        next_due=next((r for r in unpaid if not r.overdue), None),
        last_paid=max(paid, key=lambda r: r.paid_date or r.due_date) if paid else None,
    )
    _audit(session, actor, LookupKind.CONTRIBUTIONS, resident, result.has_record, audit_log_file)
    return result


# --- personal account --------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerLine:
    posted_on: date
    description: str
    amount: Decimal  # positive = 划入, negative = 支出
    balance: Decimal


@dataclass(frozen=True)
class AccountBalance:
    applicable: bool  # False for 居民医保, which has no personal account
    balance: Decimal | None  # None when there are no ledger entries at all
    as_of: date | None
    recent: tuple[LedgerLine, ...]  # newest first

    @property
    def has_record(self) -> bool:
        return self.balance is not None


def account_balance(
    session: Session,
    resident_id: int,
    *,
    actor: str,
    recent: int = 5,
    audit_log_file: Path | None = None,
) -> AccountBalance:
    resident = _resident(session, resident_id)
    rows = session.scalars(
        select(AccountEntry)
        .where(AccountEntry.resident_id == resident_id)
        .order_by(AccountEntry.posted_on.desc(), AccountEntry.id.desc())
        .limit(recent)
    ).all()
    lines = tuple(
        LedgerLine(r.posted_on, r.description, yuan(r.amount_fen), yuan(r.balance_fen)) for r in rows
    )
    # An unknown scheme is treated as 职工 when a ledger exists: the data says there is an account.
    applicable = resident.scheme is Scheme.EMPLOYEE or (resident.scheme is None and bool(lines))
    result = AccountBalance(
        applicable=applicable,
        balance=lines[0].balance if lines else None,
        as_of=lines[0].posted_on if lines else None,
        recent=lines,
    )
    _audit(session, actor, LookupKind.ACCOUNT_BALANCE, resident, result.has_record, audit_log_file)
    return result


# --- reimbursements ----------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimView:
    claim_number: str
    hospital: str
    treatment_start: date
    treatment_end: date | None
    submitted_on: date
    total: Decimal
    reimbursed: Decimal | None  # known once settled
    status: ClaimState
    reason: str | None  # why it was returned / what is missing
    settled_on: date | None


@dataclass(frozen=True)
class ReimbursementSummary:
    claims: tuple[ClaimView, ...]  # newest first, filtered by `status_filter`, at most `limit`
    latest: ClaimView | None  # the newest claim of any status
    counts: dict[ClaimState, int] = field(default_factory=dict)  # over all claims
    status_filter: ClaimState | None = None

    @property
    def has_record(self) -> bool:
        return self.latest is not None


def reimbursements(
    session: Session,
    resident_id: int,
    *,
    actor: str,
    status: ClaimState | str | None = None,
    limit: int = 5,
    audit_log_file: Path | None = None,
) -> ReimbursementSummary:
    resident = _resident(session, resident_id)
    wanted = ClaimState(status) if status is not None else None
    rows = session.scalars(
        select(Claim)
        .where(Claim.resident_id == resident_id)
        .order_by(Claim.submitted_on.desc(), Claim.id.desc())
    ).all()
    views = [
        ClaimView(
            r.claim_number,
            r.hospital,
            r.treatment_start,
            r.treatment_end,
            r.submitted_on,
            yuan(r.total_fen),
            yuan(r.reimbursed_fen) if r.reimbursed_fen is not None else None,
            r.status,
            r.status_reason,
            r.settled_on,
        )
        for r in rows
    ]
    selected = [v for v in views if wanted is None or v.status is wanted][:limit]
    result = ReimbursementSummary(
        claims=tuple(selected),
        latest=views[0] if views else None,
        counts=dict(Counter(v.status for v in views)),
        status_filter=wanted,
    )
    _audit(session, actor, LookupKind.REIMBURSEMENTS, resident, result.has_record, audit_log_file)
    return result


# --- off-site filings --------------------------------------------------------------------


@dataclass(frozen=True)
class OffsiteFilingView:
    destination: str
    filing_type: OffsiteFilingType
    valid_from: date
    valid_to: date | None  # None = long-term, until cancelled
    status: OffsiteFilingState
    filed_on: date
    in_force: bool  # 已备案 and today within the validity period


@dataclass(frozen=True)
class OffsiteFilingSummary:
    filings: tuple[OffsiteFilingView, ...]  # newest first

    @property
    def has_record(self) -> bool:
        return bool(self.filings)

    @property
    def in_force(self) -> tuple[OffsiteFilingView, ...]:
        return tuple(f for f in self.filings if f.in_force)


def offsite_filings(
    session: Session,
    resident_id: int,
    *,
    actor: str,
    today: date | None = None,
    audit_log_file: Path | None = None,
) -> OffsiteFilingSummary:
    resident = _resident(session, resident_id)
    today = today or china_today()
    rows = session.scalars(
        select(OffsiteFiling)
        .where(OffsiteFiling.resident_id == resident_id)
        .order_by(OffsiteFiling.filed_on.desc(), OffsiteFiling.id.desc())
    ).all()
    result = OffsiteFilingSummary(
        tuple(
            OffsiteFilingView(
                r.destination,
                r.filing_type,
                r.valid_from,
                r.valid_to,
                r.status,
                r.filed_on,
                in_force=r.status is OffsiteFilingState.EFFECTIVE
                and r.valid_from <= today
                and (r.valid_to is None or today <= r.valid_to),
            )
            for r in rows
        )
    )
    _audit(session, actor, LookupKind.OFFSITE_FILINGS, resident, result.has_record, audit_log_file)
    return result


# --- 医保电子凭证 ------------------------------------------------------------------------


@dataclass(frozen=True)
class EVoucherStatus:
    activated: bool | None  # None = we hold no information (not the same as "not activated")
    activated_on: date | None

    @property
    def has_record(self) -> bool:
        return self.activated is not None


def evoucher_status(
    session: Session,
    resident_id: int,
    *,
    actor: str,
    audit_log_file: Path | None = None,
) -> EVoucherStatus:
    resident = _resident(session, resident_id)
    result = EVoucherStatus(resident.evoucher_activated, resident.evoucher_activated_on)
    _audit(session, actor, LookupKind.EVOUCHER, resident, result.has_record, audit_log_file)
    return result


# --- helpers -----------------------------------------------------------------------------


def _resident(session: Session, resident_id: int) -> Resident:
    resident = session.get(Resident, resident_id)
    if resident is None:
        raise UnknownResident(f"no resident with internal id {resident_id}")
    return resident


def _audit(
    session: Session, actor: str, lookup: LookupKind, resident: Resident, found: bool, log_file: Path | None
) -> None:
    outcome = LookupOutcome.FOUND if found else LookupOutcome.NO_RECORD
    record_lookup(session, actor=actor, lookup=lookup, outcome=outcome, resident=resident, log_file=log_file)
