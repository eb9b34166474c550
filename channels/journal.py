"""Append-only JSON-lines files under `settings.gateway_state_dir` for what the gateway must not lose.

- `undelivered.jsonl`: messages that arrived while Rasa or the action server was down, for staff to handle
  or replay (`status: "queued"`);
- `feedback.jsonl`: residents' 👍/👎 on answers;
- `wechat_undeliverable.jsonl`: answers WeChat refused to deliver (45015 reply window over, 45047 limit).

Personal data is masked before it is written (hotline.privacy.mask_text).
"""

from __future__ import annotations

import json
import secrets
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hotline.privacy import mask_text

_lock = threading.Lock()


class Journal:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, name: str) -> Path:
        return self.directory / f"{name}.jsonl"

    def append(self, name: str, record: dict[str, Any]) -> dict[str, Any]:
        entry = {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            **{k: mask_text(v) if isinstance(v, str) else v for k, v in record.items()},
        }
        with _lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            with self.path(name).open("a", encoding="utf-8") as file:
                file.write(json.dumps(entry, ensure_ascii=False) + "\n")
        return entry

    def queue_undelivered(self, *, channel: str, sender_id: str, message: str, reason: str) -> str:
        """Keep a message the bot could not take (Rasa or the action server down); returns the reference
        the resident is given, so staff can find it."""
        reference = secrets.token_hex(4).upper()
        self.append("undelivered", {
            "reference": reference, "channel": channel, "sender_id": sender_id, "message": message,
            "status": "queued", "reason": reason,
        })
        return reference

    def read(self, name: str) -> list[dict[str, Any]]:
        path = self.path(name)
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
