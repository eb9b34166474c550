"""Talks to the Rasa server's REST webhook and probes the components the chat depends on."""

from __future__ import annotations

import time
from typing import Any

import httpx

from hotline.settings import Settings


class BotUnavailable(RuntimeError):
    """Rasa or the action server cannot answer now; the caller keeps the message and tells the resident."""


class RasaClient:
    def __init__(self, settings: Settings, http: httpx.AsyncClient | None = None) -> None:
        self.rasa_url = settings.rasa_url.rstrip("/")
        self._token = settings.rasa_token.get_secret_value()
        # The action server's health endpoint sits next to its webhook.
        self.action_health_url = settings.action_server_url.rsplit("/", 1)[0] + "/health"
        self._http = http or httpx.AsyncClient(
            timeout=httpx.Timeout(settings.gateway_rasa_timeout, connect=2.0)
        )
        self._actions_checked_at = 0.0
        self._actions_ok = False

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(self, sender_id: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        """Rasa's bot messages for one user message; raises BotUnavailable instead of returning nothing."""
        # Rasa itself answers while the action server is down, but only with an error and no reply,
        # so a short-lived health check keeps the resident from waiting for an answer that cannot come.
        if not await self.actions_alive(max_age=2.0):
            raise BotUnavailable("action server is not answering")
        try:
            response = await self._http.post(
                f"{self.rasa_url}/webhooks/rest/webhook",
                json={"sender": sender_id, "message": text, "metadata": metadata},
            )
            response.raise_for_status()
            messages = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise BotUnavailable(f"Rasa did not answer: {error!r}") from error
        if not isinstance(messages, list):
            raise BotUnavailable("Rasa answered something other than a message list")
        return messages

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
