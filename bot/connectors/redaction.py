"""Personal data kept out of the Rasa process's logs and warnings.

The gateway masks ID numbers and phones before a message reaches Rasa, but names cannot be found by pattern,
and Rasa echoes message text in some warnings (a message starting with "/" is parsed as an intent, and the
warning quotes it). So every log record and warning is masked with `hotline.privacy.mask_text`, and the text
of the message being handled (held in `CURRENT_MESSAGE` by the input channel) is blanked out of it, also in
its JSON-escaped form (Rasa's structured logs escape Chinese).
"""

from __future__ import annotations

import json
import logging
import warnings
from contextvars import ContextVar
from typing import Any

from hotline.privacy import mask_text

CURRENT_MESSAGE: ContextVar[str | None] = ContextVar("hotline_current_message", default=None)
PLACEHOLDER = "‹居民消息›"


def redact(text: str) -> str:
    for form in _forms(CURRENT_MESSAGE.get() or ""):
        text = text.replace(form, PLACEHOLDER)
    return mask_text(text)


def _forms(message: str) -> list[str]:
    """How Rasa may quote the message: as sent, stripped, as an "/intent" name (without "/", entities or
    confidence), each also JSON-escaped; longest first, and none shorter than a two-character name."""
    stripped = message.strip()
    intent = stripped.lstrip("/").split("{")[0].split("@")[0].strip()
    forms = {message, stripped, intent}
    forms |= {json.dumps(form)[1:-1] for form in list(forms)}
    return sorted((form for form in forms if len(form) >= 2), key=len, reverse=True)


def install() -> None:
    """Mask every log record at creation (before any handler or formatter sees it) and every warning."""
    make_record = logging.getLogRecordFactory()

    def redacting_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        try:
            record.msg, record.args = redact(record.getMessage()), None
        except Exception:  # a malformed log call: keep nothing of it rather than risk leaking
            record.msg, record.args = "‹unformattable log message›", None
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(redacting_record)
    show = warnings.showwarning

    def redacting_showwarning(message: Any, category: Any, filename: str, lineno: int,
                              file: Any = None, line: str | None = None) -> None:
        show(redact(str(message)), category, filename, lineno, file, line)

    warnings.showwarning = redacting_showwarning
