"""Delivers agents' replies to WeChat residents: `ticket_messages` for `wechat:` senders, by the
customer-service API. (Web residents fetch theirs from GET /api/messages.) Runs as a loop in the gateway."""

from __future__ import annotations

import asyncio
import logging

from channels.journal import Journal
from channels.sessions import WECHAT_PREFIX
from channels.wechat_api import WeChatApi
from channels.wechat_text import split_for_wechat
from hotline.settings import Settings

log = logging.getLogger(__name__)
POLL_SECONDS = 10.0


def _claim_pending(settings: Settings) -> list[tuple[str, str, str]]:
    """(openid, ticket number, text) of undelivered agent replies, claimed so no other gateway sends them."""
    from casework.db import session_scope
    from casework.tickets import claim_undelivered

    with session_scope(settings.database_url) as session:
        replies = claim_undelivered(session, sender_prefix=WECHAT_PREFIX)
    return [(r.sender_id.removeprefix(WECHAT_PREFIX), r.ticket_number, r.text) for r in replies]


async def deliver_agent_replies(settings: Settings, api: WeChatApi, journal: Journal) -> int:
    """One round; returns how many replies WeChat accepted."""
    delivered = 0
    for openid, number, text in await asyncio.to_thread(_claim_pending, settings):
        pieces = split_for_wechat(f"【人工客服回复 · 工单 {number}】\n{text}")
        try:
            for piece in pieces:
                await api.send_text(openid, piece)
            delivered += 1
        except Exception as error:  # refused (45015/45047), API or network error: staff must follow up
            journal.append(
                "wechat_undeliverable",
                {
                    "sender_id": WECHAT_PREFIX + openid,
                    "ticket": number,
                    "errcode": getattr(error, "errcode", None),
                    "reason": repr(error),
                    "text": text,
                },
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
