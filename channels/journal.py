"""What the gateway must not lose — messages the bot could not take, feedback, undeliverable WeChat answers —
written to the database (casework.journal), or to the local spool while the database is down.

The spool (`settings.spool_dir / "gateway.sqlite"`, casework/spool.py) is written back by `drain_spool`, which
the gateway runs in a loop (`run_forever`); every entry carries its own time and key, so a row kept during an
outage reads the same as one written at once; a queued message is written once even if its entry is applied twice
(a crash between the database's commit and the spool's delete).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from casework.column_types import utc_now
from casework.spool import Spool
from channels import metrics
from hotline.settings import Settings

log = logging.getLogger(__name__)

QUEUED, FEEDBACK, UNDELIVERABLE = "queued_message", "feedback", "undeliverable_answer"


class Journal:
    def __init__(self, settings: Settings) -> None:
        self.database_url = settings.database_url
        self.spool = Spool(settings.spool_dir / "gateway.sqlite")
        self.retry_seconds = settings.spool_retry_seconds

    async def queue_undelivered(self, *, channel: str, sender_id: str, message: str, reason: str) -> str:
        """Keep a message the bot could not take (Rasa or the action server down); returns the reference the
        resident is given, so staff can find it and the replay can answer it."""
        from casework.journal import new_reference

        reference = new_reference()
        record = {"reference": reference, "channel": channel, "sender_id": sender_id, "message": message,
                  "reason": reason}
        await asyncio.to_thread(self._write, QUEUED, reference, record)
        return reference

    def record_feedback(self, *, sender_id: str, rating: str, answer: str, question: str | None,
                        comment: str | None) -> None:
        from casework.journal import new_reference

        record = {"sender_id": sender_id, "rating": rating, "answer": answer, "question": question,
                  "comment": comment}
        self._write(FEEDBACK, new_reference(), record)

    async def record_undeliverable(self, *, sender_id: str, text: str, reason: str, errcode: int | None = None,
                                   ticket_number: str | None = None) -> None:
        from casework.journal import new_reference

        metrics.error("wechat_api")
        record = {"sender_id": sender_id, "text": text, "reason": reason, "errcode": errcode,
                  "ticket_number": ticket_number}
        await asyncio.to_thread(self._write, UNDELIVERABLE, new_reference(), record)

    def _write(self, kind: str, key: str, record: dict[str, Any]) -> None:
        record = {**record, "now": utc_now().isoformat()}
        try:
            _apply(self.database_url, kind, record)
        except SQLAlchemyError as error:
            metrics.error("database")
            self.spool.put(kind, key, record)
            log.warning("database unavailable (%s): %s %s kept in the local spool", type(error).__name__, kind, key)

    def drain_spool(self) -> int:
        return self.spool.drain(lambda kind, record: _apply(self.database_url, kind, record))

    async def run_forever(self) -> None:
        """Write spooled entries back whenever there are any (every `spool_retry_seconds`)."""
        while True:
            await asyncio.sleep(self.retry_seconds)
            try:
                if len(self.spool):
                    written = await asyncio.to_thread(self.drain_spool)
                    if written:
                        log.info("wrote %d spooled gateway records to the database", written)
            except Exception as error:  # noqa: BLE001 - a broken spool file must not end the loop
                log.warning("gateway spool round failed: %r", error)


def _apply(database_url: str, kind: str, record: dict[str, Any]) -> None:
    from casework import journal
    from casework.db import session_scope

    now = datetime.fromisoformat(record["now"])
    with session_scope(database_url) as session:
        if kind == QUEUED:
            journal.queue_message(session, channel=record["channel"], sender_id=record["sender_id"],
                                  message=record["message"], reason=record["reason"],
                                  reference=record["reference"], now=now)
        elif kind == FEEDBACK:
            journal.record_feedback(session, sender_id=record["sender_id"], rating=record["rating"],
                                    answer=record["answer"], question=record["question"],
                                    comment=record["comment"], now=now)
        elif kind == UNDELIVERABLE:
            journal.record_undeliverable(session, sender_id=record["sender_id"], text=record["text"],
                                         reason=record["reason"], errcode=record["errcode"],
                                         ticket_number=record["ticket_number"], now=now)
        else:
            raise ValueError(f"unknown journal record kind {kind!r}")
