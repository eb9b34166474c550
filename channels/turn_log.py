"""The gateway's record of each turn for the supervisors' analytics (casework/turns.py): channel, a keyed hash of
the sender, the masked question, the intent Rasa read, and what the answer was — read from the bot messages'
`custom` payload (`band`, `citations`, `abstain`; `ticket` when one was opened).

Recording never stands in the resident's way: it runs after the reply is composed, in a worker thread, and a
failure is logged, not raised.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from casework.enums import TurnOutcome
from casework.identity_input import is_name
from casework.pseudonyms import sender_pseudonym
from casework.turns import Turn
from channels.rasa_client import BotReply
from hotline.settings import Settings

log = logging.getLogger(__name__)

OUTCOME_BY_BAND = {
    "confident": TurnOutcome.ANSWERED,
    "related": TurnOutcome.LOW_CONFIDENCE,
    "refused": TurnOutcome.ABSTAINED,
}


def turn_of(channel: str, sender_id: str, text: str, reply: BotReply) -> Turn:
    payloads = [m["custom"] for m in reply.messages if isinstance(m.get("custom"), dict)]
    answer = next((p for p in payloads if "citations" in p or "abstain" in p), None)
    ticket = next((p["ticket"] for p in payloads if isinstance(p.get("ticket"), dict)), None)
    band = None
    if answer is not None:  # payloads from before the bands carry only `abstain`
        band = answer.get("band") or ("refused" if answer.get("abstain") else "confident")
    citation = next(iter((answer or {}).get("citations") or []), None)
    if ticket is not None:
        outcome = TurnOutcome.TICKET
    else:
        outcome = OUTCOME_BY_BAND.get(band or "", TurnOutcome.OTHER)
    return Turn(
        channel=channel,
        conversation=sender_pseudonym(sender_id).rpartition(":")[2],  # the hash, without the channel
        # Only questions the policy answer took are kept as text, and not a bare name: other turns carry identity
        # details (names cannot be masked by pattern), button payloads or small talk, which analytics do not need.
        question=text if answer is not None and not is_name(text.strip().lstrip("/")) else "",
        outcome=outcome,
        intent=reply.intent,
        confidence=reply.confidence,
        band=band,
        answer_chunk_id=citation.get("chunk_id") if citation else None,
        answer_source=_source(citation) if citation else None,
        ticket_number=ticket.get("number") if ticket else None,
    )


def _source(citation: dict[str, Any]) -> str:
    title = str(citation.get("doc_title") or "").strip("《》")
    parts = [
        f"《{title}》" if title else "",
        str(citation.get("section") or ""),
        str(citation.get("region") or ""),
    ]
    return " · ".join(part for part in parts if part)


async def log_turn(settings: Settings, channel: str, sender_id: str, text: str, reply: BotReply) -> None:
    try:
        await asyncio.to_thread(_store, settings, turn_of(channel, sender_id, text, reply))
    except Exception as error:  # noqa: BLE001 - analytics must never cost a resident their answer
        log.warning("turn not logged: %s", type(error).__name__)


def _store(settings: Settings, turn: Turn) -> None:
    from casework.db import session_scope
    from casework.turns import record_turn

    with session_scope(settings.database_url) as session:
        record_turn(session, turn)
