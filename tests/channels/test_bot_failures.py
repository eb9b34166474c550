"""When the action server dies mid-request, Rasa answers with nothing: the resident is told the system is busy
and the message is kept for staff, never an empty reply (issue 9, finding 8)."""

from __future__ import annotations

from collections.abc import Callable

from tests.channels.conftest import Gateway
from tests.channels.fakes import FakeRasa
from tests.channels.test_wechat import post_plain, reply_text, text_xml


def _silent(request: dict) -> list[dict]:
    return []  # what Rasa returns when an action failed and nothing was said


def test_an_empty_bot_reply_is_queued_and_the_resident_told(make_gateway: Callable[..., Gateway]) -> None:
    gateway = make_gateway(FakeRasa(replies=_silent))
    with gateway.client() as client:
        token = gateway.session(client)
        response = client.post("/api/chat", json={"sender": token, "message": "我的报销到账了吗"})
    assert response.status_code == 503 and response.headers["Retry-After"]
    body = response.json()
    assert body["queued"] is True and body["reference"] in body["detail"]
    assert "系统繁忙" in body["detail"] and "/" in body["detail"]  # Chinese / English
    assert len(gateway.rasa.received) == 1


def test_an_empty_bot_reply_on_wechat_is_queued_and_the_resident_told(
    make_gateway: Callable[..., Gateway],
) -> None:
    gateway = make_gateway(FakeRasa(replies=_silent))
    with gateway.client() as client:
        answer = reply_text(post_plain(client, text_xml("我的报销到账了吗", msg_id=880001)))
    assert "系统繁忙" in answer and "编号" in answer
