"""GET /healthz: each component the assistant needs, with its status and a short detail.

HTTP 200 while residents can chat (Rasa and the action server answer); 503 otherwise. A missing index or
an unreachable database degrades answers but does not stop the chat, so they report without failing it.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from channels.services import Services, get_services
from hotline.settings import Settings

router = APIRouter(tags=["health"])


def _database(settings: Settings) -> tuple[bool, str]:
    from sqlalchemy import text

    from casework.db import get_engine

    try:
        with get_engine(settings.database_url).connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any driver error means "down" here, with its class name as the detail
        return False, type(error).__name__
    return True, get_engine(settings.database_url).url.get_backend_name()


def _index(settings: Settings) -> tuple[bool, str]:
    # knowledge_base/index.py swaps in a finished index directory whole: its manifest marks a complete index.
    # Read as plain JSON: importing the knowledge base would load faiss into the gateway.
    manifest = settings.index_dir / "manifest.json"
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False, f"no index at {settings.index_dir}"
    return True, f"{data.get('chunk_count', '?')} chunks from {data.get('document_count', '?')} documents"


@router.get("/healthz")
async def healthz(services: Annotated[Services, Depends(get_services)]) -> JSONResponse:
    settings = services.settings
    (rasa_ok, rasa_detail), actions_ok, (db_ok, db_detail), (index_ok, index_detail) = await asyncio.gather(
        services.rasa.rasa_status(),
        services.rasa.actions_alive(),
        asyncio.to_thread(_database, settings),
        asyncio.to_thread(_index, settings),
    )
    components: dict[str, dict[str, Any]] = {
        "rasa": {"status": "up" if rasa_ok else "down", "detail": rasa_detail},
        "action_server": {
            "status": "up" if actions_ok else "down",
            "detail": services.rasa.action_health_url,
        },
        "database": {"status": "up" if db_ok else "down", "detail": db_detail},
        "index": {"status": "up" if index_ok else "down", "detail": index_detail},
    }
    chat_ok = rasa_ok and actions_ok
    status = (
        "ok" if all(c["status"] == "up" for c in components.values()) else ("degraded" if chat_ok else "down")
    )
    return JSONResponse(
        status_code=200 if chat_ok else 503, content={"status": status, "components": components}
    )
