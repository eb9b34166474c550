"""What the action server does for operators besides running actions (registered by actions/server.py):

- the request id of the turn, read from the tracker Rasa sends (`latest_message.metadata.request_id`, put there by
  the gateway), in every log line written while the action runs (JSON lines with LOG_FORMAT=json), and one line per
  action with its name, status and time;
- the loop that writes tickets spooled while the database was down (casework.outbox).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from casework.outbox import drain_forever, ticket_spool
from hotline import structured_logs
from hotline.settings import Settings

logger = logging.getLogger(__name__)
SANIC_LOGGERS = ("sanic.root", "sanic.error", "sanic.access", "sanic.server")
SPOOL_TASK = "spooled-tickets"


def register(app: Sanic, settings: Settings) -> None:
    structured_logs.install("actions", settings.log_format, loggers=SANIC_LOGGERS)

    @app.on_request
    async def bind_request_id(request: Request) -> None:
        request.ctx.started = time.perf_counter()
        structured_logs.REQUEST_ID.set(_request_id(request))

    @app.on_response
    async def log_action(request: Request, response: HTTPResponse) -> None:
        if request.path.endswith("/webhook"):
            action = _tracker_field(request, "next_action")
            took = int((time.perf_counter() - getattr(request.ctx, "started", time.perf_counter())) * 1000)
            logger.info("action %s answered %s in %d ms", action, response.status, took)
        structured_logs.REQUEST_ID.set(None)

    @app.after_server_start
    async def drain_spooled_tickets(app: Sanic, _loop: Any) -> None:
        app.add_task(drain_forever(ticket_spool(settings), settings.spool_retry_seconds), name=SPOOL_TASK)

    @app.before_server_stop
    async def stop_draining(app: Sanic, _loop: Any) -> None:
        await app.cancel_task(SPOOL_TASK, raise_exception=False)


def _request_id(request: Request) -> str | None:
    metadata = ((_tracker_field(request, "tracker") or {}).get("latest_message") or {}).get("metadata") or {}
    given = metadata.get(structured_logs.METADATA_KEY) if isinstance(metadata, dict) else None
    return structured_logs.accepted_request_id(str(given)) if given else None


def _tracker_field(request: Request, name: str) -> Any:
    if request.method != "POST" or not request.path.endswith("/webhook"):
        return None
    try:
        body = request.json  # parsed once; rasa-sdk's handler reads the same object
    except Exception:  # noqa: BLE001 - not JSON: rasa-sdk answers that itself
        return None
    return body.get(name) if isinstance(body, dict) else None
