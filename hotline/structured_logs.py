"""Log lines with the request id of the turn they belong to, as text or as one JSON object per line.

A turn's request id is made (or taken from a well-formed `X-Request-ID`) by the gateway, sent to Rasa in the
message metadata (`request_id`), read there by the gateway channel (bot/connectors/gateway.py) and by the action
server from the tracker it receives (actions/server.py); each process keeps it in `REQUEST_ID` while it works on
that turn, so every line it logs meanwhile carries it:

    {"time": "2026-12-03T17:02:11.204+00:00", "level": "INFO", "component": "gateway", "logger": "channels.rasa_pool",
     "request_id": "9f1c…", "message": "turn web:h2k… → rasa-1 200 in 412 ms"}

`install(component, log_format)` sets this up on the root logger's handlers. Personal data is masked by
`hotline.privacy` (its filter on the handlers, and again here on tracebacks). Standard library only: the Rasa
process (Python 3.10, its own venv) imports this module too.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from contextvars import ContextVar
from datetime import datetime, timezone

from hotline.privacy import install_log_masking, mask_text

REQUEST_ID: ContextVar[str | None] = ContextVar("hotline_request_id", default=None)
REQUEST_ID_HEADER = "X-Request-ID"
METADATA_KEY = "request_id"
_WELL_FORMED = re.compile(r"[A-Za-z0-9._-]{8,64}")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


def new_request_id() -> str:
    return uuid.uuid4().hex


def accepted_request_id(value: str | None) -> str:
    """A client's (or proxy's) request id if it is well formed, else a new one: ids end up in every log line."""
    return value if value and _WELL_FORMED.fullmatch(value) else new_request_id()


class RequestIdFilter(logging.Filter):
    """Gives every record `request_id` (for text formats that name it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, component, logger, request_id, message (and exception)."""

    def __init__(self, component: str = "hotline") -> None:
        super().__init__()
        self.component = component

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            # timezone.utc, not datetime.UTC: the Rasa process runs Python 3.10.
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),  # noqa: UP017
            "level": record.levelname,
            "component": self.component,
            "logger": record.name,
            "request_id": REQUEST_ID.get(),
            "message": mask_text(record.getMessage()),
        }
        if record.exc_info:
            entry["exception"] = mask_text(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def install(component: str, log_format: str = "text", loggers: tuple[str, ...] = ()) -> None:
    """Every handler of the root logger and of `loggers` (libraries such as Sanic that keep handlers of their
    own) gets `record.request_id`; with log_format="json" they write JSON lines. Call once the process's logging
    is set up; the text format of a handler is left as it is (TEXT_FORMAT names the request id)."""
    install_log_masking()
    handlers = [handler for name in ("", *loggers) for handler in logging.getLogger(name).handlers]
    if not handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
        logging.getLogger().addHandler(handler)
        handlers = [handler]
    for handler in handlers:
        if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
            handler.addFilter(RequestIdFilter())
        if log_format == "json":
            handler.setFormatter(JsonFormatter(component))
    install_log_masking()  # a handler added here gets the masking filter too
