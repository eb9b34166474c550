"""Route uvicorn's own loggers through the root handlers, where hotline.privacy masks personal data.

uvicorn installs handlers of its own on `uvicorn.error` and `uvicorn.access` (propagate=False) before it
imports the app, so an access line such as `GET /api/x?phone=13812345678` would bypass the masking filter.
"""

from __future__ import annotations

import logging

from hotline.privacy import install_log_masking

UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


def route_logs_through_masking() -> None:
    install_log_masking()
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # httpx logs every request URL at INFO, and Rasa's token auth travels in the query string (?token=).
    logging.getLogger("httpx").setLevel(logging.WARNING)
