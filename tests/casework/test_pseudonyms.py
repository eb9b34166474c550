"""Keyed hashes standing in for sender ids, client IPs and ID numbers in tables."""

from __future__ import annotations

from casework.pseudonyms import (
    client_pseudonym,
    id_number_pseudonym,
    is_pseudonym,
    pseudonym,
    sender_pseudonym,
)

KEY = "a-test-key-of-some-length-000000"


def test_a_sender_keeps_its_channel_and_loses_its_id() -> None:
    stored = sender_pseudonym("web:AbCdEf123", key=KEY)
    assert stored.startswith("web:h") and "AbCdEf123" not in stored
    assert sender_pseudonym("wechat:oUpF8uMuAJO", key=KEY).startswith("wechat:h")
    assert sender_pseudonym("web:AbCdEf123", key=KEY) == stored  # stable: rows still group by sender
    assert sender_pseudonym(stored, key=KEY) == stored  # never hashed twice


def test_without_the_key_the_hash_cannot_be_recomputed() -> None:
    assert sender_pseudonym("web:AbCdEf123", key=KEY) != sender_pseudonym("web:AbCdEf123", key=KEY + "x")


def test_purposes_do_not_collide() -> None:
    value = "360102198503129014"
    assert id_number_pseudonym(value, key=KEY) != client_pseudonym(value, key=KEY)
    assert id_number_pseudonym(value.lower(), key=KEY) == id_number_pseudonym(value, key=KEY)
    assert is_pseudonym(pseudonym("x", purpose="p", key=KEY)) and not is_pseudonym("360102198503129014")
