"""Dependencies of the agent desk's routers: the settings, a database session, the agent who is logged in.

An agent authenticates with the session token from `POST /api/desk/login`, either as `Authorization: Bearer
<token>` (API clients) or as the HttpOnly, SameSite=Strict cookie the desk page gets. A request authenticated by
the cookie must also carry `X-CSRF-Token` for anything but reading: a cookie is sent by the browser on its own,
the header only by the desk's own script.

The domain's refusals become HTTP answers here too: `IllegalTransition` → 409, `NotPermitted` → 403, each with
the domain's Chinese message and an English summary.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from casework.agents import AgentIdentity, agent_for_token
from casework.db import session_scope
from casework.handling import NotPermitted
from casework.lifecycle import IllegalTransition
from casework.models import Ticket
from casework.tickets import find_ticket
from channels.services import Services, get_services
from hotline.settings import Settings

DESK_COOKIE = "hotline_desk"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

NOT_LOGGED_IN = "请先登录坐席工作台。/ Not logged in: send a desk session token."
CSRF_MISSING = "请求缺少有效的 CSRF 令牌，请刷新页面后重试。/ Missing or wrong CSRF token."
SUPERVISORS_ONLY = "只有主管可以查看或执行此项操作。/ Supervisors only."

ServicesDep = Annotated[Services, Depends(get_services)]


def get_settings_dep(services: ServicesDep) -> Settings:
    return services.settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def get_db(settings: SettingsDep) -> Iterator[Session]:
    """One session per request: committed when the endpoint returns, rolled back when it raises.

    Scoped to the endpoint function, so the commit happens before the response leaves: a client's next request
    (the desk refreshing, a second click) always sees what the previous one changed."""
    with session_scope(settings.database_url) as session:
        yield session


DbSession = Annotated[Session, Depends(get_db, scope="function")]


def ticket_or_404(db: Session, number: str) -> Ticket:
    ticket = find_ticket(db, number)
    if ticket is None:
        raise HTTPException(status_code=404, detail=f"没有工单 {number}。/ No such ticket.")
    return ticket


def csrf_token(settings: Settings, session_token: str) -> str:
    """Derived from the session token, so nothing more is stored; only the desk's script can read it."""
    key = settings.gateway_secret.get_secret_value().encode()
    return hmac.new(key, f"csrf:{session_token}".encode(), hashlib.sha256).hexdigest()[:32]


def session_token(request: Request, settings: Settings) -> str | None:
    """The desk session token of this request, CSRF-checked when it came as a cookie; None when absent."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    cookie = request.cookies.get(DESK_COOKIE)
    if not cookie:
        return None
    if request.method not in SAFE_METHODS:
        given = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(given.encode(), csrf_token(settings, cookie).encode()):
            raise HTTPException(status_code=403, detail=CSRF_MISSING)
    return cookie


def get_current_agent(request: Request, settings: SettingsDep, db: DbSession) -> AgentIdentity:
    token = session_token(request, settings)
    agent = agent_for_token(db, token) if token else None
    if agent is None:
        raise HTTPException(status_code=401, detail=NOT_LOGGED_IN, headers={"WWW-Authenticate": "Bearer"})
    return agent


CurrentAgent = Annotated[AgentIdentity, Depends(get_current_agent)]


def get_supervisor(agent: CurrentAgent) -> AgentIdentity:
    if not agent.is_supervisor:
        raise HTTPException(status_code=403, detail=SUPERVISORS_ONLY)
    return agent


Supervisor = Annotated[AgentIdentity, Depends(get_supervisor)]


def install_domain_errors(app: FastAPI) -> None:
    """The ticket domain's refusals as 409 / 403 with its Chinese message (see the module docstring)."""

    async def illegal(request: Request, error: Exception) -> JSONResponse:
        return JSONResponse(
            status_code=409, content={"detail": f"{error} / Not allowed in the ticket's state."}
        )

    async def not_permitted(request: Request, error: Exception) -> JSONResponse:
        return JSONResponse(status_code=403, content={"detail": f"{error} / Not permitted for this agent."})

    app.add_exception_handler(IllegalTransition, illegal)
    app.add_exception_handler(NotPermitted, not_permitted)
