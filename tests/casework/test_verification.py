"""Identity verification: all three facts must match, and a failure never says which one did not."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.enums import LookupKind, LookupOutcome, Scheme
from casework.models import AuditRecord
from casework.seed import demo_resident
from casework.verification import load_verified, verify_identity

EMPLOYEE = demo_resident("employee")


def test_matching_name_id_and_phone_digits_verify_with_a_masked_view(session: Session) -> None:
    resident = verify_identity(session, EMPLOYEE.name, EMPLOYEE.id_number, EMPLOYEE.phone[-4:])
    assert resident is not None
    assert resident.masked_name == "张**"
    assert resident.masked_id_number == EMPLOYEE.id_number[:4] + "*" * 10 + EMPLOYEE.id_number[-4:]
    assert resident.masked_phone == "138****0001"
    assert resident.scheme is Scheme.EMPLOYEE
    assert EMPLOYEE.id_number not in repr(resident) and EMPLOYEE.phone not in repr(resident)


def test_resident_typing_style_does_not_matter(session: Session) -> None:
    spaced_full_width = " ".join(EMPLOYEE.id_number[i : i + 6] for i in range(0, 18, 6)).translate(
        str.maketrans("0123456789", "０１２３４５６７８９")
    )
    assert verify_identity(session, f" {EMPLOYEE.name} ", spaced_full_width, EMPLOYEE.phone) is not None


def test_any_single_mismatch_gives_the_same_anonymous_failure(session: Session) -> None:
    other = demo_resident("resident_paid")
    attempts = [
        ("张三", EMPLOYEE.id_number, EMPLOYEE.phone[-4:]),  # wrong name
        (EMPLOYEE.name, other.id_number, EMPLOYEE.phone[-4:]),  # someone else's ID number
        (EMPLOYEE.name, EMPLOYEE.id_number, "9999"),  # wrong phone digits
        (EMPLOYEE.name, EMPLOYEE.id_number[:-1] + "5", EMPLOYEE.phone[-4:]),  # invalid ID number
        ("测试", "110105194912310021", "0000"),  # nobody at all
    ]
    for name, id_number, last4 in attempts:
        assert verify_identity(session, name, id_number, last4) is None


def test_attempts_are_audited_with_masked_subjects_only(session: Session) -> None:
    verify_identity(session, EMPLOYEE.name, EMPLOYEE.id_number, "9999", actor="rest:sender-1")
    verify_identity(session, EMPLOYEE.name, EMPLOYEE.id_number, EMPLOYEE.phone[-4:], actor="rest:sender-1")
    session.flush()
    records = session.scalars(select(AuditRecord).order_by(AuditRecord.id)).all()
    assert [(r.lookup, r.outcome) for r in records] == [
        (LookupKind.VERIFY_IDENTITY, LookupOutcome.REJECTED),
        (LookupKind.VERIFY_IDENTITY, LookupOutcome.VERIFIED),
    ]
    assert records[0].resident_id is None  # a failed attempt is not linked to the record it was compared with
    assert all(EMPLOYEE.id_number not in r.subject and EMPLOYEE.name not in r.subject for r in records)


def test_verified_resident_can_be_reloaded_from_its_internal_id(session: Session) -> None:
    resident = verify_identity(session, EMPLOYEE.name, EMPLOYEE.id_number, EMPLOYEE.phone[-4:])
    assert load_verified(session, resident.resident_id) == resident
    assert load_verified(session, 999_999) is None
