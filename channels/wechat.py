"""WeChat official account callback: `GET /wechat` (server verification) and `POST /wechat` (messages).

wechatpy parses the XML, renders replies and does the AES crypto of safe mode. What it leaves out is here:
signatures are compared in constant time, requests older than `wechat_max_timestamp_age` are refused,
retries are answered once (keyed by sender and MsgId, or sender and CreateTime without one, in a store every
gateway worker shares: `channels/shared_state.py`), fields that are not what WeChat sends are refused (400),
and `]]>` in a reply cannot break the XML. WeChat waits 5 s and then retries, so an answer not ready within
`wechat_reply_deadline` is acknowledged with `success` and delivered by the customer-service API instead.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse, Response
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.messages import BaseMessage
from wechatpy.replies import TextReply

from channels import wechat_text
from channels.rasa_client import BotUnavailable
from channels.services import Services, get_services
from channels.sessions import wechat_sender_id
from channels.shared_state import SharedState, SharedStateError, shared_state
from channels.turn_log import log_turn
from channels.wechat_api import WeChatApi

log = logging.getLogger(__name__)
router = APIRouter(tags=["wechat"])
ServicesDep = Annotated[Services, Depends(get_services)]

DEDUP_SECONDS = 300.0  # WeChat retries three times within about 15 s; keep keys well beyond that
# What the shared store holds per message: PENDING while the first worker composes, SENT_BY_API once the
# answer goes by the customer-service API, else the passive reply's texts as JSON.
PENDING, SENT_BY_API = "pending", "api"
POLL_SECONDS = 0.1
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_OPENID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_MSG_ID = re.compile(r"[0-9]{1,20}")


@dataclass
class Answer:
    """One incoming message's answer, shared by WeChat's retries of that message."""

    sender: str
    openid: str
    task: asyncio.Task[list[str]]
    received: float = field(default_factory=time.monotonic)
    sent_by_api: bool = False


class WeChatState:
    def __init__(self, services: Services) -> None:
        self.api = WeChatApi(services.settings)
        self.shared: SharedState = shared_state(services.settings)
        self.answers: dict[str, Answer] = {}  # this worker's answers in progress, shared by its retries
        self.deliveries: set[asyncio.Task[None]] = set()  # strong references until each delivery ends

    def forget_old(self) -> None:
        cutoff = time.monotonic() - DEDUP_SECONDS
        for key in [k for k, a in self.answers.items() if a.received < cutoff and a.task.done()]:
            del self.answers[key]


def state_of(services: Services) -> WeChatState:
    state = services.extras.get("wechat")
    if state is None:
        state = services.extras["wechat"] = WeChatState(services)
    return state  # type: ignore[return-value]


async def shutdown(services: Services) -> None:
    state = services.extras.get("wechat")
    if isinstance(state, WeChatState):
        for task in list(state.deliveries):
            task.cancel()
        await state.api.aclose()


def _sha1_signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def _check_request(services: Services, signature: str, timestamp: str, nonce: str) -> None:
    settings = services.settings
    expected = _sha1_signature(settings.wechat_token.get_secret_value(), timestamp, nonce)
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        raise HTTPException(status_code=403, detail="签名校验失败 / Invalid signature")
    max_age = settings.wechat_max_timestamp_age
    if not _TIMESTAMP.fullmatch(timestamp) or abs(time.time() - int(timestamp)) > max_age:
        # A captured request replayed later carries a valid signature but an old timestamp.
        raise HTTPException(status_code=403, detail="请求已过期 / Stale timestamp")


@router.get("/wechat", response_class=PlainTextResponse)
def verify_server(services: ServicesDep, signature: str, timestamp: str, nonce: str, echostr: str) -> str:
    """WeChat's server verification when the URL is saved in the official account console."""
    _check_request(services, signature, timestamp, nonce)
    return echostr


@router.post("/wechat")
async def receive(
    request: Request,
    services: ServicesDep,
    signature: str,
    timestamp: str,
    nonce: str,
    encrypt_type: str = "raw",
    msg_signature: Annotated[str | None, Query()] = None,
) -> Response:
    _check_request(services, signature, timestamp, nonce)
    body = await request.body()
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        raise HTTPException(status_code=400, detail="不接受带 DTD 的 XML / XML with a DTD is refused")
    crypto = _crypto(services) if encrypt_type == "aes" else None
    if crypto is not None:
        xml = _decrypt(services, crypto, body, msg_signature or "", timestamp, nonce)
    else:
        xml = body.decode("utf-8", errors="replace")
    try:
        message = parse_message(xml)
    except Exception as error:  # xmltodict raises several types for malformed input
        raise HTTPException(status_code=400, detail="无法解析的消息 / Unparseable message XML") from error
    if message is None:
        raise HTTPException(status_code=400, detail="空消息 / Empty message")
    key = _dedup_key(message)

    texts = await _answer_once(services, message, key)
    if not texts:
        return PlainTextResponse("success")
    reply = TextReply(message=message, content=wechat_text.cdata_safe(texts[0])).render()
    if crypto is not None:
        reply = crypto.encrypt_message(reply, nonce, timestamp)
    return Response(content=reply, media_type="application/xml")


def _crypto(services: Services) -> WeChatCrypto:
    settings = services.settings
    if not settings.wechat_encoding_aes_key:
        raise HTTPException(status_code=400, detail="未配置 EncodingAESKey / Safe mode is not configured")
    return WeChatCrypto(
        settings.wechat_token.get_secret_value(), settings.wechat_encoding_aes_key, settings.wechat_app_id
    )


def _decrypt(
    services: Services, crypto: WeChatCrypto, body: bytes, msg_signature: str, timestamp: str, nonce: str
) -> str:
    import xmltodict

    try:
        encrypted = xmltodict.parse(body)["xml"]["Encrypt"]
    except Exception as error:
        raise HTTPException(
            status_code=400, detail="无法解析的加密消息 / Unparseable encrypted XML"
        ) from error
    expected = _sha1_signature(services.settings.wechat_token.get_secret_value(), timestamp, nonce, encrypted)
    if not hmac.compare_digest(msg_signature.encode(), expected.encode()):
        raise HTTPException(status_code=403, detail="消息签名校验失败 / Invalid msg_signature")
    try:
        return crypto.decrypt_message({"Encrypt": encrypted}, msg_signature, timestamp, nonce)
    except (InvalidSignatureException, InvalidAppIdException) as error:
        raise HTTPException(status_code=403, detail="消息解密失败 / Decryption failed") from error
    except Exception as error:  # bad padding or base64: not something WeChat sends
        raise HTTPException(status_code=400, detail="消息解密失败 / Decryption failed") from error


def _dedup_key(message: BaseMessage) -> str:
    """`wechat:answer:<openid>:<MsgId>`, or `…:<openid>:t<CreateTime>:<type>:<event>` for a message without a
    MsgId (events): one sender's retries share it, two senders never do. 400 for fields WeChat never sends."""
    openid = str(message.source or "")
    if not _OPENID.fullmatch(openid) or not message.target:
        raise HTTPException(status_code=400, detail="缺少发送方或接收方 / Missing FromUserName/ToUserName")
    try:
        created = int(message.create_time.timestamp())  # wechatpy converts on access: "abc", 10**400 fail
    except (AttributeError, ValueError, OverflowError, OSError) as error:
        raise HTTPException(
            status_code=400, detail="CreateTime 不是合法的时间戳 / CreateTime is not a timestamp"
        ) from error
    try:
        msg_id = int(message.id or 0)
    except (ValueError, OverflowError) as error:
        raise HTTPException(status_code=400, detail="MsgId 不是合法的数字 / MsgId is not a number") from error
    if msg_id:
        if not _MSG_ID.fullmatch(str(msg_id)):
            raise HTTPException(status_code=400, detail="MsgId 不是合法的数字 / MsgId is not a number")
        return f"wechat:answer:{openid}:{msg_id}"
    return f"wechat:answer:{openid}:t{created}:{message.type}:{getattr(message, 'event', '')}"


async def _answer_once(services: Services, message: BaseMessage, key: str) -> list[str]:
    """The passive reply's texts, or [] when the answer goes (or went) by the customer-service API.

    The first request for a message (in any worker) composes the answer; a retry at the same worker waits for
    that answer, a retry at another worker reads it from the shared store; neither asks Rasa again.
    """
    state = state_of(services)
    state.forget_old()
    answer = state.answers.get(key)
    if answer is None:
        if not _claim(state, key):
            return await _answer_of_another_worker(services, state, key)
        sender = wechat_sender_id(message.source)
        answer = Answer(
            sender=sender,
            openid=message.source,
            task=asyncio.create_task(_compose(services, message, sender)),
        )
        state.answers[key] = answer
    elif answer.sent_by_api:
        return []  # a retry of a message whose answer is already on its way
    deadline = services.settings.wechat_reply_deadline
    remaining = max(0.0, deadline - (time.monotonic() - answer.received))
    done, _ = await asyncio.wait({answer.task}, timeout=remaining)
    if done and not answer.task.cancelled() and answer.task.exception() is None:
        texts = answer.task.result()
        if len(texts) <= 1:
            _share(state, key, json.dumps(texts, ensure_ascii=False))
            return texts  # the same passive reply again if WeChat retries: it never received the first
    answer.sent_by_api = True
    _share(state, key, SENT_BY_API)
    delivery = asyncio.create_task(_deliver_later(services, state, answer))
    state.deliveries.add(delivery)
    delivery.add_done_callback(state.deliveries.discard)
    return []


def _claim(state: WeChatState, key: str) -> bool:
    try:
        return state.shared.add(key, PENDING, DEDUP_SECONDS)
    except SharedStateError as error:  # without the store, answering twice beats not answering
        log.warning("WeChat de-duplication store unavailable, answering anyway: %s", error)
        return True


def _share(state: WeChatState, key: str, value: str) -> None:
    try:
        state.shared.set(key, value, DEDUP_SECONDS)
    except SharedStateError as error:
        log.warning("WeChat de-duplication store unavailable: %s", error)


async def _answer_of_another_worker(services: Services, state: WeChatState, key: str) -> list[str]:
    """A retry that reached a worker other than the one answering: the passive reply once that worker has it,
    else `success` (that worker sends the answer by the customer-service API)."""
    deadline = time.monotonic() + services.settings.wechat_reply_deadline
    while True:
        try:
            value = state.shared.get(key)
        except SharedStateError:
            return []
        if value not in (None, PENDING) or time.monotonic() >= deadline:
            break
        await asyncio.sleep(POLL_SECONDS)
    if value in (None, PENDING, SENT_BY_API):
        return []
    return [str(text) for text in json.loads(value)]


async def _compose(services: Services, message: BaseMessage, sender: str) -> list[str]:
    if message.type == "event":
        return wechat_text.split_for_wechat(wechat_text.WELCOME) if message.event == "subscribe" else []
    if message.type != "text":
        return [wechat_text.UNSUPPORTED]
    text = (message.content or "").strip()
    if not text:
        return [wechat_text.UNSUPPORTED]
    limit = services.settings.gateway_max_message_chars
    if len(text) > limit:
        return [wechat_text.TOO_LONG.format(limit=limit)]
    if services.per_sender.retry_after(f"sender:{sender}"):
        return [wechat_text.TOO_FAST]
    try:
        reply = await services.rasa.send(sender, text, {"channel": "wechat"})
    except BotUnavailable as error:
        reference = await services.journal.queue_undelivered(
            channel="wechat", sender_id=sender, message=text, reason=str(error)
        )
        log.warning("bot unavailable, WeChat message %s queued for staff: %s", reference, error)
        return [wechat_text.UNAVAILABLE.format(reference=reference)]
    await log_turn(services.settings, "wechat", sender, text, reply)  # for the supervisors' analytics
    rendered = wechat_text.render_bot_messages(reply.messages) or wechat_text.EMPTY_ANSWER
    return wechat_text.split_for_wechat(rendered)


async def _deliver_later(services: Services, state: WeChatState, answer: Answer) -> None:
    try:
        texts = await answer.task
    except Exception:
        log.exception("composing the answer for %s failed", answer.sender)
        texts = [wechat_text.EMPTY_ANSWER]
    for index, text in enumerate(texts):
        try:
            await state.api.send_text(answer.openid, text)
        except Exception as error:
            # Refused (Undeliverable: nothing more reaches this resident until they write again), or an API or
            # network failure: the rest is kept for staff.
            await services.journal.record_undeliverable(
                sender_id=answer.sender, text="\n\n".join(texts[index:]), reason=repr(error),
                errcode=getattr(error, "errcode", None),
            )
            log.warning("WeChat delivery to %s failed: %r", answer.sender, error)
            return
