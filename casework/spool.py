"""A local spool for the writes the database refused while it was down, written again once it is back.

    spool = Spool(settings.spool_dir / "actions.sqlite")
    spool.put("ticket", key, payload)          # the database is down: keep the write on local disk
    spool.drain(apply)                         # later: apply(kind, payload) each, oldest first, then forget it

Each entry has a key (unique): putting the same key twice keeps one entry, and `apply` must be idempotent by it
(a ticket's request key, a queued message's reference), because an entry is forgotten only after `apply` returned,
so a crash in between applies it again. The spool is a SQLite file of the process's own host (stdlib `sqlite3`,
mode 0600: payloads may hold a sender id until they are written); several processes on one host may share it.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    key TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    created_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
)
"""


@dataclass(frozen=True)
class SpoolEntry:
    id: int
    kind: str
    key: str
    payload: dict[str, Any]
    created_at: float
    attempts: int


class Spool:
    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        connection = sqlite3.connect(self.path, timeout=15)
        try:
            connection.execute(SCHEMA)
            with connection:
                yield connection
        finally:
            connection.close()

    def put(self, kind: str, key: str, payload: dict[str, Any]) -> None:
        with self._connection() as connection:
            connection.execute(
                "INSERT OR IGNORE INTO entries (kind, key, payload, created_at) VALUES (?, ?, ?, ?)",
                (kind, key, json.dumps(payload, ensure_ascii=False), time.time()),
            )

    def entries(self) -> list[SpoolEntry]:
        if not self.path.exists():
            return []
        with self._connection() as connection:
            rows = connection.execute(
                "SELECT id, kind, key, payload, created_at, attempts FROM entries ORDER BY id"
            ).fetchall()
        return [SpoolEntry(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5]) for r in rows]

    def __len__(self) -> int:
        if not self.path.exists():
            return 0
        with self._connection() as connection:
            return int(connection.execute("SELECT COUNT(*) FROM entries").fetchone()[0])

    def drain(self, apply: Callable[[str, dict[str, Any]], None]) -> int:
        """Apply every entry, oldest first; stops at the first failure (the database is still down) and returns
        how many were written."""
        written = 0
        for entry in self.entries():
            try:
                apply(entry.kind, entry.payload)
            except Exception as error:  # noqa: BLE001 - the database is still down (or refused): keep it
                with self._connection() as connection:
                    connection.execute(
                        "UPDATE entries SET attempts = attempts + 1, last_error = ? WHERE id = ?",
                        (type(error).__name__, entry.id),
                    )
                log.warning("spooled %s %s not written yet: %s", entry.kind, entry.key[:12], type(error).__name__)
                break
            with self._connection() as connection:
                connection.execute("DELETE FROM entries WHERE id = ?", (entry.id,))
            written += 1
        return written
