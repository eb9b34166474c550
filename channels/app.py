"""The gateway: one FastAPI app mounting one router per surface (chat, wechat, health) and the web chat page.

Run by hotline/processes.py as `uvicorn channels.app:app`; tests build their own with `create_app(settings)`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from channels import (
    assist,
    chat,
    desk,
    desk_auth,
    errors,
    health,
    metrics,
    ratings,
    replay,
    supervision,
    tickets_api,
    wechat,
    wechat_outbox,
)
from channels.deps import install_domain_errors
from channels.limits import BodySizeLimit
from channels.logging_setup import route_logs_through_masking
from channels.request_ids import RequestIds
from channels.services import Services
from hotline import structured_logs
from hotline.settings import Settings, get_settings

STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    route_logs_through_masking()
    structured_logs.install("gateway", settings.log_format)
    services = Services.build(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        outbox = asyncio.create_task(
            wechat_outbox.run_forever(settings, wechat.state_of(services).api, services.journal)
        )
        supervising = asyncio.create_task(supervision.run_forever(settings))
        spooled = asyncio.create_task(services.journal.run_forever())
        replaying = asyncio.create_task(replay.run_forever(services, wechat.state_of(services).api))
        yield
        replaying.cancel()
        spooled.cancel()
        supervising.cancel()
        outbox.cancel()
        await assist.shutdown(services)
        await wechat.shutdown(services)
        await services.rasa.aclose()

    app = FastAPI(title="12393 医保热线政策助手 · 网关", lifespan=lifespan)
    app.state.services = services
    errors.install(app)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(chat.router)
    app.include_router(wechat.router)
    # The agent desk: login, tickets, suggested answers, supervision; the resident's rating link.
    install_domain_errors(app)
    for surface in (desk_auth, tickets_api, assist, supervision, ratings, desk):
        app.include_router(surface.router)
    app.include_router(tickets_api.agents_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    def web_chat() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        # The chat page holds a session token: no framing by other sites, no MIME sniffing, no referrers.
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    app.add_middleware(RequestIds)
    # Outermost, so an oversized body is refused before anything reads it.
    app.add_middleware(BodySizeLimit, max_bytes=settings.gateway_max_body_bytes)
    return app


app = create_app()
