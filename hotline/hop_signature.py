"""Signatures on the gateway → Rasa hop: HMAC-SHA256 of `<timestamp>.<nonce>.<body>` with RASA_CHANNEL_SECRET.

The gateway signs (channels/rasa_client.py); Rasa's input channel (bot/connectors/gateway.py) verifies, in
constant time, refusing a timestamp outside the window and a nonce it has already accepted, so a captured
request can be neither forged nor replayed (the random nonce lets a resident send one text twice).
Standard library only: Rasa's Python 3.10 venv imports it too.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Mapping

TIMESTAMP_HEADER = "X-Hotline-Timestamp"
NONCE_HEADER = "X-Hotline-Nonce"
SIGNATURE_HEADER = "X-Hotline-Signature"
# What Rasa's input channel tells the gateway about the message it answered (for analytics).
INTENT_HEADER = "X-Hotline-Intent"
CONFIDENCE_HEADER = "X-Hotline-Intent-Confidence"


def signature(secret: str, timestamp: str, nonce: str, body: bytes) -> str:
    signed = f"{timestamp}.{nonce}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    timestamp = str(int(now if now is not None else time.time()))
    nonce = secrets.token_hex(12)
    return {TIMESTAMP_HEADER: timestamp, NONCE_HEADER: nonce,
            SIGNATURE_HEADER: signature(secret, timestamp, nonce, body)}


def _header(headers: Mapping[str, str], name: str) -> str:
    return headers.get(name) or headers.get(name.lower()) or ""


class SignatureVerifier:
    """Checks one request's signature; remembers accepted nonces for the window to refuse replays."""

    def __init__(self, secret: str, max_age: int = 60) -> None:
        self._secret = secret
        self.max_age = max_age
        self._seen: dict[str, float] = {}
        self._next_prune = 0.0
        self._lock = threading.Lock()

    def problem(self, headers: Mapping[str, str], body: bytes, now: float | None = None) -> str | None:
        """None for a fresh, well-signed request; otherwise why it is refused (no secret in the text)."""
        now = now if now is not None else time.time()
        timestamp, nonce = _header(headers, TIMESTAMP_HEADER), _header(headers, NONCE_HEADER)
        given = _header(headers, SIGNATURE_HEADER)
        if not timestamp or not nonce or not given:
            return "missing signature"
        if not timestamp.isdigit() or len(timestamp) > 12 or abs(now - int(timestamp)) > self.max_age:
            return "stale or invalid timestamp"
        expected = signature(self._secret, timestamp, nonce, body)
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return "invalid signature"
        with self._lock:
            if now >= self._next_prune:  # nonces older than the window can no longer pass the timestamp check
                self._seen = {n: at for n, at in self._seen.items() if at >= now - 2 * self.max_age}
                self._next_prune = now + self.max_age
            if nonce in self._seen:
                return "replayed request"
            self._seen[nonce] = now
        return None
