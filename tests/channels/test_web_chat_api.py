"""The web chat API: server-issued signed senders, the Rasa REST shape, limits and clear errors."""

from __future__ import annotations

import json
from collections.abc import Callable

from casework.enums import QueuedMessageStatus
from casework.models import Feedback, QueuedMessage
from casework.pseudonyms import client_pseudonym
from casework.senders import stored_sender
from channels.sessions import SessionSigner
from tests.channels.conftest import Gateway
from tests.channels.fakes import FakeRasa

CITED_ANSWER = {
    "text": "异地长期居住人员可以通过国家医保服务平台 App 办理备案。",
    "buttons": [{"title": "转人工", "payload": "/request_human"}],
    "custom": {
        "citations": [
            {
                "chunk_id": "c1",
                "doc_title": "南昌市异地就医管理办法",
                "section": "第二章",
                "region": "江西省南昌市",
                "text": "……",
                "score": 0.82,
            }
        ],
        "abstain": False,
    },
}


def test_chat_relays_to_rasa_with_the_signed_sender_and_web_channel(
    make_gateway: Callable[..., Gateway],
) -> None:
    gateway = make_gateway(FakeRasa(replies=lambda r: [{"recipient_id": r["sender"], **CITED_ANSWER}]))
    with gateway.client() as client:
        token = gateway.session(client)
        response = client.post(
            "/api/chat",
            json={
                "sender": token,
                "message": "异地就医怎么备案",
                "metadata": {"channel": "wechat", "lang": "zh", "client": "forged"},
            },
        )
    assert response.status_code == 200
    [message] = response.json()
    assert message["recipient_id"] == token
    assert message["custom"]["citations"][0]["doc_title"] == "南昌市异地就医管理办法"
    assert message["buttons"][0]["title"] == "转人工"
    [forwarded] = gateway.rasa.received
    assert forwarded["sender"] == token.rsplit(".", 1)[0] and forwarded["sender"].startswith("web:")
    # The client cannot choose the channel, nor the key its identity-check failures are counted under.
    metadata = forwarded["metadata"]
    assert metadata["channel"] == "web" and metadata["lang"] == "zh"
    assert metadata["client"] != "forged" and "127.0.0.1" not in metadata["client"]
    assert metadata["client"] == client_pseudonym("127.0.0.1")


def test_the_rasa_widget_path_works_with_the_session_cookie(make_gateway: Callable[..., Gateway]) -> None:
    gateway = make_gateway()
    with gateway.client() as client:
        gateway.session(client)  # sets the HttpOnly cookie
        response = client.post("/webhooks/rest/webhook", json={"message": "你好"})
    assert response.status_code == 200
    assert response.json()[0]["text"] == "您问的是：你好"


def test_a_forged_or_missing_sender_is_rejected(make_gateway: Callable[..., Gateway]) -> None:
    gateway = make_gateway()
    forged = SessionSigner("not-the-gateway-secret").issue()
    with gateway.client() as client:
        for sender in (forged, "web:someone-else", None):
            response = client.post("/api/chat", json={"sender": sender, "message": "查余额"})
            assert response.status_code == 401
            assert "会话无效" in response.json()["detail"]
    assert gateway.rasa.received == []


def test_malformed_json_and_wrong_shapes_get_specific_errors(make_gateway: Callable[..., Gateway]) -> None:
    gateway = make_gateway()
    with gateway.client() as client:
        token = gateway.session(client)
        broken = client.post(
            "/api/chat", content=b'{"sender": "x", "message": ', headers={"Content-Type": "application/json"}
        )
        missing = client.post("/api/chat", json={"sender": token})
        too_long = client.post("/api/chat", json={"sender": token, "message": "医" * 501})
        empty = client.post("/api/chat", json={"sender": token, "message": "   "})
    assert broken.status_code == 400 and "不是合法的 JSON" in broken.json()["detail"]
    assert missing.status_code == 422 and "message" in missing.json()["detail"]
    assert too_long.status_code == 422 and "500 字以内" in too_long.json()["detail"]
    assert empty.status_code == 422 and "不能为空" in empty.json()["detail"]


def test_an_oversized_body_is_refused_with_413(make_gateway: Callable[..., Gateway]) -> None:
    gateway = make_gateway(gateway_max_body_bytes=2048)
    with gateway.client() as client:
        token = gateway.session(client)
        declared = client.post("/api/chat", json={"sender": token, "message": "医" * 2000})

        def chunks():  # no Content-Length: the limit must hold while streaming too
            yield json.dumps({"sender": token, "message": "保" * 400}).encode()
            yield b" " * 4096

        streamed = client.post("/api/chat", content=chunks(), headers={"Content-Type": "application/json"})
    assert declared.status_code == 413 and "请求内容过大" in declared.json()["detail"]
    assert streamed.status_code == 413
    assert gateway.rasa.received == []


def test_per_sender_limit_answers_429_with_retry_after(make_gateway: Callable[..., Gateway]) -> None:
    gateway = make_gateway(gateway_rate_per_sender=3)
    with gateway.client() as client:
        token = gateway.session(client)
        statuses = [client.post("/api/chat", json={"sender": token, "message": f"问题{i}"}) for i in range(4)]
        other = client.post("/api/chat", json={"sender": gateway.session(client), "message": "另一位居民"})
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    assert 1 <= int(statuses[-1].headers["Retry-After"]) <= 60
    assert "太频繁" in statuses[-1].json()["detail"]
    assert other.status_code == 200


def test_per_ip_limit_holds_across_fresh_sessions(make_gateway: Callable[..., Gateway]) -> None:
    gateway = make_gateway(gateway_rate_per_ip=2)
    with gateway.client() as client:
        statuses = [
            client.post("/api/chat", json={"sender": gateway.session(client), "message": "你好"}).status_code
            for _ in range(3)
        ]
    assert statuses == [200, 200, 429]


def test_when_the_bot_is_down_the_message_is_kept_and_the_resident_told(
    make_gateway: Callable[..., Gateway],
) -> None:
    gateway = make_gateway(FakeRasa(actions_up=False))
    with gateway.client() as client:
        token = gateway.session(client)
        response = client.post(
            "/api/chat", json={"sender": token, "message": "我的身份证 360102199001011234 报销进度"}
        )
        health = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["queued"] is True and body["reference"] in body["detail"]
    assert "留言已记录" in body["detail"] and "12393" in body["detail"]
    [queued] = gateway.rows(QueuedMessage)
    assert queued.reference == body["reference"] and queued.status == QueuedMessageStatus.QUEUED
    assert "3601**********1234" in queued.message  # kept for staff, masked like everything at rest
    assert health.status_code == 503
    assert health.json()["components"]["action_server"]["status"] == "down"


def test_when_rasa_is_unreachable_chat_answers_503(make_gateway: Callable[..., Gateway]) -> None:
    gateway = make_gateway(rasa_url="http://127.0.0.1:9")  # discard port: nothing listens
    with gateway.client() as client:
        response = client.post("/api/chat", json={"sender": gateway.session(client), "message": "你好"})
        health = client.get("/healthz").json()
    assert response.status_code == 503 and "暂时无法回答" in response.json()["detail"]
    assert health["status"] == "down" and health["components"]["rasa"]["status"] == "down"


def test_healthz_reports_every_component(make_gateway: Callable[..., Gateway]) -> None:
    gateway = make_gateway()
    with gateway.client() as client:
        response = client.get("/healthz")
    components = response.json()["components"]
    assert response.status_code == 200
    assert set(components) == {"rasa", "action_server", "database", "index"}
    assert components["rasa"]["status"] == components["action_server"]["status"] == "up"
    assert components["database"]["status"] == "up"
    assert components["index"]["status"] == "down"  # this test has no index: degraded, chat still works
    assert response.json()["status"] == "degraded"


def test_feedback_is_stored_server_side(make_gateway: Callable[..., Gateway]) -> None:
    gateway = make_gateway()
    with gateway.client() as client:
        token = gateway.session(client)
        response = client.post(
            "/api/feedback",
            json={
                "sender": token,
                "rating": "down",
                "answer": "门诊报销比例为50%",
                "question": "门诊能报多少",
            },
        )
        bad = client.post("/api/feedback", json={"sender": token, "rating": "meh", "answer": "x"})
    assert response.status_code == 201
    [stored] = gateway.rows(Feedback)
    assert stored.rating == "down" and stored.sender == stored_sender(token.rsplit(".", 1)[0])
    assert bad.status_code == 422 and "rating" in bad.json()["detail"]


def test_agent_messages_need_the_session_and_take_it_from_a_header(
    make_gateway: Callable[..., Gateway],
) -> None:
    from casework.db import upgrade

    gateway = make_gateway()
    upgrade(gateway.settings.database_url)
    with gateway.client() as client:
        token = gateway.session(client)
        client.cookies.clear()
        anonymous = client.get("/api/messages")
        own = client.get("/api/messages", headers={"X-Hotline-Sender": token})
    assert anonymous.status_code == 401
    assert own.status_code == 200 and own.json() == {"messages": [], "next_since": None}


def test_the_page_is_served_with_headers_that_protect_the_session(
    make_gateway: Callable[..., Gateway],
) -> None:
    gateway = make_gateway()
    with gateway.client() as client:
        page = client.get("/")
        script = client.get("/static/chat.js")
    assert page.status_code == 200 and "12393 医保服务" in page.text
    assert script.status_code == 200
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "no-referrer"
