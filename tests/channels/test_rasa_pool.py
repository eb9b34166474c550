"""Several Rasa servers behind the gateway: each sender sticks to one, moves to the next while it is down, and one
sender's turns never run at once, even across gateway workers; limits shared through Redis and degraded without it;
metrics and request ids. Real gateways (uvicorn in threads), real Redis, fake Rasa servers."""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from channels.rasa_pool import DOWN_SECONDS, home_index
from tests.channels.conftest import Gateway
from tests.channels.fakes import FakeRasa

REDIS = "redis://127.0.0.1:6379/0"


def _pool(*rasas: FakeRasa) -> dict[str, str]:
    for rasa in rasas:
        if rasa.server is None:
            rasa.start()
    return {"rasa_urls": ",".join(r.url for r in rasas),
            "action_server_urls": ",".join(f"{r.url}/webhook" for r in rasas)}


def _shared(**overrides: Any) -> dict[str, Any]:
    """Settings of gateway workers sharing one Redis namespace (unique per test)."""
    return {"redis_url": REDIS, "redis_key_prefix": f"hotline:test-{uuid.uuid4().hex[:8]}:", **overrides}


def _senders(client: httpx.Client, n: int) -> list[str]:
    return [client.post("/api/session").json()["sender"] for _ in range(n)]


def test_each_sender_sticks_to_its_own_rasa_server(make_gateway: Callable[..., Gateway]) -> None:
    first, second = FakeRasa(), FakeRasa()
    gateway = make_gateway(first, **_pool(first, second))
    second.secret = first.secret
    with gateway.client() as client:
        tokens = _senders(client, 12)
        for token in tokens * 2:
            assert client.post("/api/chat", json={"sender": token, "message": "你好"}).status_code == 200
    served_by = {}
    for index, rasa in enumerate((first, second)):
        for request in rasa.received:
            served_by.setdefault(request["sender"], set()).add(index)
    assert all(len(servers) == 1 for servers in served_by.values())  # never both
    assert {index for servers in served_by.values() for index in servers} == {0, 1}  # both get residents
    for sender, servers in served_by.items():
        assert servers == {home_index(sender, 2)}  # the stable hash decides, in every worker and every run


def test_a_sender_moves_on_while_its_server_is_down_and_comes_back_after(
    make_gateway: Callable[..., Gateway],
) -> None:
    first, second = FakeRasa(), FakeRasa()
    gateway = make_gateway(first, **_pool(first, second))
    second.secret = first.secret
    with gateway.client() as client:
        tokens = _senders(client, 20)
        token = next(t for t in tokens if home_index(t.rsplit(".", 1)[0], 2) == 0)
        first.actions_up = False  # its action server is down: the pair cannot answer
        moved = client.post("/api/chat", json={"sender": token, "message": "异地就医怎么备案"})
        first.actions_up = True
        time.sleep(DOWN_SECONDS + 2.5)  # the pool retries a failed pair after DOWN_SECONDS (health cached 2 s)
        back = client.post("/api/chat", json={"sender": token, "message": "那要多久"})
    assert moved.status_code == 200 and back.status_code == 200
    assert [r["message"] for r in second.received] == ["异地就医怎么备案"]
    assert [r["message"] for r in first.received] == ["那要多久"]


def test_one_senders_turns_never_overlap_even_across_gateway_workers(
    make_gateway: Callable[..., Gateway],
) -> None:
    in_flight: dict[str, int] = {}
    most: dict[str, int] = {}
    lock = threading.Lock()

    def slow_reply(request: dict[str, Any]) -> list[dict[str, Any]]:
        sender = request["sender"]
        with lock:
            in_flight[sender] = in_flight.get(sender, 0) + 1
            most[sender] = max(most.get(sender, 0), in_flight[sender])
        time.sleep(0.3)
        with lock:
            in_flight[sender] -= 1
        return [{"recipient_id": sender, "text": "好的"}]

    rasa = FakeRasa(replies=slow_reply)
    shared = _shared()
    workers = [make_gateway(rasa, **shared), make_gateway(rasa, **shared)]
    with workers[0].client() as client:
        alice, bob = _senders(client, 2)

    def send(index: int) -> int:
        gateway, token = workers[index % 2], (alice if index < 6 else bob)
        with gateway.client() as client:
            return client.post("/api/chat", json={"sender": token, "message": f"第{index}句"}).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(send, range(8)))
    assert statuses == [200] * 8
    alice_id, bob_id = alice.rsplit(".", 1)[0], bob.rsplit(".", 1)[0]
    assert most[alice_id] == 1  # six turns through two workers, one after the other
    assert most[bob_id] == 1
    starts = {r["sender"] for r in rasa.received}
    assert starts == {alice_id, bob_id}


def test_rate_limits_are_counted_once_for_all_gateway_workers(make_gateway: Callable[..., Gateway]) -> None:
    rasa = FakeRasa()
    shared = _shared(gateway_rate_per_sender=3)
    workers = [make_gateway(rasa, **shared), make_gateway(rasa, **shared)]
    with workers[0].client() as first, workers[1].client() as second:
        [token] = _senders(first, 1)
        statuses = [c.post("/api/chat", json={"sender": token, "message": "你好"}).status_code
                    for c in (first, second, first, second)]
    assert statuses == [200, 200, 200, 429]


def test_with_redis_down_the_assistant_answers_and_healthz_says_degraded(
    make_gateway: Callable[..., Gateway],
) -> None:
    gateway = make_gateway(redis_url="redis://127.0.0.1:9/0", gateway_rate_per_sender=2)  # nothing listens
    with gateway.client() as client:
        [token] = _senders(client, 1)
        statuses = [client.post("/api/chat", json={"sender": token, "message": "你好"}).status_code
                    for _ in range(3)]
        health = client.get("/healthz")
    assert statuses == [200, 200, 429]  # still limited, by this worker alone
    assert health.status_code == 200  # residents can chat
    body = health.json()
    assert body["status"] == "degraded"
    assert body["components"]["redis"]["status"] == "down"
    assert "降级" in body["components"]["redis"]["detail"]


def _metric(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match and ",".join(sorted(match.group(1).split(","))) == wanted:
            return float(match.group(2))
    return 0.0


def test_metrics_count_turns_refusals_tickets_and_errors(make_gateway: Callable[..., Gateway]) -> None:
    def replies(request: dict[str, Any]) -> list[dict[str, Any]]:
        if request["message"] == "转人工":
            return [{"recipient_id": request["sender"], "text": "已为您登记工单。",
                     "custom": {"ticket": {"number": "12393-20261203-0001", "category": "转人工"}}}]
        return [{"recipient_id": request["sender"], "text": "抱歉，文件中没有找到。",
                 "custom": {"band": "refused", "citations": [], "abstain": True}}]

    gateway = make_gateway(FakeRasa(replies=replies))
    with gateway.client() as client:
        before = client.get("/metrics").text
        [token] = _senders(client, 1)
        for message in ("火星上能报销吗", "转人工"):
            client.post("/api/chat", json={"sender": token, "message": message})
        gateway.rasa.actions_up = False
        time.sleep(2.1)  # the action server's health is cached for 2 s
        down = client.post("/api/chat", json={"sender": token, "message": "还在吗"})
        after = client.get("/metrics")
    assert down.status_code == 503
    assert after.status_code == 200 and after.headers["content-type"].startswith("text/plain")

    def grew(name: str, **labels: str) -> float:
        return _metric(after.text, name, **labels) - _metric(before, name, **labels)

    assert grew("hotline_turns_total", channel="web", outcome="answered") == 2
    assert grew("hotline_turns_total", channel="web", outcome="unavailable") == 1
    assert grew("hotline_policy_replies_total", channel="web", band="refused") == 1
    assert grew("hotline_tickets_opened_total", channel="web", category="转人工") == 1
    assert grew("hotline_errors_total", component="action_server") >= 1
    assert grew("hotline_turn_seconds_count", channel="web") == 2


def test_metrics_are_for_operators_only(make_gateway: Callable[..., Gateway]) -> None:
    gateway = make_gateway(metrics_token="operator-token-0123456789")
    with gateway.client() as client:
        refused = client.get("/metrics")
        allowed = client.get("/metrics", headers={"Authorization": "Bearer operator-token-0123456789"})
    assert refused.status_code == 403 and "运维" in refused.json()["detail"]
    assert allowed.status_code == 200 and "hotline_turns_total" in allowed.text


def test_a_request_id_follows_the_message_to_rasa(make_gateway: Callable[..., Gateway]) -> None:
    gateway = make_gateway()
    with gateway.client() as client:
        [token] = _senders(client, 1)
        given = client.post("/api/chat", json={"sender": token, "message": "你好"},
                            headers={"X-Request-ID": "proxy-0123456789abcdef"})
        forged = client.post("/api/chat", json={"sender": token, "message": "你好", "metadata": {
            "request_id": "forged-by-client"}}, headers={"X-Request-ID": "bad id; drop table"})
    assert given.headers["X-Request-ID"] == "proxy-0123456789abcdef"
    assert gateway.rasa.received[0]["metadata"]["request_id"] == "proxy-0123456789abcdef"
    replaced = forged.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", replaced)  # a malformed id is replaced, a client's metadata overridden
    assert gateway.rasa.received[1]["metadata"]["request_id"] == replaced
