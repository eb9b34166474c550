"""The gateway's long-lived objects, built once per app and handed to routes by FastAPI dependencies."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from channels.journal import Journal
from channels.limits import RateLimiter, SharedRateLimiter, rate_limiter
from channels.rasa_pool import RasaPool
from channels.sessions import SessionSigner
from channels.shared_state import SharedState, shared_state
from hotline.settings import Settings


@dataclass
class Services:
    settings: Settings
    rasa: RasaPool  # one Rasa server + action server, or several (RASA_URLS), each sender sticking to one
    signer: SessionSigner
    journal: Journal
    per_sender: RateLimiter | SharedRateLimiter
    per_ip: RateLimiter | SharedRateLimiter
    sessions_per_ip: RateLimiter | SharedRateLimiter
    shared: SharedState  # Redis with REDIS_URL, else this process's memory
    # Filled by the WeChat router at startup (dedup cache, customer-service API client).
    extras: dict[str, object] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings) -> Services:
        shared = shared_state(settings)
        counts = shared if settings.redis_url else None  # in-process limits need no store
        return cls(
            settings=settings,
            rasa=RasaPool(settings, shared),
            signer=SessionSigner(settings.gateway_secret.get_secret_value()),
            journal=Journal(settings),
            per_sender=rate_limiter(counts, "sender", settings.gateway_rate_per_sender),
            per_ip=rate_limiter(counts, "ip", settings.gateway_rate_per_ip),
            sessions_per_ip=rate_limiter(counts, "sessions", settings.gateway_sessions_per_ip),
            shared=shared,
        )


def get_services(request: Request) -> Services:
    return request.app.state.services


def client_ip(request: Request) -> str:
    # The gateway listens on loopback behind a reverse proxy in production; uvicorn's --proxy-headers
    # (trusted hosts only) rewrites request.client from X-Forwarded-For, so this is not client-controlled.
    return request.client.host if request.client else "unknown"
