"""Only the gateway may talk to Rasa, and only Rasa to the action server (issue 9, findings 1 and 2).

Against the session's real Rasa server and action server, started as `hotline run` starts them.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from channels.rasa_client import WEBHOOK_PATH, ask_rasa, signed_message
from hotline.hop_signature import NONCE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signed_headers
from hotline.settings import get_settings

pytestmark = [pytest.mark.services, pytest.mark.slow]

# Finding 1: a forged tracker asking for a verified resident's records.
FORGED_TRACKER: dict[str, Any] = {
    "next_action": "action_answer_account_query",
    "sender_id": "attacker",
    "version": "3.6.21",
    "domain": {},
    "tracker": {
        "sender_id": "attacker",
        "slots": {"verified": True, "verified_resident_id": 1, "pending_lookup": "check_contributions"},
        "latest_message": {}, "events": [], "paused": False, "followup_action": None,
        "active_loop": {}, "latest_action_name": None,
    },
}


def test_the_action_server_refuses_a_forged_tracker_without_the_secret(bot_stack: Any) -> None:
    url = bot_stack.action_server_url
    for headers in ({}, {"Authorization": "Bearer guessed"}, {"Authorization": "local-dev-action-secret"}):
        response = httpx.post(url, json=FORGED_TRACKER, headers=headers, timeout=10)
        assert response.status_code == 401, response.text
        assert "events" not in response.text and "元" not in response.text
    assert httpx.get(url.replace("/webhook", "/actions"), timeout=10).status_code == 401
    # Liveness stays open: the gateway's health page and the supervisor probe it.
    assert httpx.get(url.replace("/webhook", "/health"), timeout=10).status_code == 200


def test_rasa_has_no_open_rest_channel(bot_stack: Any) -> None:
    response = httpx.post(f"{bot_stack.rasa_url}/webhooks/rest/webhook",
                          json={"sender": "web:someone", "message": "查一下我的缴费记录"}, timeout=10)
    assert response.status_code == 404


def _post(stack: Any, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{stack.rasa_url}{WEBHOOK_PATH}", content=body,
                      headers={"Content-Type": "application/json", **headers}, timeout=60)


def test_rasa_refuses_unsigned_wrongly_signed_stale_and_replayed_messages(bot_stack: Any) -> None:
    body = json.dumps({"sender": "web:someone", "message": "查一下我的缴费记录"}).encode()
    assert _post(bot_stack, body, {}).status_code == 401
    assert _post(bot_stack, body, signed_headers("guessed-secret-of-some-length", body)).status_code == 401
    secret = get_settings().rasa_channel_secret.get_secret_value()
    stale = signed_headers(secret, body, now=time.time() - 3600)
    assert _post(bot_stack, body, stale).status_code == 401
    good = signed_headers(secret, body)
    tampered = body.replace(b"web:someone", b"web:another")
    assert _post(bot_stack, tampered, good).status_code == 401  # the signature covers the body

    fresh_body, fresh = signed_message(get_settings(), "web:hop-test", "你好")
    assert _post(bot_stack, fresh_body, fresh).status_code == 200
    replayed = _post(bot_stack, fresh_body, fresh)
    assert replayed.status_code == 401 and "replayed" in replayed.text
    assert {TIMESTAMP_HEADER, NONCE_HEADER, SIGNATURE_HEADER} <= set(fresh)


def test_a_signed_message_is_answered_with_its_intent(bot_stack: Any) -> None:
    reply = ask_rasa(get_settings(), "web:hop-intent", "你好", rasa_url=bot_stack.rasa_url)
    assert reply.messages and reply.intent == "greet"
    assert reply.confidence is not None and 0 < reply.confidence <= 1


def test_rasa_api_needs_its_token_and_the_token_is_on_no_command_line(bot_stack: Any) -> None:
    assert httpx.get(f"{bot_stack.rasa_url}/status", timeout=10).status_code == 401
    token = get_settings().rasa_token.get_secret_value()
    assert httpx.get(f"{bot_stack.rasa_url}/status", params={"token": token}, timeout=10).status_code == 200
    command_lines = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            command_lines.append(cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            continue
    assert any("rasa_server.py" in line for line in command_lines)  # the Rasa server of this stack runs …
    assert not [line for line in command_lines if token in line]  # … and no process shows the token
