"""The Rasa server's only input channel: messages relayed by the gateway, signed with RASA_CHANNEL_SECRET.

credentials.yml:

    connectors.gateway.GatewayInput:
      secret: ${RASA_CHANNEL_SECRET}

`POST /webhooks/gateway/webhook` takes the Rasa REST shape `{"sender","message","metadata"?}` with the headers
of `hotline.hop_signature` (timestamp + HMAC-SHA256 of timestamp and body) and answers like the REST channel,
a list of bot messages, adding the message's intent and confidence as response headers. Anything unsigned,
wrongly signed, stale or replayed gets 401 before Rasa sees it.
"""

from __future__ import annotations

import json
import logging
import time
from asyncio import CancelledError
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.redaction import CURRENT_MESSAGE
from hotline.hop_signature import CONFIDENCE_HEADER, INTENT_HEADER, SignatureVerifier
from hotline.structured_logs import METADATA_KEY, REQUEST_ID, accepted_request_id

logger = logging.getLogger(__name__)
MIN_SECRET_LENGTH = 16


class GatewayInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "gateway"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> GatewayInput:
        secret = str((credentials or {}).get("secret") or "")
        if len(secret) < MIN_SECRET_LENGTH:
            raise RasaException(
                f"connectors.gateway.GatewayInput needs `secret` (RASA_CHANNEL_SECRET) of at least "
                f"{MIN_SECRET_LENGTH} characters in credentials.yml"
            )
        return cls(secret, int((credentials or {}).get("max_age") or 60))

    def __init__(self, secret: str, max_age: int = 60) -> None:
        self.verifier = SignatureVerifier(secret, max_age)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("gateway_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            body = request.body or b""
            problem = self.verifier.problem(request.headers, body)
            if problem:
                logger.warning("refused an unsigned or wrongly signed message: %s", problem)
                return response.json({"error": problem}, status=401)
            parsed = _parse(body)
            if isinstance(parsed, str):
                return response.json({"error": parsed}, status=400)
            sender, text, metadata = parsed
            collector = CollectingOutputChannel()
            marker = CURRENT_MESSAGE.set(text)
            # The gateway's request id: in this process's log lines, and as the message id, which stays the same
            # when the gateway retries the turn on another Rasa server (tickets are opened once per message id).
            request_id = accepted_request_id(str((metadata or {}).get(METADATA_KEY) or ""))
            request_marker = REQUEST_ID.set(request_id)
            started = time.perf_counter()
            try:
                await on_new_message(UserMessage(text, collector, sender, input_channel=self.name(),
                                                 message_id=request_id, metadata=metadata))
            except CancelledError:
                logger.error("handling a message timed out")
            except Exception:
                logger.exception("handling a message failed")
            finally:
                CURRENT_MESSAGE.reset(marker)
            intent, confidence = await _latest_intent(request, sender)
            # One line per turn in Rasa's log, under the gateway's request id (hotline/structured_logs.py).
            logger.info("message handled in %d ms: intent %s, %d replies",
                        int((time.perf_counter() - started) * 1000), intent, len(collector.messages))
            REQUEST_ID.reset(request_marker)
            headers = {INTENT_HEADER: intent} if intent else {}
            if confidence is not None:
                headers[CONFIDENCE_HEADER] = f"{confidence:.4f}"
            return response.json(collector.messages, headers=headers)

        return webhook


def _parse(body: bytes) -> tuple[str, str, dict[str, Any] | None] | str:
    """(sender, text, metadata) or the reason the body is refused."""
    try:
        data = json.loads(body)
    except ValueError:
        return "body is not JSON"
    if not isinstance(data, dict):
        return "body is not a JSON object"
    sender, text, metadata = data.get("sender"), data.get("message"), data.get("metadata")
    if not isinstance(sender, str) or not sender or not isinstance(text, str):
        return "sender and message must be strings"
    if metadata is not None and not isinstance(metadata, dict):
        return "metadata must be an object"
    return sender, text, metadata


async def _latest_intent(request: Request, sender: str) -> tuple[str | None, float | None]:
    """The intent Rasa's NLU gave the message just handled (its tracker's latest user message)."""
    agent = getattr(request.app.ctx, "agent", None)
    if agent is None or agent.tracker_store is None:
        return None, None
    try:
        tracker = await agent.tracker_store.retrieve(sender)
    except Exception:  # analytics only: never fail the reply over it
        return None, None
    intent = (tracker.latest_message.intent or {}) if tracker and tracker.latest_message else {}
    name = intent.get("name")
    confidence = intent.get("confidence")
    return (str(name) if name else None), (float(confidence) if confidence is not None else None)
