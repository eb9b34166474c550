"""Agent assist: `POST /api/assist` (suggested answers) and `POST /api/assist/suggestions/{id}/mark`.

Given what a caller said, a transcript (e.g. from the hotline's speech recognition) or a ticket number, the
gateway asks — in parallel — Rasa's NLU for the intent (`RasaClient.parse`) and the action server for the best
passages (`actions/assist_api.py`: the knowledge base is loaded there, never in the gateway). It returns the
intent, a suggested ticket category and the top 3 suggestions, each with the sentence that answers, its
passage, its source and a confidence; every suggestion shown is stored so that inserts and marks can be counted.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, HTTPException, Path
from sqlalchemy.orm import Session

from actions.server import action_server_auth_headers
from casework.agents import AgentIdentity
from casework.assist import (
    ShownSuggestion,
    UnknownSuggestion,
    mark_suggestion,
    record_shown,
    suggested_category,
)
from channels.deps import CurrentAgent, DbSession, ServicesDep, ticket_or_404
from channels.desk_schemas import AssistRequest, AssistResponse, MarkRequest, SuggestionOut
from channels.services import Services
from hotline.privacy import mask_text
from hotline.settings import Settings

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/assist", tags=["desk: assist"])

SUGGESTIONS = 3
UNAVAILABLE = "建议答案暂时不可用（知识库服务未响应），请稍后再试。/ Suggestions unavailable: the action server did not answer."
# Lines of a transcript that only ask for a person say nothing about the question.
_ONLY_ASKS_FOR_A_PERSON = re.compile(
    r"^(请|麻烦|帮我)?(转|找|要|接)?(人工|真人|客服)(服务|客服|坐席)?(吧|谢谢)?[。！!]*$"
)
_SPEAKER = re.compile(r"^(居民|来电人|市民|用户|客户|resident)\s*[:：]\s*", re.IGNORECASE)
_OTHER_SPEAKER = re.compile(r"^(助手|坐席|客服|工作人员|agent)\s*[:：]", re.IGNORECASE)


def question_from_transcript(transcript: str, limit: int) -> str:
    """What the caller asks, from a transcript: their lines (居民：/来电人：…, or every line when none is
    labelled), without bare requests for a person, the last two kept, at most `limit` characters."""
    lines = [line.strip() for line in transcript.splitlines() if line.strip()]
    labelled = [_SPEAKER.sub("", line) for line in lines if _SPEAKER.match(line)]
    spoken = labelled or [line for line in lines if not _OTHER_SPEAKER.match(line)]
    asked = [line for line in spoken if not _ONLY_ASKS_FOR_A_PERSON.match(line)] or spoken
    return "；".join(asked[-2:])[-limit:]


class AssistClient:
    """The action server's `/assist` route, with the action server's secret."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient | None = None) -> None:
        self.url = settings.action_server_url.rsplit("/", 1)[0] + "/assist"
        self._headers = action_server_auth_headers(settings)
        self._http = http or httpx.AsyncClient(timeout=httpx.Timeout(settings.assist_timeout, connect=2.0))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def suggest(self, question: str, k: int = SUGGESTIONS) -> dict[str, Any]:
        response = await self._http.post(self.url, json={"question": question, "k": k}, headers=self._headers)
        response.raise_for_status()
        return response.json()


def assist_client(services: Services) -> AssistClient:
    client = services.extras.get("assist")
    if client is None:
        client = services.extras["assist"] = AssistClient(services.settings)
    return client  # type: ignore[return-value]


async def shutdown(services: Services) -> None:
    client = services.extras.get("assist")
    if isinstance(client, AssistClient):
        await client.aclose()


@router.post(
    "",
    response_model=AssistResponse,
    responses={
        401: {"description": "未登录"},
        404: {"description": "没有这个工单"},
        503: {"description": "知识库服务未响应"},
    },
)
async def assist(
    body: AssistRequest, agent: CurrentAgent, services: ServicesDep, db: DbSession
) -> AssistResponse:
    limit = services.settings.max_question_chars
    ticket_id = None
    if body.ticket:
        ticket_id, transcript = await asyncio.to_thread(_ticket_transcript, db, body.ticket)
        question = question_from_transcript(transcript, limit)
    elif body.transcript:
        question = question_from_transcript(body.transcript, limit)
    else:
        question = (body.utterance or "").strip()[:limit]
    # The knowledge base and Rasa never see an ID or phone number an agent pasted in.
    question = mask_text(question)
    parsed, found = await asyncio.gather(
        services.rasa.parse(question), assist_client(services).suggest(question), return_exceptions=True
    )
    if isinstance(found, BaseException):
        log.warning("assist: action server did not answer: %r", found)
        raise HTTPException(status_code=503, detail=UNAVAILABLE)
    if isinstance(parsed, BaseException):
        # Suggestions are still worth showing when only the intent is missing.
        log.warning("assist: Rasa did not parse: %r", parsed)
        intent, confidence = None, None
    else:
        intent, confidence = parsed.intent, parsed.confidence
    items = found.get("suggestions") or []
    shown = [ShownSuggestion(s["chunk_id"], s["source"], s["confidence"]) for s in items]
    ids = await asyncio.to_thread(_record, db, agent, question, shown, ticket_id)
    return AssistResponse(
        query=question,
        intent=intent,
        intent_confidence=confidence,
        category=suggested_category(intent, found.get("band") == "confident"),
        suggestions=[
            SuggestionOut(
                id=suggestion_id,
                rank=rank,
                sentence=s["sentence"],
                passage=s["passage"],
                source=s["source"],
                chunk_id=s["chunk_id"],
                confidence=s["confidence"],
                band=s.get("band"),
            )
            for rank, (suggestion_id, s) in enumerate(zip(ids, items, strict=True), start=1)
        ],
    )


@router.post(
    "/suggestions/{suggestion_id}/mark", status_code=204, responses={404: {"description": "没有这条建议"}}
)
def mark(
    suggestion_id: Annotated[int, Path(ge=1)], body: MarkRequest, agent: CurrentAgent, db: DbSession
) -> None:
    """Record what the agent did with a suggestion: `inserted` into a reply, or marked `useful` / `wrong`."""
    try:
        mark_suggestion(db, suggestion_id, body.mark, agent)
    except UnknownSuggestion:
        raise HTTPException(status_code=404, detail="没有这条建议答案。/ No such suggestion.") from None


def _ticket_transcript(db: Session, number: str) -> tuple[int, str]:
    ticket = ticket_or_404(db, number)
    return ticket.id, ticket.transcript


def _record(
    db: Session, agent: AgentIdentity, question: str, shown: list[ShownSuggestion], ticket_id: int | None
) -> list[int]:
    ids = record_shown(db, agent, question, shown, ticket_id=ticket_id)
    db.commit()
    return ids
