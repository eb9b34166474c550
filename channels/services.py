"""The gateway's long-lived objects, built once per app and handed to routes by FastAPI dependencies."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from channels.journal import Journal
from channels.limits import RateLimiter
from channels.rasa_client import RasaClient
from channels.sessions import SessionSigner
from hotline.settings import Settings


@dataclass
class Services:
    settings: Settings
    rasa: RasaClient
    signer: SessionSigner
    journal: Journal
    per_sender: RateLimiter
    per_ip: RateLimiter
    sessions_per_ip: RateLimiter
    # Filled by the WeChat router at startup (dedup cache, customer-service API client).
    extras: dict[str, object] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings) -> Services:
        return cls(
            settings=settings,
            rasa=RasaClient(settings),
            signer=SessionSigner(settings.gateway_secret.get_secret_value()),
            journal=Journal(settings.gateway_state_dir),
            per_sender=RateLimiter(settings.gateway_rate_per_sender),
            per_ip=RateLimiter(settings.gateway_rate_per_ip),
            sessions_per_ip=RateLimiter(settings.gateway_sessions_per_ip),
        )


def get_services(request: Request) -> Services:
    return request.app.state.services


def client_ip(request: Request) -> str:
    # The gateway listens on loopback behind a reverse proxy in production; uvicorn's --proxy-headers
    # (trusted hosts only) rewrites request.client from X-Forwarded-For, so this is not client-controlled.
    return request.client.host if request.client else "unknown"
