"""Each end-to-end test conversation in bot/tests/, replayed through the gateway, Rasa and the action server.

`rasa test` only predicts the next action and replays the story's own slot events; here the actions really run
(verification against the database, retrieval, tickets), so the branches they choose must match the story.
The stories write ID numbers as Rasa sees them (masked); the replay types the real numbers into the gateway's
chat API, as a resident does, and the gateway masks and seals them on the way.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
import yaml

from casework.seed import DEMO_RESIDENTS
from hotline.privacy import mask_id_number
from hotline.settings import PROJECT_ROOT, get_settings

pytestmark = [pytest.mark.services, pytest.mark.slow]

STORIES_FILE = PROJECT_ROOT / "bot" / "tests" / "test_conversations.yml"
_ANNOTATION = re.compile(r"\[([^\]]+)\]\([a-z_]+\)")
_MASKED_ID = re.compile(r"\d{4}\*{10}[\dXx]{4}")
# The numbers the stories mean by their masked forms: the demo residents', and two wrong ones on purpose.
TYPED_ID_NUMBERS = {
    mask_id_number(number): number
    for number in [*(demo.id_number for demo in DEMO_RESIDENTS), "360102198503129015", "441702199213459025"]
}
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
    # Nothing is answered yet: the progress names the stage, and the rating is explained, not recorded.
    "complaint opens a ticket, the resident asks how it is going and rates too early": [
        "投诉工单", "已受理", "工作人员答复后才能评价"],
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


def typed(story_text: str) -> str:
    """What the resident types: the story's text without annotations, with the real ID numbers."""
    return _MASKED_ID.sub(lambda m: TYPED_ID_NUMBERS[m.group(0)], _ANNOTATION.sub(r"\1", story_text))


@pytest.mark.parametrize("story", _stories(), ids=lambda s: s["story"])
def test_conversation_runs_as_written(warm_bot_stack, gateway_stack, story: dict[str, Any]) -> None:
    replies: list[str] = []
    with httpx.Client(base_url=gateway_stack.gateway_url, timeout=90) as client:
        token = client.post("/api/session").json()["sender"]
        for step in story["steps"]:
            if "user" in step:
                response = client.post("/api/chat", json={"sender": token, "message": typed(step["user"])})
                assert response.status_code == 200, response.text
                replies.extend(r.get("text", "") for r in response.json())
    sender = token.rpartition(".")[0]  # the signed token's sender id, as the gateway relays it

    api_token = get_settings().rasa_token.get_secret_value()
    tracker = httpx.get(f"{warm_bot_stack.rasa_url}/conversations/{sender}/tracker",
                        params={"token": api_token}, timeout=30).json()
    assert _actual_turns(tracker) == _expected_turns(story), "\n".join(replies)

    transcript = "\n".join(replies)
    for phrase in EXPECTED_REPLIES.get(story["story"], []):
        assert phrase in transcript, transcript
    for demo in DEMO_RESIDENTS:  # replies never show a full ID number or phone number
        assert demo.id_number not in transcript and demo.phone not in transcript


def test_there_are_at_least_thirty_conversations() -> None:
    assert len(_stories()) >= 30
