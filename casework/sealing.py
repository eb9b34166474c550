"""Sealed values: what must be read back later (where to deliver an answer) but not by whoever reads the table.

`seal(text)` encrypts and authenticates with Fernet (AES-128-CBC + HMAC-SHA256) under a key derived from
IDENTIFIER_HASH_KEY; `unseal(token)` gives the text back, or None when the key has changed or the token was
altered. Keyed hashes (casework.pseudonyms) are for values that are only ever compared, this is for the few that
must be used again, and only until they are (a queued message's sender id until its answer is delivered).
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

from hotline.settings import get_settings


def _fernet(key: str | None) -> Fernet:
    secret = key if key is not None else get_settings().identifier_hash_key.get_secret_value()
    # A purpose-bound derivation: the same setting keys the pseudonyms, never with the same derived key.
    derived = hashlib.sha256(f"hotline-seal:{secret}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(text: str, key: str | None = None) -> str:
    return _fernet(key).encrypt(text.encode()).decode()


def unseal(token: str, key: str | None = None) -> str | None:
    try:
        return _fernet(key).decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        return None
