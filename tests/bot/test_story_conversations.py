"""Each end-to-end test conversation in bot/tests/, replayed through the real Rasa and action servers.

`rasa test` only predicts the next action and replays the story's own slot events; here the actions really run
(verification against the database, retrieval, tickets), so the branches they choose must match the story.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
import yaml

from casework.seed import DEMO_RESIDENTS
from channels.rasa_client import ask_rasa
from hotline.settings import PROJECT_ROOT, get_settings

pytestmark = [pytest.mark.services, pytest.mark.slow]

STORIES_FILE = PROJECT_ROOT / "bot" / "tests" / "test_conversations.yml"
_ANNOTATION = re.compile(r"\[([^\]]+)\]\([a-z_]+\)")
# Actions Rasa runs around every turn; the stories do not list them.
_BOOKKEEPING = {"action_listen", "action_session_start", "action_extract_slots"}

# What the resident must read in particular conversations, besides the right actions being run.
EXPECTED_REPLIES: dict[str, list[str]] = {
    "balance check after verifying name, ID number and phone one by one": ["身份核验通过", "个人账户余额为"],
    "contribution check for a resident-scheme payer": ["居民医保已缴费"],
    "e-voucher check for a resident who has not activated it": ["尚未激活"],
    "reimbursement check with no record": ["没有查到您的报销记录"],
    "wrong check digit is explained and asked again": ["校验位"],
    "ID number of the wrong length is explained and asked again": ["位数不对"],
    "impossible birth date is explained and asked again": ["出生日期"],
    "one mismatch, then the resident gets it right": ["不一致", "身份核验通过"],
    "three mismatches stop self-service and open a ticket": ["3次未通过", "工单号：12393-"],
    "resident asks for a human in the middle of verification": ["工单号：12393-"],
    "complaint opens a ticket and the resident rates": ["投诉工单", "感谢您的评价"],
    "fraud report opens a ticket": ["举报工单"],
    "two questions in a row the documents do not cover escalate to a ticket": ["没有找到", "工单号：12393-"],
    "question the documents do not cover, then the resident takes the human": ["没有找到", "工单号：12393-"],
}


def _stories() -> list[dict[str, Any]]:
    return yaml.safe_load(STORIES_FILE.read_text(encoding="utf-8"))["stories"]


def _expected_turns(story: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """(intent, actions that follow it) per user message of the story."""
    turns: list[tuple[str, list[str]]] = []
    for step in story["steps"]:
        if "user" in step:
            turns.append((step["intent"], []))
        elif "action" in step and turns:
            turns[-1][1].append(step["action"])
    return turns


def _actual_turns(tracker: dict[str, Any]) -> list[tuple[str, list[str]]]:
    turns: list[tuple[str, list[str]]] = []
    for event in tracker["events"]:
        if event["event"] == "user":
            turns.append((event["parse_data"]["intent"]["name"], []))
        elif event["event"] == "action" and turns and event["name"] not in _BOOKKEEPING:
            turns[-1][1].append(event["name"])
    return turns


@pytest.mark.parametrize("story", _stories(), ids=lambda s: s["story"])
def test_conversation_runs_as_written(warm_bot_stack, story: dict[str, Any]) -> None:
    sender = f"story-{uuid.uuid4().hex}"
    replies: list[str] = []
    for step in story["steps"]:
        if "user" in step:
            message = _ANNOTATION.sub(r"\1", step["user"])
            reply = ask_rasa(get_settings(), sender, message, rasa_url=warm_bot_stack.rasa_url)
            replies.extend(r.get("text", "") for r in reply.messages)

    token = get_settings().rasa_token.get_secret_value()
    tracker = httpx.get(f"{warm_bot_stack.rasa_url}/conversations/{sender}/tracker",
                        params={"token": token}, timeout=30).json()
    assert _actual_turns(tracker) == _expected_turns(story), "\n".join(replies)

    transcript = "\n".join(replies)
    for phrase in EXPECTED_REPLIES.get(story["story"], []):
        assert phrase in transcript, transcript
    for demo in DEMO_RESIDENTS:  # replies never show a full ID number or phone number
        assert demo.id_number not in transcript and demo.phone not in transcript


def test_there_are_at_least_thirty_conversations() -> None:
    assert len(_stories()) >= 30
