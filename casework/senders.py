"""How a resident's sender id (`web:…`, `wechat:<openid>`) is kept on tickets and messages.

Callers always pass the real sender id; every comparison and every stored value goes through `stored_sender`,
so changing how it is kept (e.g. a keyed hash) changes this one function.
"""

from __future__ import annotations


def stored_sender(sender_id: str) -> str:
    """The value stored in `tickets.sender_id` / `ticket_messages.sender_id` for this sender."""
    return sender_id
