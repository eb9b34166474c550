"""The agent desk's pages, served by the gateway: `/desk` (queue, ticket, suggestions, actions) and
`/desk/supervision` (supervisors' figures). Plain HTML/CSS/JS in channels/static (no build step, no CDN); they
speak only the JSON APIs (tickets_api, assist, supervision, desk_auth)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from hotline.settings import PROJECT_ROOT

router = APIRouter(include_in_schema=False)
STATIC_DIR = PROJECT_ROOT / "channels" / "static"
NO_CACHE = {"Cache-Control": "no-cache"}


@router.get("/desk")
def desk_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "desk.html", headers=NO_CACHE)


@router.get("/desk/supervision")
def supervision_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "desk-supervision.html", headers=NO_CACHE)
