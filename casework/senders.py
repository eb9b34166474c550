"""How a resident's sender id (`web:…`, `wechat:<openid>`) is kept on tickets and messages.

Callers always pass the real sender id; every comparison and every stored value goes through `stored_sender`,
a keyed hash that keeps the channel prefix (`web:h…`): whoever reads the tables learns neither a web session id
(which, with the gateway secret, would let them speak as the resident) nor an openid. What a pushed reply needs
(the WeChat openid) is kept apart, sealed (`reply_address`), and given back only to the outbox
(`delivery_sender`). Web residents fetch their replies with their own sender id, so they need no address.
"""

from __future__ import annotations

from casework.pseudonyms import sender_pseudonym
from casework.sealing import seal, unseal

PUSHED_PREFIX = "wechat:"  # channels whose replies the gateway pushes (customer-service API)


def stored_sender(sender_id: str) -> str:
    """The value stored in `tickets.sender_id` / `ticket_messages.sender_id` for this sender."""
    return sender_pseudonym(sender_id)


def reply_address(sender_id: str) -> str | None:
    """The sealed openid of a WeChat sender (for `reply_to` columns); None for senders that poll."""
    return seal(sender_id.removeprefix(PUSHED_PREFIX)) if sender_id.startswith(PUSHED_PREFIX) else None


def delivery_sender(stored: str, sealed_reply_to: str | None) -> str:
    """The real sender id to push a reply to (`wechat:<openid>`), or the stored hash when there is none."""
    openid = unseal(sealed_reply_to) if sealed_reply_to else None
    return PUSHED_PREFIX + openid if openid else stored
