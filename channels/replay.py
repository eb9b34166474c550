"""Messages the bot could not take are answered once it is back: replayed to the bot in their order, and the answer
delivered — on WeChat by the customer-service API, on the web at the page's next poll of /api/messages.

The gateway runs `run_forever` (every `replay_interval_seconds`, while a Rasa server and its action server answer);
`hotline queue replay` runs one round by hand and `hotline queue list` shows what waits. One conversation is
replayed by one replayer at a time (casework.journal leases it), its messages oldest first, through the same pool,
turn lock and request ids as a live message (channels/rasa_pool.py).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from channels import wechat_text
from channels.rasa_client import BotUnavailable
from channels.services import Services
from channels.sessions import WECHAT_PREFIX
from channels.wechat_api import WeChatApi
from hotline.structured_logs import REQUEST_ID, new_request_id

log = logging.getLogger(__name__)

ANSWER_INTRO = "您在系统繁忙时的留言（编号 {reference}）“{message}”，现答复如下：\n"
SENT, WAITING, UNDELIVERABLE = "sent", "waiting", "undeliverable"


@dataclass
class ReplayReport:
    answered: int = 0  # replayed and delivered (or waiting for the web page)
    undeliverable: int = 0  # answered, but the answer could not reach the resident
    bot_down: bool = False  # stopped: the bot still does not answer


async def replay_round(services: Services, api: WeChatApi) -> ReplayReport:
    """Replay every queued conversation while the bot answers."""
    from casework import journal
    from casework.db import session_scope

    report = ReplayReport()
    database_url = services.settings.database_url
    if not (await services.rasa.rasa_status())[0]:  # no Rasa server answers: nothing to claim yet
        report.bot_down = True
        return report

    def claim() -> list[journal.QueuedView]:
        with session_scope(database_url) as session:
            return journal.claim_next_conversation(session)

    while not report.bot_down and (queued := await asyncio.to_thread(claim)):
        for position, message in enumerate(queued):
            if message.sender_id is None:
                await asyncio.to_thread(_finish, database_url, message.id, "", UNDELIVERABLE, "sender unsealable")
                report.undeliverable += 1
                continue
            REQUEST_ID.set(new_request_id())
            try:
                reply = await services.rasa.send(message.sender_id, message.message,
                                                 {"channel": message.channel, "replayed": message.reference})
            except BotUnavailable as error:
                log.info("replay stopped, the bot is still unavailable: %s", error)
                for waiting in queued[position:]:
                    await asyncio.to_thread(_release, database_url, waiting.id)
                report.bot_down = True
                break
            intro = ANSWER_INTRO.format(reference=message.reference, message=message.message[:40])
            answer = intro + (wechat_text.render_bot_messages(reply.messages) or wechat_text.EMPTY_ANSWER)
            outcome, problem = WAITING, ""  # a web page fetches it at its next poll
            if message.sender_id.startswith(WECHAT_PREFIX):
                outcome = SENT
                try:
                    for piece in wechat_text.split_for_wechat(answer):
                        await api.send_text(message.sender_id.removeprefix(WECHAT_PREFIX), piece)
                except Exception as error:  # noqa: BLE001 - refused (45015/45047), API or network error
                    outcome, problem = UNDELIVERABLE, repr(error)
            await asyncio.to_thread(_finish, database_url, message.id, answer, outcome, problem)
            if outcome == UNDELIVERABLE:
                report.undeliverable += 1
            else:
                report.answered += 1
    return report


def _finish(database_url: str, message_id: int, answer: str, outcome: str, problem: str = "") -> None:
    from casework import journal
    from casework.db import session_scope

    with session_scope(database_url) as session:
        if outcome == UNDELIVERABLE:
            journal.record_undelivered_answer(session, message_id, answer, problem)
        else:
            journal.record_answer(session, message_id, answer, delivered=outcome == SENT)


def _release(database_url: str, message_id: int) -> None:
    from casework import journal
    from casework.db import session_scope

    with session_scope(database_url) as session:
        journal.release(session, message_id)


async def run_forever(services: Services, api: WeChatApi) -> None:
    interval = services.settings.replay_interval_seconds
    if interval <= 0:
        return
    while True:
        await asyncio.sleep(interval)
        try:
            report = await replay_round(services, api)
            if report.answered or report.undeliverable:
                log.info("replayed queued messages: %d answered, %d undeliverable", report.answered,
                         report.undeliverable)
        except Exception as error:  # noqa: BLE001 - database down or table missing: next round
            log.warning("replay round failed: %r", error)
