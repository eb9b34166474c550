"""Messages kept while the bot was down are answered once it is back: the web page gets the answer at its next poll,
a WeChat resident by one customer-service message; WeChat's retries of the same message change nothing."""

from __future__ import annotations

import time
from collections.abc import Callable

from typer.testing import CliRunner

from casework.enums import QueuedMessageStatus
from casework.models import QueuedMessage
from channels.sessions import SENDER_HEADER
from tests.channels.conftest import Gateway
from tests.channels.fakes import FakeRasa
from tests.channels.test_wechat import OPENID, post_plain, reply_text, text_xml


def _wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_a_web_message_kept_while_the_bot_was_down_is_answered_at_the_next_poll(
    make_gateway: Callable[..., Gateway],
) -> None:
    gateway = make_gateway(FakeRasa(actions_up=False), replay_interval_seconds=0.3)
    with gateway.client() as client:
        token = gateway.session(client)
        kept = client.post("/api/chat", json={"sender": token, "message": "门诊能报销多少"})
        reference = kept.json()["reference"]
        assert kept.status_code == 503
        gateway.rasa.actions_up = True
        assert _wait_for(lambda: any(r.status == QueuedMessageStatus.ANSWERED for r in gateway.rows(QueuedMessage)))
        polled = client.get("/api/messages", headers={SENDER_HEADER: token}).json()
        again = client.get("/api/messages", headers={SENDER_HEADER: token}).json()
    [answer] = polled["messages"]
    assert answer["kind"] == "留言答复" and answer["reference"] == reference
    assert reference in answer["text"] and "您问的是：门诊能报销多少" in answer["text"]
    assert again["messages"] == []  # given once
    [replayed] = gateway.rasa.received
    assert replayed["message"] == "门诊能报销多少" and replayed["metadata"]["replayed"] == reference
    [row] = gateway.rows(QueuedMessage)
    assert row.status == QueuedMessageStatus.DELIVERED and row.reply_to is None


def test_a_wechat_message_kept_while_the_bot_was_down_is_answered_once_by_the_customer_service_api(
    make_gateway: Callable[..., Gateway],
) -> None:
    gateway = make_gateway(FakeRasa(actions_up=False), replay_interval_seconds=0.3)
    xml = text_xml("异地就医怎么备案", msg_id=777)
    with gateway.client() as client:
        started = time.monotonic()
        first = post_plain(client, xml)
        took = time.monotonic() - started
        retries = [post_plain(client, xml) for _ in range(2)]  # WeChat retries the same MsgId
    assert took < 5.0 and "留言已记录" in reply_text(first)
    assert [reply_text(r) for r in retries] == [reply_text(first)] * 2
    [queued] = gateway.rows(QueuedMessage)
    assert queued.reference in reply_text(first)

    gateway.rasa.actions_up = True
    [sent] = gateway.wechat_api.wait_for(1)
    time.sleep(1.0)  # further replay rounds send nothing more
    assert len(gateway.wechat_api.sent) == 1
    assert sent["touser"] == OPENID
    assert queued.reference in sent["text"]["content"]
    assert "您问的是：异地就医怎么备案" in sent["text"]["content"]
    assert len(gateway.rasa.received) == 1  # replayed once, whatever the retries
    [row] = gateway.rows(QueuedMessage)
    assert row.status == QueuedMessageStatus.DELIVERED


def test_staff_can_list_and_replay_the_queue_by_hand(make_gateway: Callable[..., Gateway]) -> None:
    from hotline.cli import app
    from hotline.settings import get_settings

    gateway = make_gateway(FakeRasa(actions_up=False), replay_interval_seconds=0)  # no loop: by hand only
    with gateway.client() as client:
        token = gateway.session(client)
        reference = client.post("/api/chat", json={"sender": token, "message": "我的身份证 360102198503129014"}
                                ).json()["reference"]
    env = {"DATABASE_URL": gateway.settings.database_url, "RASA_URL": gateway.rasa.url,
           "ACTION_SERVER_URL": f"{gateway.rasa.url}/webhook", "SPOOL_DIR": str(gateway.settings.spool_dir)}
    runner = CliRunner()
    get_settings.cache_clear()
    try:
        listed = runner.invoke(app, ["queue", "list"], env=env)
        down = runner.invoke(app, ["queue", "replay"], env=env)
        gateway.rasa.actions_up = True
        replayed = runner.invoke(app, ["queue", "replay"], env=env)
    finally:
        get_settings.cache_clear()
    assert reference in listed.output and "3601**********9014" in listed.output
    assert "360102198503129014" not in listed.output
    assert down.exit_code == 1 and "仍不可用" in down.output
    assert replayed.exit_code == 0 and "已答复 1 条" in replayed.output
