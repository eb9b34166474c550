"""ID numbers kept out of Rasa: the gateway masks them, the identity form unseals them to verify.

Rasa keeps every message in its tracker (a SQL table in production) and echoes some in its logs, so an ID
number must never reach it whole. `mask_for_bot` (gateway) replaces each ID number in a message with its masked
form (`3601**********9014`; whole phone numbers become `138****5678`, whose last four digits still verify) and
stores the number encrypted (casework.sealing) for SEALED_FOR, under the sender's keyed hash and the masked form.
`unseal_id_number` (action server) gives it back to the same sender only. The identity form keeps only the
masked form in its slot and seals a number that reached it whole (a test tool talking to Rasa directly).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from casework.column_types import utc_now
from casework.models import SealedIdNumber
from casework.pseudonyms import sender_pseudonym
from casework.sealing import seal, unseal
from hotline.privacy import id_numbers_in, mask_id_number, mask_text

# Long enough to type the phone digits and have the form verify; short enough that nothing lingers.
SEALED_FOR = timedelta(minutes=10)


def needs_masking(text: str) -> bool:
    return mask_text(text) != text


def mask_for_bot(session: Session, sender_id: str, text: str, *, now: datetime | None = None) -> str:
    """`text` with ID numbers and phones masked; each ID number sealed for `sender_id` for SEALED_FOR."""
    for id_number in id_numbers_in(text):
        seal_id_number(session, sender_id, id_number, now=now)
    return mask_text(text)


def seal_id_number(session: Session, sender_id: str, id_number: str, *, now: datetime | None = None) -> str:
    """Keep `id_number` sealed for this sender for SEALED_FOR; returns its masked form, the key to unseal it."""
    now = now or utc_now()
    session.execute(delete(SealedIdNumber).where(SealedIdNumber.expires_at < now))
    masked = mask_id_number(id_number)
    session.add(SealedIdNumber(sender=sender_pseudonym(sender_id), masked=masked, sealed=seal(id_number),
                               expires_at=now + SEALED_FOR))
    return masked


def unseal_id_number(session: Session, sender_id: str, masked: str, *, now: datetime | None = None) -> str | None:
    """The ID number this sender typed that masks to `masked`, or None once it has expired (or never was)."""
    row = session.scalars(
        select(SealedIdNumber)
        .where(SealedIdNumber.sender == sender_pseudonym(sender_id), SealedIdNumber.masked == masked,
               SealedIdNumber.expires_at >= (now or utc_now()))
        .order_by(SealedIdNumber.id.desc())
    ).first()
    return unseal(row.sealed) if row is not None else None
