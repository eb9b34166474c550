"""Fixtures for the dialogue's actions: a real seeded SQLite database, the real domain, trackers as Rasa sends them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from casework.db import session_scope, upgrade
from casework.seed import DemoResident, demo_resident, seed_demo_data
from hotline.settings import PROJECT_ROOT, get_settings

DOMAIN_FILE = PROJECT_ROOT / "bot" / "domain.yml"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated SQLite file seeded with the demo residents; the actions find it through the settings."""
    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("AUDIT_LOG_FILE", str(tmp_path / "audit.log"))
    get_settings.cache_clear()
    upgrade(url)
    with session_scope(url) as session:
        seed_demo_data(session)
    yield url
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    return yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8"))


@pytest.fixture
def employee() -> DemoResident:
    return demo_resident("employee")


def user_event(text: str, intent: str, entities: list[dict[str, Any]] | None = None,
               channel: str = "web") -> dict[str, Any]:
    """A user event as Rasa records a gateway message: REST input, the gateway's channel in the metadata."""
    return {
        "event": "user", "text": text, "input_channel": "rest", "metadata": {"channel": channel}, "timestamp": 1.0,
        "parse_data": {"intent": {"name": intent, "confidence": 0.99}, "entities": entities or []},
    }


def bot_event(text: str) -> dict[str, Any]:
    return {"event": "bot", "text": text, "timestamp": 1.0}


def slot_event(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "name": name, "value": value}


def make_tracker(
    text: str = "",
    intent: str = "policy_question",
    *,
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    history: list[dict[str, Any]] | None = None,
    after_user: list[dict[str, Any]] | None = None,
    active_loop: str | None = None,
    sender_id: str = "resident-1",
    channel: str = "web",
) -> Tracker:
    """A tracker shaped like the one Rasa sends: history, the latest user message, then any slot candidates."""
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": entities or []}
    events = [*(history or []), user_event(text, intent, entities, channel), *(after_user or [])]
    all_slots = {"verified": False, "verification_failures": 0.0, "abstain_streak": 0.0, **(slots or {})}
    return Tracker(
        sender_id, all_slots, latest, events, False, None,
        {"name": active_loop} if active_loop else {}, "action_listen",
    )


def run(action: Action, tracker: Tracker, domain: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Run an action as the action server would; returns the messages and the slots its events set."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain))
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    return dispatcher.messages, slots


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


class Conversation:
    """What the action tests need, handed out as one fixture (tests cannot import conftest helpers)."""

    user = staticmethod(user_event)
    bot = staticmethod(bot_event)
    slot = staticmethod(slot_event)
    tracker = staticmethod(make_tracker)
    texts = staticmethod(texts)

    def __init__(self, domain: dict[str, Any]) -> None:
        self.domain = domain

    def run(self, action: Action, tracker: Tracker) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        return run(action, tracker, self.domain)


@pytest.fixture
def conversation(domain: dict[str, Any]) -> Conversation:
    return Conversation(domain)


@pytest.fixture(scope="session")
def warm_bot_stack(bot_stack):  # type: ignore[no-untyped-def]
    """The running stack once the action server has loaded the knowledge base (it loads in the background)."""
    import time

    from channels.rasa_client import ask_rasa

    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        reply = ask_rasa(get_settings(), "warm-up", "异地就医备案怎么办理", rasa_url=bot_stack.rasa_url)
        if any("citations" in (r.get("custom") or {}) for r in reply.messages):
            return bot_stack
        time.sleep(3)
    pytest.fail(f"知识库在 300 秒内没有加载完成：见 {bot_stack.log_dir / 'actions.log'}")
