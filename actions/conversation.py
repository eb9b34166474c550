"""What the actions read from a conversation besides slots: who is asking, on which channel, what was said."""

from __future__ import annotations

from rasa_sdk import Tracker

from casework.identity_input import extract_name, is_name
from casework.pseudonyms import sender_pseudonym
from hotline.privacy import mask_name, mask_text

UNKNOWN_CHANNEL = "unknown"


def input_channel(tracker: Tracker) -> str:
    """The channel of the resident's latest message: "web", "wechat" … as the gateway named it.

    Every gateway channel reaches Rasa through its REST input, so Rasa's own `input_channel` is "rest" for all
    of them; the gateway puts the real one in the message metadata (and only the gateway can reach Rasa).
    """
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        channel = (event.get("metadata") or {}).get("channel") or event.get("input_channel")
        if channel:
            return str(channel)
    return UNKNOWN_CHANNEL


def actor(tracker: Tracker) -> str:
    """How audit records name who looked something up: `web:web:h…` (channel, then the sender's keyed hash:
    the table must not hand a reader a session id to speak as)."""
    return f"{input_channel(tracker)}:{sender_pseudonym(tracker.sender_id)}"


def client_key(tracker: Tracker) -> str | None:
    """The gateway's keyed hash of the client IP of the latest message (None on WeChat). Only the gateway can
    reach Rasa (signed messages), and it overwrites this key, so a resident cannot choose it."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            client = (event.get("metadata") or {}).get("client")
            return str(client) if client else None
    return None


def transcript(tracker: Tracker) -> list[str]:
    """The conversation so far, one line per message: `居民：…` / `助手：…`, names and numbers masked.

    Agents read the whole exchange in the ticket, so a resident never has to repeat themselves. Names are
    masked here (the ticket module masks ID and phone numbers again on storing): those the identity form took,
    and those in messages where the NLU saw a name ("我叫张三，身份证……" outside the form). Only values the form
    would take as a name: a rejected one ("查一下我的余额") must not mask ordinary words.
    """
    names = {
        str(event["value"]) for event in tracker.events
        if event.get("event") == "slot" and event.get("name") == "person_name" and event.get("value")
        and is_name(str(event["value"]))
    } | set(_names_the_nlu_saw(tracker))
    lines: list[str] = []
    for event in tracker.events:
        kind = event.get("event")
        text = (event.get("text") or "").strip() if kind in ("user", "bot") else ""
        if not text:
            continue
        for name in sorted(names, key=len, reverse=True):
            text = text.replace(name, mask_name(name))
        lines.append(f"{'居民' if kind == 'user' else '助手'}：{mask_text(text)}")
    return lines


def _names_the_nlu_saw(tracker: Tracker) -> list[str]:
    names = []
    for event in tracker.events:
        entities = (event.get("parse_data") or {}).get("entities") or [] if event.get("event") == "user" else []
        if any(entity.get("entity") == "person_name" for entity in entities):
            # NLU often tags only the surname of an unusual name: the form's reading of the message is whole.
            names += [str(e.get("value")) for e in entities if is_name(str(e.get("value") or ""))]
            name = extract_name(str(event.get("text") or ""))
            if name:
                names.append(name)
    return names


def latest_text(tracker: Tracker) -> str:
    """What the resident typed last, as sent ("" when the message had no text)."""
    return str(tracker.latest_message.get("text") or "")


def latest_intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def latest_entity(tracker: Tracker, entity: str) -> str | None:
    return next(tracker.get_latest_entity_values(entity), None)
