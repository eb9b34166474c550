"""The gateway's Prometheus metrics and `GET /metrics`.

Counted where a turn passes (channels/rasa_pool.py) and where something fails:

- `hotline_turns_total{channel, outcome}` (answered / unavailable) and `hotline_turn_seconds{channel}` (latency);
- `hotline_policy_replies_total{channel, band}`: policy answers by band — confident, related, refused (refusals);
- `hotline_tickets_opened_total{channel, category}`: tickets the bot opened (read from its replies);
- `hotline_errors_total{component}`: rasa, action_server, database, redis, wechat_api, gateway;
- `hotline_rasa_requests_total{instance, outcome}`: how the pool's Rasa servers answered (ok / down / error).

Several gateway workers (uvicorn --workers) each count in their own process; with `PROMETHEUS_MULTIPROC_DIR`
set (hotline/production.py sets it, an empty directory per start) `/metrics` adds them up. Only loopback clients
may read it, or any client with `Authorization: Bearer <METRICS_TOKEN>` when that is set: the figures are
operational, not for residents.
"""

from __future__ import annotations

import hmac
import os
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import REGISTRY as DEFAULT_REGISTRY

router = APIRouter(tags=["health"])
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
# Policy turns take 0.1–2 s when the machine is well; the long tail shows overload.
LATENCY_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0)
COMPONENTS = ("rasa", "action_server", "database", "redis", "wechat_api", "gateway")

TURNS = Counter("hotline_turns", "Resident messages handed to the bot", ["channel", "outcome"])
TURN_SECONDS = Histogram("hotline_turn_seconds", "Time from a message to the bot's reply", ["channel"],
                         buckets=LATENCY_BUCKETS)
POLICY_REPLIES = Counter("hotline_policy_replies", "Policy answers by confidence band", ["channel", "band"])
TICKETS_OPENED = Counter("hotline_tickets_opened", "Tickets the bot opened", ["channel", "category"])
ERRORS = Counter("hotline_errors", "Failures by component", ["component"])
RASA_REQUESTS = Counter("hotline_rasa_requests", "Messages sent to each Rasa server", ["instance", "outcome"])


def error(component: str) -> None:
    ERRORS.labels(component=component if component in COMPONENTS else "gateway").inc()


def record_turn(channel: str, seconds: float, messages: list[dict[str, Any]] | None) -> None:
    """One turn: its latency, and what the bot's messages say about it (band of a policy answer, a ticket)."""
    TURNS.labels(channel=channel, outcome="answered" if messages is not None else "unavailable").inc()
    if messages is None:
        return
    TURN_SECONDS.labels(channel=channel).observe(seconds)
    for message in messages:
        custom = message.get("custom")
        if not isinstance(custom, dict):
            continue
        if "band" in custom:
            POLICY_REPLIES.labels(channel=channel, band=str(custom["band"])).inc()
        ticket = custom.get("ticket")
        if isinstance(ticket, dict):
            TICKETS_OPENED.labels(channel=channel, category=str(ticket.get("category", ""))).inc()


def _registry() -> Any:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return DEFAULT_REGISTRY


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    token = request.app.state.services.settings.metrics_token.get_secret_value()
    given = request.headers.get("Authorization", "")
    allowed = hmac.compare_digest(given.encode(), f"Bearer {token}".encode()) if token else (
        request.client is not None and request.client.host in LOOPBACK)
    if not allowed:
        raise HTTPException(status_code=403, detail="指标仅供运维读取。/ Metrics are for operators only.")
    return Response(generate_latest(_registry()), media_type=CONTENT_TYPE_LATEST)
