"""Keyed hashes that stand in for identifiers in tables: sender ids, client IPs, ID numbers.

A table that held a raw web session id would let anyone who reads it speak as that resident (if the gateway
secret leaked too), and one that held ID numbers would be a list of them. HMAC-SHA256 with
IDENTIFIER_HASH_KEY gives a stable stand-in that cannot be reversed or recomputed without the key, so rows
still group by sender, client or person. Sender ids keep their channel prefix (`web:` / `wechat:`), which
says where a reply goes without saying to whom.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from hotline.settings import get_settings

PREFIX = "h"  # marks a pseudonym, so one is never mistaken for (or hashed again as) a raw id


def pseudonym(value: str, *, purpose: str, key: str | None = None) -> str:
    """`h` + 26 base32 characters (130 bits) of HMAC-SHA256(key, purpose:value)."""
    secret = key if key is not None else get_settings().identifier_hash_key.get_secret_value()
    digest = hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).digest()
    return PREFIX + base64.b32encode(digest).decode().lower()[:26]


def sender_pseudonym(sender_id: str, key: str | None = None) -> str:
    """`web:abc…` → `web:h…`: the channel prefix stays, the id is hashed (idempotent on a pseudonym)."""
    channel, sep, rest = sender_id.partition(":")
    if not sep:
        return pseudonym(sender_id, purpose="sender", key=key)
    if is_pseudonym(rest):
        return sender_id
    return f"{channel}:{pseudonym(sender_id, purpose='sender', key=key)}"


def client_pseudonym(ip: str, key: str | None = None) -> str:
    return pseudonym(ip, purpose="client", key=key)


def id_number_pseudonym(id_number: str, key: str | None = None) -> str:
    return pseudonym(id_number.strip().upper(), purpose="id_number", key=key)


def is_pseudonym(value: str) -> bool:
    return len(value) == 27 and value.startswith(PREFIX) and value[1:].isalnum()
