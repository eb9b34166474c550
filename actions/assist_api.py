"""Agent assist's retrieval, served by the action server to the gateway: `POST /assist`.

The knowledge base (index + embedding model, a few hundred MB) is already loaded in this process for the bot,
so the gateway asks here instead of loading its own copy in every worker (ARCHITECTURE.md, "Agent assist").
Registered through `actions/server.py` (`ROUTE_MODULES`), whose middleware refuses requests without the action
server secret.

    POST /assist {"question": "异地就医备案要什么材料", "k": 3}
    → {"question", "band", "confidence", "region", "suggestions": [{sentence, passage, source, confidence, band,
       chunk_id}, …]}
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict

from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.domain.answers import suggestions
from actions.knowledge import knowledge_base
from hotline.settings import Settings
from knowledge_base.errors import EmptyQuestionError
from knowledge_base.regions import detect_region

MAX_SUGGESTIONS = 5
KNOWLEDGE_BASE_WAIT_SECONDS = 30


def register(app: Sanic, settings: Settings) -> None:
    blueprint = Blueprint("assist", url_prefix="/assist")

    @blueprint.post("/", strict_slashes=False)
    async def assist(request: Request) -> HTTPResponse:
        body = request.json if isinstance(request.json, dict) else {}
        question = str(body.get("question") or "").strip()[: settings.max_question_chars]
        if not question:
            return response.json({"error": "问题不能为空 / question is required"}, status=422)
        try:
            k = min(max(int(body.get("k") or 3), 1), MAX_SUGGESTIONS)
        except (TypeError, ValueError):
            return response.json({"error": "k 必须是 1–5 的整数 / k must be an integer 1–5"}, status=422)
        try:
            kb = await asyncio.wait_for(asyncio.to_thread(knowledge_base), KNOWLEDGE_BASE_WAIT_SECONDS)
        except TimeoutError:
            return response.json({"error": "知识库仍在加载 / knowledge base still loading"}, status=503)
        region = detect_region(question)
        try:
            result = await asyncio.to_thread(kb.search, question, region=region, k=k)
        except EmptyQuestionError as error:
            return response.json({"error": str(error)}, status=422)
        return response.json(
            {
                "question": question,
                "region": region,
                "band": result.band,
                "confidence": round(float(result.confidence), 4),
                "suggestions": [asdict(s) for s in suggestions(result, k)],
            }
        )

    app.blueprint(blueprint)
