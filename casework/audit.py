"""The audit trail: every lookup of a resident's personal data leaves a record (who, when, what, whose).

Records hold only masked subjects. Optionally each record is also appended as one JSON line to a log file
(`settings.audit_log_file`), for shipping to a log system; that line is masked the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.column_types import utc_now
from casework.enums import LookupKind, LookupOutcome
from casework.models import AuditRecord, Resident
from hotline.privacy import mask_id_number, mask_name, mask_text


@dataclass(frozen=True)
class AuditEntry:
    occurred_at: datetime
    actor: str
    lookup: LookupKind
    outcome: LookupOutcome
    subject: str
    resident_id: int | None


def masked_subject(name: str, id_number: str) -> str:
    """How a person appears in audit records and tickets: `张** 3601**********1234`."""
    return f"{mask_name(name)} {mask_id_number(id_number)}".strip()


def masked_resident(resident: Resident) -> str:
    return masked_subject(resident.name, resident.id_number)


def record_lookup(
    session: Session,
    *,
    actor: str,
    lookup: LookupKind,
    outcome: LookupOutcome,
    resident: Resident | None = None,
    subject: str | None = None,
    log_file: Path | None = None,
) -> AuditEntry:
    """Add an audit record to the session (committed with the caller's transaction) and optionally log it.

    `subject` is for lookups without a matching resident (e.g. a failed verification); it is masked here
    again in case a caller passed raw text.
    """
    masked = masked_resident(resident) if resident is not None else mask_text(subject or "")
    record = AuditRecord(
        occurred_at=utc_now(),
        actor=mask_text(actor),  # a sender id can be a phone number (SMS, some IM channels)
        lookup=lookup,
        outcome=outcome,
        subject=masked,
        resident_id=resident.id if resident is not None else None,
    )
    session.add(record)
    entry = AuditEntry(record.occurred_at, record.actor, lookup, outcome, masked, record.resident_id)
    if log_file is not None:
        _append_json_line(log_file, entry)
    return entry


def recent_records(session: Session, *, resident_id: int | None = None, limit: int = 50) -> list[AuditEntry]:
    """Newest first; for the agent desk and for tests."""
    query = select(AuditRecord).order_by(AuditRecord.id.desc()).limit(limit)
    if resident_id is not None:
        query = query.where(AuditRecord.resident_id == resident_id)
    return [
        AuditEntry(r.occurred_at, r.actor, r.lookup, r.outcome, r.subject, r.resident_id)
        for r in session.scalars(query)
    ]


def _append_json_line(log_file: Path, entry: AuditEntry) -> None:
    log_file.parent.mkdir(parents=True, exist_ok=True)
    line = {
        "occurred_at": entry.occurred_at.isoformat(),
        "actor": entry.actor,
        "lookup": entry.lookup.value,
        "outcome": entry.outcome.value,
        "subject": entry.subject,
        "resident_id": entry.resident_id,
    }
    with log_file.open("a", encoding="utf-8") as handle:
        handle.write(mask_text(json.dumps(line, ensure_ascii=False)) + "\n")
