"""Agent desk login: `POST /api/desk/login`, `POST /api/desk/logout`, `GET /api/desk/me`.

Passwords are checked by casework.agents (argon2, lockout after repeated failures); a good login returns a
random session token (stored hashed, expiring after `desk_session_hours`) both in the body, for API clients,
and as an HttpOnly, SameSite=Strict cookie for the desk page, with the CSRF token the page must echo.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import JSONResponse

from casework.agents import authenticate, open_session, revoke_session
from channels.deps import DESK_COOKIE, CurrentAgent, DbSession, ServicesDep, csrf_token, session_token
from channels.desk_schemas import AgentOut, LoginRequest, LoginResponse, MeResponse
from channels.limits import RateLimiter
from channels.services import client_ip

router = APIRouter(prefix="/api/desk", tags=["desk: login"])


def _login_limiter(services: ServicesDep) -> RateLimiter:
    limiter = services.extras.get("desk_logins")
    if limiter is None:
        limiter = services.extras["desk_logins"] = RateLimiter(services.settings.desk_logins_per_ip)
    return limiter  # type: ignore[return-value]


@router.post(
    "/login",
    response_model=LoginResponse,
    responses={401: {"description": "用户名或密码错误"}, 423: {"description": "账号已锁定"}},
)
def login(body: LoginRequest, request: Request, services: ServicesDep, db: DbSession) -> JSONResponse:
    settings = services.settings
    _login_limiter(services).check(f"desk-login:{client_ip(request)}")
    result = authenticate(
        db,
        body.username,
        body.password,
        max_failures=settings.desk_login_max_failures,
        lockout=timedelta(minutes=settings.desk_lockout_minutes),
    )
    if result.agent is None:
        db.commit()  # the failure count must persist although the request is refused
        raise HTTPException(status_code=423 if result.locked else 401, detail=result.refusal)
    lifetime = timedelta(hours=settings.desk_session_hours)
    token, expires_at = open_session(db, result.agent.id, lifetime=lifetime)
    body_out = LoginResponse(
        token=token,
        expires_at=expires_at,
        csrf_token=csrf_token(settings, token),
        agent=AgentOut.of(result.agent),
    )
    response = JSONResponse(content=body_out.model_dump(mode="json"))
    response.set_cookie(
        DESK_COOKIE,
        token,
        max_age=int(lifetime.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/logout", status_code=204)
def logout(agent: CurrentAgent, request: Request, services: ServicesDep, db: DbSession) -> Response:
    token = session_token(request, services.settings)
    if token:
        revoke_session(db, token)
    response = Response(status_code=204)
    response.delete_cookie(DESK_COOKIE, path="/")
    return response


@router.get("/me", response_model=MeResponse)
def me(agent: CurrentAgent, request: Request, services: ServicesDep) -> MeResponse:
    """Who is logged in; with the cookie, also the CSRF token (the page keeps it in memory only)."""
    cookie = request.cookies.get(DESK_COOKIE)
    return MeResponse(
        agent=AgentOut.of(agent), csrf_token=csrf_token(services.settings, cookie) if cookie else None
    )
