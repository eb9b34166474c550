"""Sender ids the gateway issues and signs, so a client can never speak as another resident.

A web session is `web:<random>`; the client holds `web:<random>.<signature>` (the *token*), where the
signature is HMAC-SHA256 over the id with `settings.gateway_secret`. Only the gateway mints ids, so anything
the bot or an agent later attaches to that id (verified identity, tickets, agent replies) stays with the
browser that received the token. WeChat ids come from the OpenID in WeChat's signed message: `wechat:<id>`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

WEB_PREFIX = "web:"
WECHAT_PREFIX = "wechat:"
COOKIE_NAME = "hotline_session"
SENDER_HEADER = "X-Hotline-Sender"


class SessionSigner:
    def __init__(self, secret: str) -> None:
        self._key = secret.encode()

    def _signature(self, sender_id: str) -> str:
        digest = hmac.new(self._key, sender_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def issue(self) -> str:
        """A fresh web token: `web:<128 random bits>.<signature>`."""
        return self.sign(WEB_PREFIX + secrets.token_urlsafe(16))

    def sign(self, sender_id: str) -> str:
        return f"{sender_id}.{self._signature(sender_id)}"

    def verify(self, token: str | None) -> str | None:
        """The sender id inside a well-signed web token, else None (constant-time comparison)."""
        if not token or "." not in token or len(token) > 200:
            return None
        sender_id, _, signature = token.rpartition(".")
        if not sender_id.startswith(WEB_PREFIX):
            return None
        if not hmac.compare_digest(signature.encode(), self._signature(sender_id).encode()):
            return None
        return sender_id


def wechat_sender_id(openid: str) -> str:
    return WECHAT_PREFIX + openid
