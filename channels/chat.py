"""Web chat API: sessions, the Rasa-REST-shaped chat endpoint, feedback, and agent replies to poll."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    BackgroundTasks,
    Cookie,
    Depends,
    Header,
    HTTPException,
    Query,
    Request,
    Response,
)
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from casework.pseudonyms import client_pseudonym
from channels import agent_replies
from channels.rasa_client import BotUnavailable
from channels.schemas import AgentMessages, BotMessage, ChatRequest, FeedbackRequest, SessionResponse
from channels.services import Services, client_ip, get_services
from channels.sessions import COOKIE_NAME, SENDER_HEADER
from channels.turn_log import log_turn

log = logging.getLogger(__name__)
router = APIRouter(tags=["chat"])

UNAVAILABLE_DETAIL = (
    "抱歉，系统繁忙，智能助手暂时无法回答。您的留言已记录（编号 {reference}），工作人员会尽快处理；"
    "紧急问题请拨打 12393 医保服务热线。/ The assistant is busy; your message was kept for staff."
)
SESSION_DETAIL = (
    "会话无效或已过期，请刷新页面后重试。/ Missing or invalid session: call POST /api/session first."
)

ServicesDep = Annotated[Services, Depends(get_services)]
SessionCookie = Annotated[str | None, Cookie(alias=COOKIE_NAME)]


def _sender_id(services: Services, token: str | None, cookie: str | None) -> tuple[str, str]:
    """(sender id, the token it came from): the body's token if well signed, else the session cookie."""
    for candidate in (token, cookie):
        sender_id = services.signer.verify(candidate)
        if sender_id:
            return sender_id, candidate  # type: ignore[return-value]
    raise HTTPException(status_code=401, detail=SESSION_DETAIL)


@router.post("/api/session", response_model=SessionResponse)
def create_session(services: ServicesDep, request: Request, response: Response) -> SessionResponse:
    """Issue a signed sender id; it is also set as an HttpOnly cookie for clients that prefer cookies."""
    services.sessions_per_ip.check(client_ip(request))
    token = services.signer.issue()
    response.set_cookie(COOKIE_NAME, token, httponly=True, samesite="strict", max_age=30 * 24 * 3600)
    return SessionResponse(sender=token)


@router.post("/api/chat", response_model=list[BotMessage], response_model_exclude_none=True)
@router.post(
    "/webhooks/rest/webhook",
    response_model=list[BotMessage],
    response_model_exclude_none=True,
    include_in_schema=False,
)  # the path Rasa web widgets post to
async def chat(
    body: ChatRequest,
    request: Request,
    services: ServicesDep,
    background: BackgroundTasks,
    cookie: SessionCookie = None,
) -> Any:
    sender_id, token = _sender_id(services, body.sender, cookie)
    text = body.message.strip()
    if not text:
        raise HTTPException(status_code=422, detail="消息不能为空。/ Message must not be empty.")
    limit = services.settings.gateway_max_message_chars
    if len(text) > limit:
        raise HTTPException(
            status_code=422,
            detail=f"消息过长，请控制在 {limit} 字以内。/ Message longer than {limit} characters.",
        )
    services.per_ip.check(f"ip:{client_ip(request)}")
    services.per_sender.check(f"sender:{sender_id}")
    # The channel is the gateway's to say: a client cannot pose as WeChat or as an agent desk.
    # The identity checks count failures per client: a keyed hash of the IP, never the IP itself.
    client = client_pseudonym(client_ip(request), key=services.settings.identifier_hash_key.get_secret_value())
    metadata = {**(body.metadata or {}), "channel": "web", "client": client}
    try:
        reply = await services.rasa.send(sender_id, text, metadata)
    except BotUnavailable as error:
        reference = await services.journal.queue_undelivered(
            channel="web", sender_id=sender_id, message=text, reason=str(error)
        )
        log.warning("bot unavailable, message %s queued for staff: %s", reference, error)
        return JSONResponse(
            status_code=503,
            headers={"Retry-After": "30"},
            content={
                "detail": UNAVAILABLE_DETAIL.format(reference=reference),
                "queued": True,
                "reference": reference,
            },
        )
    # For the supervisors' analytics, once the reply is on its way (channels/turn_log.py).
    background.add_task(log_turn, services.settings, "web", sender_id, text, reply)
    # Widgets match replies to their own sender value, which for us is the token.
    return [{**message, "recipient_id": token} for message in reply.messages]


@router.post("/api/feedback", status_code=201)
def feedback(
    body: FeedbackRequest, request: Request, services: ServicesDep, cookie: SessionCookie = None
) -> dict[str, str]:
    sender_id, _ = _sender_id(services, body.sender, cookie)
    services.per_sender.check(f"feedback:{sender_id}")
    services.journal.record_feedback(
        sender_id=sender_id, rating=body.rating, answer=body.answer, question=body.question, comment=body.comment
    )
    return {"status": "recorded", "detail": "感谢您的反馈！"}


@router.get("/api/messages", response_model=AgentMessages)
def agent_messages(
    services: ServicesDep,
    since: Annotated[str | None, Query(pattern=r"^[0-9]{0,18}$", description="the last `next_since`")] = None,
    sender: Annotated[str | None, Header(alias=SENDER_HEADER)] = None,
    cookie: SessionCookie = None,
) -> AgentMessages:
    """Agents' replies to this session's tickets after `since` (the previous call's `next_since`).

    The token comes in a header (or the cookie), not the query string, so access logs never hold it.
    """
    sender_id, _ = _sender_id(services, sender, cookie)
    try:
        return agent_replies.for_sender(services.settings, sender_id, since)
    except SQLAlchemyError as error:
        log.warning("agent replies unavailable: %s", type(error).__name__)
        raise HTTPException(
            status_code=503, detail="暂时无法获取人工客服回复，请稍后再试。/ Agent replies unavailable."
        ) from None
