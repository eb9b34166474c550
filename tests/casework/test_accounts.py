"""Each personal lookup: what it returns for full, partial and missing records, and the audit it leaves."""

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from casework import accounts
from casework.enums import (
    ClaimState,
    ContributionState,
    EnrolmentState,
    LookupKind,
    LookupOutcome,
    OffsiteFilingType,
)
from casework.models import AuditRecord
from casework.seed import demo_resident

from .conftest import SEED_DAY, verified

ACTOR = "rest:demo-sender"


def test_active_employee_is_enrolled(session: Session) -> None:
    status = accounts.enrolment_status(
        session, verified(session, "employee").resident_id, actor=ACTOR, today=SEED_DAY
    )
    assert status.enrolled and status.current.status is EnrolmentState.ACTIVE
    assert status.current.employer == "南昌演示科技有限公司"


def test_lapsed_resident_is_not_enrolled_and_shows_when_it_ended(session: Session) -> None:
    status = accounts.enrolment_status(
        session, verified(session, "lapsed").resident_id, actor=ACTOR, today=SEED_DAY
    )
    assert status.has_record and not status.enrolled
    assert status.current.status is EnrolmentState.TERMINATED and status.current.end_date == date(
        2025, 12, 31
    )


def test_never_enrolled_resident_has_no_enrolment_record(session: Session) -> None:
    status = accounts.enrolment_status(session, verified(session, "never_enrolled").resident_id, actor=ACTOR)
    assert not status.has_record and not status.enrolled and status.current is None


def test_employee_contributions_show_latest_year_paid_months_and_next_due(session: Session) -> None:
    summary = accounts.contribution_records(
        session, verified(session, "employee").resident_id, actor=ACTOR, today=SEED_DAY
    )
    assert summary.latest_year == 2026 and len(summary.latest_year_records) == 6  # January to June
    assert summary.latest_year_paid_total == Decimal("600.00")  # five paid months of 120 yuan
    assert summary.next_due.period_text == "2026年6月" and summary.next_due.due_date == date(2026, 6, 25)
    assert not summary.overdue


def test_resident_scheme_paid_this_year_has_nothing_due(session: Session) -> None:
    summary = accounts.contribution_records(
        session, verified(session, "resident_paid").resident_id, actor=ACTOR, today=SEED_DAY
    )
    assert summary.latest_year == 2026 and summary.latest_year_records[0].paid
    assert summary.latest_year_records[0].period_text == "2026年度"
    assert summary.unpaid == () and summary.next_due is None
    assert summary.last_paid.amount == Decimal("400.00")


def test_lapsed_resident_arrears_are_overdue(session: Session) -> None:
    summary = accounts.contribution_records(
        session, verified(session, "lapsed").resident_id, actor=ACTOR, today=SEED_DAY
    )
    assert [r.status for r in summary.overdue] == [ContributionState.ARREARS]
    assert summary.next_due is None


def test_partial_record_has_no_contributions(session: Session) -> None:
    summary = accounts.contribution_records(session, verified(session, "partial").resident_id, actor=ACTOR)
    assert not summary.has_record and summary.latest_year_records == () and summary.last_paid is None


def test_account_balance_is_the_latest_ledger_balance(session: Session) -> None:
    balance = accounts.account_balance(
        session, verified(session, "employee").resident_id, actor=ACTOR, recent=3
    )
    assert balance.applicable and balance.has_record and len(balance.recent) == 3
    newest, previous = balance.recent[0], balance.recent[1]
    assert balance.balance == newest.balance and balance.as_of == newest.posted_on
    assert newest.balance == previous.balance + newest.amount  # the ledger carries balances line by line


def test_resident_scheme_has_no_personal_account(session: Session) -> None:
    balance = accounts.account_balance(session, verified(session, "resident_paid").resident_id, actor=ACTOR)
    assert not balance.applicable and balance.balance is None


def test_partial_employee_record_has_an_account_but_no_ledger(session: Session) -> None:
    balance = accounts.account_balance(session, verified(session, "partial").resident_id, actor=ACTOR)
    assert balance.applicable and not balance.has_record and balance.recent == ()


def test_reimbursements_list_newest_first_with_counts_by_status(session: Session) -> None:
    summary = accounts.reimbursements(session, verified(session, "employee").resident_id, actor=ACTOR)
    assert [c.claim_number for c in summary.claims] == [
        "BX-DEMO-0004",
        "BX-DEMO-0003",
        "BX-DEMO-0002",
        "BX-DEMO-0001",
    ]
    assert summary.latest.status is ClaimState.ACCEPTED
    assert summary.counts == {s: 1 for s in ClaimState}
    settled = summary.claims[-1]
    assert settled.total == Decimal("12860.00") and settled.reimbursed == Decimal("9024.00")


def test_reimbursements_can_be_filtered_by_status_and_returned_claims_give_the_reason(
    session: Session,
) -> None:
    summary = accounts.reimbursements(
        session, verified(session, "employee").resident_id, actor=ACTOR, status="已退回"
    )
    assert [c.status for c in summary.claims] == [ClaimState.RETURNED]
    assert "出院小结" in summary.claims[0].reason and summary.claims[0].reimbursed is None


def test_resident_without_claims_has_no_reimbursement_record(session: Session) -> None:
    summary = accounts.reimbursements(session, verified(session, "no_claims").resident_id, actor=ACTOR)
    assert not summary.has_record and summary.claims == () and summary.counts == {}


def test_offsite_filing_in_force_and_expired_one_are_told_apart(session: Session) -> None:
    summary = accounts.offsite_filings(
        session, verified(session, "offsite").resident_id, actor=ACTOR, today=SEED_DAY
    )
    assert len(summary.filings) == 2
    assert [(f.destination, f.filing_type) for f in summary.in_force] == [
        ("海南省三亚市", OffsiteFilingType.LONG_TERM_RESIDENCE)
    ]
    assert summary.in_force[0].valid_to is None


def test_resident_without_filings_has_no_offsite_record(session: Session) -> None:
    summary = accounts.offsite_filings(session, verified(session, "employee").resident_id, actor=ACTOR)
    assert not summary.has_record and summary.in_force == ()


def test_evoucher_activation_known_unknown_and_not_activated(session: Session) -> None:
    activated = accounts.evoucher_status(session, verified(session, "employee").resident_id, actor=ACTOR)
    not_activated = accounts.evoucher_status(session, verified(session, "lapsed").resident_id, actor=ACTOR)
    unknown = accounts.evoucher_status(session, verified(session, "partial").resident_id, actor=ACTOR)
    assert activated.activated is True and activated.activated_on == date(2024, 5, 10)
    assert not_activated.activated is False and not_activated.has_record
    assert unknown.activated is None and not unknown.has_record


def test_every_lookup_writes_a_masked_audit_record(session: Session, tmp_path: Path) -> None:
    resident_id = verified(session, "employee").resident_id
    log_file = tmp_path / "audit.log"
    calls = {
        LookupKind.ENROLMENT: accounts.enrolment_status,
        LookupKind.CONTRIBUTIONS: accounts.contribution_records,
        LookupKind.ACCOUNT_BALANCE: accounts.account_balance,
        LookupKind.REIMBURSEMENTS: accounts.reimbursements,
        LookupKind.OFFSITE_FILINGS: accounts.offsite_filings,
        LookupKind.EVOUCHER: accounts.evoucher_status,
    }
    for lookup in calls.values():
        lookup(session, resident_id, actor="wechat:13812345678", audit_log_file=log_file)
    session.commit()

    records = session.scalars(select(AuditRecord).order_by(AuditRecord.id)).all()
    assert [r.lookup for r in records] == list(calls)
    # The employee has no off-site filing: that lookup is audited as 无记录.
    assert [r.outcome for r in records] == [LookupOutcome.FOUND] * 4 + [
        LookupOutcome.NO_RECORD,
        LookupOutcome.FOUND,
    ]
    demo = demo_resident("employee")
    for record in records:
        assert record.resident_id == resident_id and record.occurred_at.tzinfo is not None
        assert record.subject == "张** 3601**********9014"
        assert record.actor == "wechat:138****5678"  # a phone-like sender id is masked too
    lines = [json.loads(line) for line in log_file.read_text(encoding="utf-8").splitlines()]
    assert [line["lookup"] for line in lines] == [k.value for k in calls]
    raw = log_file.read_text(encoding="utf-8")
    assert demo.id_number not in raw and demo.name not in raw and "13812345678" not in raw


def test_lookup_with_no_record_is_audited_as_such(session: Session) -> None:
    resident_id = verified(session, "no_claims").resident_id
    accounts.reimbursements(session, resident_id, actor=ACTOR)
    session.flush()
    record = session.scalars(select(AuditRecord).order_by(AuditRecord.id.desc())).first()
    assert (record.lookup, record.outcome) == (LookupKind.REIMBURSEMENTS, LookupOutcome.NO_RECORD)


def test_unknown_internal_id_is_an_error_not_an_empty_answer(session: Session) -> None:
    with pytest.raises(accounts.UnknownResident):
        accounts.account_balance(session, 424242, actor=ACTOR)
