"""The resident rates an answered ticket by a signed link: `GET /rate#<token>` (a small page), `POST /api/rating`.

When a ticket is answered, its chat receives an invitation to rate (casework.replies.invite_rating). The web chat
shows it with three buttons, WeChat as text with a link — both carry a token signed by the gateway
(`GATEWAY_SECRET`) that names the ticket and expires after `rating_link_days`. Holding the token is what proves
the rater is the resident the invitation was sent to; it travels in the URL fragment, which browsers never send
to a server, so access logs never hold it. Residents can also just reply "满意" / "不满意" in the chat (Rasa).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import datetime

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from casework.enums import Rating, TicketStatus
from casework.lifecycle import RATEABLE_STATUSES
from casework.models import Ticket
from casework.ratings import MAX_COMMENT_CHARS, rate_ticket
from casework.tickets import due_text, find_ticket
from channels.deps import DbSession, ServicesDep
from channels.services import client_ip
from hotline.settings import PROJECT_ROOT, Settings

router = APIRouter(tags=["resident: rating"])
RATE_PAGE = PROJECT_ROOT / "channels" / "static" / "rate.html"
INVALID_LINK = "评价链接无效或已过期。您也可以在聊天中直接回复“满意”“基本满意”或“不满意”。/ Invalid or expired rating link."
LINK_ACTOR = "resident:评价链接"


def rating_token(settings: Settings, number: str, *, now: float | None = None) -> str:
    """`<ticket number>.<expiry>.<signature>` for the ticket's rating link."""
    expires = int((now or time.time()) + settings.rating_link_days * 86400)
    return f"{number}.{expires}.{_signature(settings, number, expires)}"


def rating_url(settings: Settings, number: str) -> str:
    return f"{settings.gateway_public_url.rstrip('/')}/rate#{rating_token(settings, number)}"


def verified_number(settings: Settings, token: str, *, now: float | None = None) -> str | None:
    """The ticket number a well-signed, unexpired token names; None otherwise (constant-time comparison)."""
    number, _, rest = token.strip().partition(".")
    expires, _, signature = rest.partition(".")
    if not number or not expires.isdigit() or len(token) > 120:
        return None
    if not hmac.compare_digest(signature.encode(), _signature(settings, number, int(expires)).encode()):
        return None
    return number if int(expires) > (now or time.time()) else None


def _signature(settings: Settings, number: str, expires: int) -> str:
    key = settings.gateway_secret.get_secret_value().encode()
    digest = hmac.new(key, f"rate:{number}:{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


class RatingLinkRequest(BaseModel):
    token: str = Field(min_length=1, max_length=120)


class RatingRequest(RatingLinkRequest):
    rating: Rating
    comment: str = Field(default="", max_length=MAX_COMMENT_CHARS)


class RatingState(BaseModel):
    number: str
    status: TicketStatus
    rating: Rating | None
    rateable: bool
    callback_due: datetime | None = None
    message: str = ""


@router.get("/rate", include_in_schema=False)
def rate_page() -> FileResponse:
    return FileResponse(RATE_PAGE, headers={"Cache-Control": "no-cache"})


@router.post(
    "/api/rating/status", response_model=RatingState, responses={403: {"description": "链接无效或已过期"}}
)
def rating_status(body: RatingLinkRequest, services: ServicesDep, db: DbSession) -> RatingState:
    """Which ticket a rating link is for and whether it can still be rated (for the rating page)."""
    ticket = _linked_ticket(services.settings, db, body.token)
    return RatingState(
        number=ticket.number,
        status=ticket.status,
        rating=ticket.rating,
        rateable=ticket.rating is None
        and ticket.merged_into_id is None
        and ticket.status in RATEABLE_STATUSES,
    )


@router.post(
    "/api/rating",
    response_model=RatingState,
    responses={
        403: {"description": "链接无效或已过期"},
        409: {"description": "此时不能评价（未答复或已评价）"},
    },
)
def rate(body: RatingRequest, request: Request, services: ServicesDep, db: DbSession) -> RatingState:
    """满意 / 基本满意 close the ticket; 不满意 opens a 回访 within 10 working days."""
    services.per_ip.check(f"rating:{client_ip(request)}")
    ticket = _linked_ticket(services.settings, db, body.token)
    outcome = rate_ticket(ticket, body.rating, LINK_ACTOR, body.comment)
    message = "感谢您的评价！"
    if outcome.callback_due is not None:
        message = (
            f"很抱歉没有让您满意。我们已安排回访，工作人员会在{due_text(outcome.callback_due)}与您联系，"
            "并反馈整改情况。"
        )
    return RatingState(
        number=outcome.number,
        status=outcome.status,
        rating=outcome.rating,
        rateable=False,
        callback_due=outcome.callback_due,
        message=message,
    )


def _linked_ticket(settings: Settings, db: Session, token: str) -> Ticket:
    number = verified_number(settings, token)
    ticket = find_ticket(db, number) if number else None
    if ticket is None:
        raise HTTPException(status_code=403, detail=INVALID_LINK)
    return ticket
