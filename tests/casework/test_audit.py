"""The audit trail: who looked up whose data; subjects are masked even when a caller passes raw text."""

from sqlalchemy.orm import Session

from casework.audit import recent_records, record_lookup
from casework.enums import LookupKind, LookupOutcome
from casework.seed import demo_resident


def test_raw_subject_text_is_masked_before_it_is_stored(session: Session) -> None:
    demo = demo_resident("employee")
    record_lookup(
        session,
        actor="rest:sender-9",
        lookup=LookupKind.VERIFY_IDENTITY,
        outcome=LookupOutcome.REJECTED,
        subject=f"输入的号码 {demo.id_number} 手机 {demo.phone}",
    )
    session.commit()
    [entry] = recent_records(session)
    assert demo.id_number not in entry.subject and demo.phone not in entry.subject
    assert "3601**********9014" in entry.subject and entry.resident_id is None


def test_recent_records_are_newest_first_and_filterable_by_resident(session: Session) -> None:
    for kind in (LookupKind.ENROLMENT, LookupKind.EVOUCHER):
        record_lookup(session, actor="agent:wang", lookup=kind, outcome=LookupOutcome.FOUND, subject="张**")
    session.flush()
    assert [e.lookup for e in recent_records(session)] == [LookupKind.EVOUCHER, LookupKind.ENROLMENT]
    assert recent_records(session, resident_id=1) == []
