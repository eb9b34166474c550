"""GET /healthz: each component the assistant needs, with its status and a short detail.

HTTP 200 while residents can chat (a Rasa server and its action server answer); 503 otherwise. A missing index,
an unreachable database, one of several Rasa servers down, or Redis down (rate limits and turn locks then count per
gateway worker) degrade the service without stopping the chat, so they report without failing it.
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


def _redis(services: Services) -> tuple[bool, str] | None:
    """None without REDIS_URL (one gateway process keeps its own counts, as designed)."""
    from channels.shared_state import SharedStateError

    if not services.settings.redis_url:
        return None
    try:
        services.shared.get("healthz")
    except SharedStateError as error:
        return False, f"{error}; 限流与会话锁按单个网关进程计数（降级）/ limits per gateway worker (degraded)"
    return True, "shared limits, turn locks and WeChat de-duplication"


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
    instances, (db_ok, db_detail), (index_ok, index_detail), redis = await asyncio.gather(
        services.rasa.instances(),
        asyncio.to_thread(_database, settings),
        asyncio.to_thread(_index, settings),
        asyncio.to_thread(_redis, services),
    )
    rasa_up = [i for i in instances if i["rasa"] == "up"]
    actions_up = [i for i in instances if i["action_server"] == "up"]
    components: dict[str, dict[str, Any]] = {
        "rasa": _instances_status(instances, "rasa"),
        "action_server": _instances_status(instances, "action_server"),
        "database": {"status": "up" if db_ok else "down", "detail": db_detail},
        "index": {"status": "up" if index_ok else "down", "detail": index_detail},
    }
    if redis is not None:
        components["redis"] = {"status": "up" if redis[0] else "down", "detail": redis[1]}
    # Residents can chat while at least one pair has both its Rasa server and its action server up.
    chat_ok = any(i["rasa"] == i["action_server"] == "up" for i in instances)
    everything_up = all(c["status"] == "up" for c in components.values())
    status = "ok" if everything_up and len(rasa_up) == len(actions_up) == len(instances) else (
        "degraded" if chat_ok else "down")
    return JSONResponse(
        status_code=200 if chat_ok else 503,
        content={"status": status, "components": components, "instances": instances},
    )


def _instances_status(instances: list[dict[str, Any]], part: str) -> dict[str, Any]:
    up = [i["name"] for i in instances if i[part] == "up"]
    detail = f"{len(up)}/{len(instances)} up" + (f" ({', '.join(up)})" if len(instances) > 1 else "")
    return {"status": "up" if up else "down", "detail": detail}
