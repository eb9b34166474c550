"""WeChat retries are answered once per sender and message, even across gateway workers (issue 9, #7)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

import httpx
from wechatpy import parse_message

from tests.channels.conftest import Gateway
from tests.channels.fakes import FakeRasa
from tests.channels.test_wechat import event_xml, post_plain, reply_text, text_xml

OTHER_OPENID = "oUpF8uN_another_resident_0001"
REDIS_URL = "redis://127.0.0.1:6379/0"


def _answer_for_sender(request: dict) -> list[dict]:
    return [{"recipient_id": request["sender"], "text": f"给 {request['sender']} 的答复"}]


def _two_workers(
    make_gateway: Callable[..., Gateway], rasa: FakeRasa, deadline: float
) -> tuple[Gateway, Gateway]:
    """Two gateway processes behind one load balancer, sharing one Redis and one bot."""
    shared = {"redis_url": REDIS_URL, "redis_key_prefix": f"hotline-test:{uuid.uuid4().hex}:",
              "wechat_reply_deadline": deadline}
    return make_gateway(rasa, **shared), make_gateway(rasa, **shared)


def test_the_same_msgid_from_two_senders_gets_two_answers(make_gateway: Callable[..., Gateway]) -> None:
    gateway = make_gateway(FakeRasa(replies=_answer_for_sender))
    with gateway.client() as client:
        mine = post_plain(client, text_xml("查一下我的余额", msg_id=1001))
        theirs = post_plain(client, text_xml("查一下我的余额", msg_id=1001, openid=OTHER_OPENID))
    assert reply_text(mine) != reply_text(theirs)
    assert OTHER_OPENID in reply_text(theirs) and OTHER_OPENID not in reply_text(mine)
    assert len(gateway.rasa.received) == 2


def test_messages_without_msgid_are_told_apart_by_sender_and_create_time(
    make_gateway: Callable[..., Gateway],
) -> None:
    gateway = make_gateway(FakeRasa(replies=_answer_for_sender))
    stamp = int(time.time())
    with gateway.client() as client:
        first = post_plain(client, text_xml("你好", msg_id=None, create_time=stamp))
        retry = post_plain(client, text_xml("你好", msg_id=None, create_time=stamp))
        other = post_plain(client, text_xml("你好", msg_id=None, create_time=stamp, openid=OTHER_OPENID))
        later = post_plain(client, text_xml("你好", msg_id=None, create_time=stamp + 1))
    assert reply_text(first) == reply_text(retry) and OTHER_OPENID in reply_text(other)
    assert reply_text(later)
    assert [r["sender"].endswith(OTHER_OPENID) for r in gateway.rasa.received] == [False, True, False]


def test_subscribe_events_of_two_residents_in_the_same_second_are_both_welcomed(
    make_gateway: Callable[..., Gateway],
) -> None:
    gateway = make_gateway()
    stamp = int(time.time())
    with gateway.client() as client:
        first = post_plain(client, event_xml("subscribe", stamp))
        second = post_plain(client, event_xml("subscribe", stamp, openid=OTHER_OPENID))
    assert parse_message(first.text).target != parse_message(second.text).target
    assert "12393" in reply_text(first) and "12393" in reply_text(second)


def test_a_retry_at_another_worker_is_neither_asked_nor_answered_twice(
    make_gateway: Callable[..., Gateway],
) -> None:
    rasa = FakeRasa(delay=1.0, replies=_answer_for_sender)
    worker_a, worker_b = _two_workers(make_gateway, rasa, deadline=2.5)
    xml = text_xml("异地就医怎么备案", msg_id=5550001)
    responses: dict[str, httpx.Response] = {}

    def post(name: str, gateway: Gateway) -> None:
        with gateway.client() as client:
            responses[name] = post_plain(client, xml)

    first = threading.Thread(target=post, args=("a", worker_a))
    first.start()
    time.sleep(0.3)  # WeChat's retry arrives while worker A is still waiting for the bot
    post("b", worker_b)
    first.join()
    assert len(rasa.received) == 1
    assert reply_text(responses["a"]) == reply_text(responses["b"])  # B hands back A's passive reply
    assert worker_a.wechat_api.sent == [] and worker_b.wechat_api.sent == []


def test_a_slow_answer_retried_at_another_worker_goes_out_once_by_the_api(
    make_gateway: Callable[..., Gateway],
) -> None:
    rasa = FakeRasa(delay=1.2, replies=_answer_for_sender)  # longer than the deadline: answered by the API
    worker_a, worker_b = _two_workers(make_gateway, rasa, deadline=0.4)
    xml = text_xml("门诊慢特病怎么申请", msg_id=5550002)
    with worker_a.client() as client_a, worker_b.client() as client_b:
        first = post_plain(client_a, xml)  # the deadline passes: "success", the answer follows by API
        retry = post_plain(client_b, xml)
    assert first.text == "success" and retry.text == "success"
    assert len(worker_a.wechat_api.wait_for(1)) == 1
    time.sleep(1.0)
    assert len(rasa.received) == 1
    assert len(worker_a.wechat_api.sent) + len(worker_b.wechat_api.sent) == 1
