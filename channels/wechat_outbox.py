"""Delivers agents' replies to WeChat residents: `ticket_messages` for `wechat:` senders, by the
customer-service API. (Web residents fetch theirs from GET /api/messages.) Runs as a loop in the gateway."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from channels.journal import Journal
from channels.sessions import WECHAT_PREFIX
from channels.wechat_api import WeChatApi
from channels.wechat_text import split_for_wechat
from hotline.settings import Settings

if TYPE_CHECKING:
    from casework.replies import AgentMessage

log = logging.getLogger(__name__)
POLL_SECONDS = 10.0


def _claim_pending(settings: Settings) -> list[tuple[str, str, str]]:
    """(openid, ticket number, text as sent) of undelivered messages, claimed so no other gateway sends them."""
    from casework.db import session_scope
    from casework.tickets import claim_undelivered

    with session_scope(settings.database_url) as session:
        replies = claim_undelivered(session, sender_prefix=WECHAT_PREFIX)
    return [(r.sender_id.removeprefix(WECHAT_PREFIX), r.ticket_number, _wechat_text(settings, r)) for r in replies]


def _wechat_text(settings: Settings, message: AgentMessage) -> str:
    """An agent's reply, the invitation to rate (with the signed link and the words to reply), or 回访 feedback."""
    from casework.enums import MessageKind
    from channels.ratings import rating_url

    title = {MessageKind.RATING_INVITATION: "请您评价", MessageKind.CALLBACK_FEEDBACK: "回访反馈"}.get(
        message.kind, "人工客服回复"
    )
    text = f"【{title} · 工单 {message.ticket_number}】\n{message.text}"
    if message.kind is MessageKind.RATING_INVITATION:
        text += f"\n请直接回复“满意”“基本满意”或“不满意”，也可以打开链接评价：{rating_url(settings, message.ticket_number)}"
    return text


async def deliver_agent_replies(settings: Settings, api: WeChatApi, journal: Journal) -> int:
    """One round; returns how many replies WeChat accepted."""
    delivered = 0
    for openid, number, text in await asyncio.to_thread(_claim_pending, settings):
        pieces = split_for_wechat(text)
        try:
            for piece in pieces:
                await api.send_text(openid, piece)
            delivered += 1
        except Exception as error:  # refused (45015/45047), API or network error: staff must follow up
            await journal.record_undeliverable(
                sender_id=WECHAT_PREFIX + openid, text=text, reason=repr(error),
                errcode=getattr(error, "errcode", None), ticket_number=number,
            )
            log.warning("agent reply on ticket %s not delivered: %s", number, error)
    return delivered


async def run_forever(settings: Settings, api: WeChatApi, journal: Journal) -> None:
    while True:
        try:
            await deliver_agent_replies(settings, api, journal)
        except Exception as error:  # a missing table or a locked database must not end the loop
            log.debug("agent reply delivery round failed: %r", error)
        await asyncio.sleep(POLL_SECONDS)
