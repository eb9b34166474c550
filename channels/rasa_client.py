"""Talks to the Rasa server's gateway channel (signed messages) and probes the components the chat depends on.

The one client for the gateway → Rasa hop: the gateway uses `RasaClient` (async); tests and tools use
`ask_rasa` (blocking). Both mask ID numbers and phones before the text leaves (`bot_text`: Rasa keeps every
message in its tracker), sign each message with RASA_CHANNEL_SECRET (hotline/hop_signature.py) and read the
intent Rasa gave it from the reply's headers.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

from hotline.hop_signature import CONFIDENCE_HEADER, INTENT_HEADER, signed_headers
from hotline.privacy import id_numbers_in, mask_text
from hotline.settings import Settings

WEBHOOK_PATH = "/webhooks/gateway/webhook"


class BotUnavailable(RuntimeError):
    """Rasa or the action server cannot answer now; the caller keeps the message and tells the resident.

    `instance_down`: the Rasa server could not be reached or died while answering, or its action server is down,
    so the message was not handled there and another Rasa server may take it (channels/rasa_pool.py).
    `component`: which process failed, "rasa" or "action_server" (metrics)."""

    def __init__(self, message: str, *, instance_down: bool = False, component: str = "rasa") -> None:
        super().__init__(message)
        self.instance_down = instance_down
        self.component = component


@dataclass(frozen=True)
class BotReply:
    messages: list[dict[str, Any]]  # Rasa REST shape: recipient_id, text, buttons, custom …
    intent: str | None = None  # what Rasa's NLU read in the message, for analytics
    confidence: float | None = None


def bot_text(settings: Settings, sender_id: str, text: str) -> str:
    """What Rasa may see of a message: ID numbers (`3601**********9014`) and phones (`138****5678`) masked.

    Each ID number is sealed for this sender for a few minutes (casework.sealed_ids), so the identity form can
    still verify it. BotUnavailable when it cannot be sealed: the raw number is never sent instead."""
    if not id_numbers_in(text):
        return mask_text(text)
    from sqlalchemy.exc import SQLAlchemyError

    from casework.db import session_scope
    from casework.sealed_ids import mask_for_bot

    try:
        with session_scope(settings.database_url) as session:
            return mask_for_bot(session, sender_id, text)
    except SQLAlchemyError as error:
        raise BotUnavailable(f"the ID number could not be sealed: {type(error).__name__}") from error


def signed_message(settings: Settings, sender_id: str, text: str,
                   metadata: dict[str, Any] | None = None) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one message to Rasa's gateway channel."""
    body = json.dumps({"sender": sender_id, "message": text, "metadata": metadata or {}},
                      ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json",
               **signed_headers(settings.rasa_channel_secret.get_secret_value(), body)}
    return body, headers


def read_reply(response: httpx.Response) -> BotReply:
    """Rasa's answer as a BotReply; BotUnavailable when it is not one (refused, failed, not a list)."""
    try:
        response.raise_for_status()
        messages = response.json()
    except (httpx.HTTPError, ValueError) as error:
        raise BotUnavailable(f"Rasa did not answer: {error!r}") from error
    if not isinstance(messages, list):
        raise BotUnavailable("Rasa answered something other than a message list")
    confidence = response.headers.get(CONFIDENCE_HEADER)
    try:
        score = float(confidence) if confidence else None
    except ValueError:
        score = None
    return BotReply(messages, response.headers.get(INTENT_HEADER) or None, score)


def ask_rasa(settings: Settings, sender_id: str, text: str, metadata: dict[str, Any] | None = None, *,
             rasa_url: str | None = None, timeout: float = 90.0) -> BotReply:
    """One message to Rasa, blocking (tests, benchmarks, scripts)."""
    body, headers = signed_message(settings, sender_id, bot_text(settings, sender_id, text), metadata)
    url = (rasa_url or settings.rasa_url).rstrip("/") + WEBHOOK_PATH
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=timeout)
    except httpx.HTTPError as error:
        raise BotUnavailable(f"Rasa did not answer: {error!r}") from error
    return read_reply(response)


class RasaClient:
    def __init__(self, settings: Settings, http: httpx.AsyncClient | None = None, *, rasa_url: str | None = None,
                 action_server_url: str | None = None) -> None:
        """One Rasa server and the action server it calls: settings' RASA_URL / ACTION_SERVER_URL unless given."""
        self.settings = settings
        self.rasa_url = (rasa_url or settings.rasa_url).rstrip("/")
        self._token = settings.rasa_token.get_secret_value()
        # The action server's health endpoint sits next to its webhook (and needs no secret).
        self.action_health_url = (action_server_url or settings.action_server_url).rsplit("/", 1)[0] + "/health"
        self._http = http or httpx.AsyncClient(
            timeout=httpx.Timeout(settings.gateway_rasa_timeout, connect=2.0)
        )
        self._actions_checked_at = 0.0
        self._actions_ok = False

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(self, sender_id: str, text: str, metadata: dict[str, Any]) -> BotReply:
        """Rasa's reply to one user message; raises BotUnavailable instead of returning nothing."""
        # Rasa itself answers while the action server is down, but only with an error and no reply,
        # so a short-lived health check keeps the resident from waiting for an answer that cannot come.
        if not await self.actions_alive(max_age=2.0):
            raise BotUnavailable("action server is not answering", instance_down=True, component="action_server")
        if mask_text(text) != text:  # rare: only then is it worth a thread (and maybe a database write)
            text = await asyncio.to_thread(bot_text, self.settings, sender_id, text)
        body, headers = signed_message(self.settings, sender_id, text, metadata)
        try:
            response = await self._http.post(f"{self.rasa_url}{WEBHOOK_PATH}", content=body, headers=headers)
        except httpx.HTTPError as error:
            # Never reached, or the connection dropped without an answer (the process died): Rasa saves a
            # conversation only after its turn, so that message was not handled there. A timeout may have been.
            down = isinstance(error, (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError))
            raise BotUnavailable(f"Rasa did not answer: {error!r}", instance_down=down) from error
        reply = read_reply(response)
        if not reply.messages:
            # Every turn of this bot says something; silence means an action failed (the action server died
            # mid-request, Rasa logged it and went on), so the message is kept and the resident told.
            raise BotUnavailable("Rasa answered with no message (an action failed)", component="action_server")
        return reply

    async def parse(self, text: str) -> BotReply:
        """What Rasa's NLU reads in `text` (token-protected `/model/parse`), as a BotReply without messages.

        Nothing is added to any conversation; the text should be masked (agent assist passes desk text)."""
        try:
            response = await self._http.post(
                f"{self.rasa_url}/model/parse", params={"token": self._token}, json={"text": text},
                timeout=10.0,
            )
            response.raise_for_status()
            intent = response.json().get("intent") or {}
        except (httpx.HTTPError, ValueError) as error:
            raise BotUnavailable(f"Rasa did not parse: {error!r}") from error
        confidence = intent.get("confidence")
        return BotReply([], intent.get("name"), float(confidence) if confidence is not None else None)

    async def rasa_status(self) -> tuple[bool, str]:
        try:
            response = await self._http.get(
                f"{self.rasa_url}/status", params={"token": self._token}, timeout=3.0
            )
        except httpx.HTTPError as error:
            return False, f"unreachable: {type(error).__name__}"
        if response.status_code != 200:
            return False, f"HTTP {response.status_code}"
        model = response.json().get("model_file", "")
        return True, f"model {model}" if model else "ok"

    async def actions_alive(self, max_age: float = 0.0) -> bool:
        now = time.monotonic()
        if max_age and now - self._actions_checked_at < max_age:
            return self._actions_ok
        try:
            response = await self._http.get(self.action_health_url, timeout=2.0)
            self._actions_ok = response.status_code == 200
        except httpx.HTTPError:
            self._actions_ok = False
        self._actions_checked_at = now
        return self._actions_ok
