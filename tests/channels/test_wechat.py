"""The WeChat official account callback with real WeChat XML, signatures and wechatpy's AES crypto."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

import httpx
import pytest
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto

from channels.wechat_text import MAX_TEXT_BYTES, split_for_wechat
from tests.channels.conftest import WECHAT_AES_KEY, WECHAT_APP_ID, WECHAT_TOKEN, Gateway
from tests.channels.fakes import FakeRasa

OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
ACCOUNT = "gh_12393yibao"


def text_xml(content: str, msg_id: int | str | None = 1234567890123456, create_time: int | str | None = None,
             openid: str = OPENID) -> str:
    msg_id_field = "" if msg_id is None else f"<MsgId>{msg_id}</MsgId>"
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{create_time or int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content>{msg_id_field}</xml>"
    )


def event_xml(event: str, create_time: int | str, openid: str = OPENID) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[{event}]]></Event></xml>"
    )


def image_xml(msg_id: int) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[image]]></MsgType>"
        f"<PicUrl><![CDATA[http://mmbiz.qpic.cn/x.jpg]]></PicUrl><MediaId><![CDATA[media_id]]></MediaId>"
        f"<MsgId>{msg_id}</MsgId></xml>"
    )


def signed_params(timestamp: int | None = None, token: str = WECHAT_TOKEN) -> dict[str, str]:
    stamp, nonce = str(timestamp or int(time.time())), "1405693410"
    signature = hashlib.sha1("".join(sorted([token, stamp, nonce])).encode()).hexdigest()
    return {"signature": signature, "timestamp": stamp, "nonce": nonce}


def post_plain(client: httpx.Client, xml: str, **params: str) -> httpx.Response:
    return client.post("/wechat", params={**signed_params(), **params}, content=xml.encode())


def reply_text(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return parse_message(response.text).content


def test_server_verification_echoes_echostr_only_for_a_valid_signature(
    make_gateway: Callable[..., Gateway],
) -> None:
    gateway = make_gateway()
    with gateway.client() as client:
        good = client.get("/wechat", params={**signed_params(), "echostr": "5837397520551912962"})
        forged = client.get("/wechat", params={**signed_params(token="guessed"), "echostr": "1"})
    assert good.status_code == 200 and good.text == "5837397520551912962"
    assert forged.status_code == 403


def test_plaintext_message_gets_a_passive_reply_from_the_bot(make_gateway: Callable[..., Gateway]) -> None:
    gateway = make_gateway()
    with gateway.client() as client:
        response = post_plain(client, text_xml("异地就医怎么备案"))
    reply = parse_message(response.text)
    assert reply_text(response) == "您问的是：异地就医怎么备案"
    assert reply.source == ACCOUNT and reply.target == OPENID  # wechatpy swaps them for the reply
    [forwarded] = gateway.rasa.received
    assert forwarded["sender"] == f"wechat:{OPENID}" and forwarded["metadata"]["channel"] == "wechat"


def test_safe_mode_decrypts_the_message_and_encrypts_the_reply(make_gateway: Callable[..., Gateway]) -> None:
    gateway = make_gateway()
    crypto = WeChatCrypto(WECHAT_TOKEN, WECHAT_AES_KEY, WECHAT_APP_ID)
    params = signed_params()
    encrypted = crypto.encrypt_message(text_xml("个人账户余额怎么查"), params["nonce"], params["timestamp"])
    envelope = parse_envelope(encrypted)
    with gateway.client() as client:
        response = client.post(
            "/wechat",
            params={**params, "encrypt_type": "aes", "msg_signature": envelope["MsgSignature"]},
            content=encrypted.encode(),
        )
        tampered = client.post(
            "/wechat",
            params={**params, "encrypt_type": "aes", "msg_signature": "0" * 40},
            content=encrypted.encode(),
        )
    assert response.status_code == 200
    assert "<Encrypt>" in response.text and "个人账户" not in response.text
    reply_envelope = parse_envelope(response.text)
    decrypted = crypto.decrypt_message(
        response.text, reply_envelope["MsgSignature"], reply_envelope["TimeStamp"], reply_envelope["Nonce"]
    )
    assert parse_message(decrypted).content == "您问的是：个人账户余额怎么查"
    assert tampered.status_code == 403
    assert len(gateway.rasa.received) == 1


def parse_envelope(xml: str) -> dict[str, str]:
    import xmltodict

    return dict(xmltodict.parse(xml)["xml"])


def test_wrong_signature_is_refused_with_403(make_gateway: Callable[..., Gateway]) -> None:
    gateway = make_gateway()
    with gateway.client() as client:
        response = client.post(
            "/wechat", params=signed_params(token="attacker"), content=text_xml("hi").encode()
        )
    assert response.status_code == 403
    assert gateway.rasa.received == []


def test_a_replayed_request_with_a_stale_timestamp_is_refused(make_gateway: Callable[..., Gateway]) -> None:
    gateway = make_gateway()
    with gateway.client() as client:
        response = client.post(
            "/wechat",
            params=signed_params(timestamp=int(time.time()) - 6 * 60),
            content=text_xml("hi").encode(),
        )
    assert response.status_code == 403 and "过期" in response.json()["detail"]
    assert gateway.rasa.received == []


def test_a_retried_message_is_answered_once(make_gateway: Callable[..., Gateway]) -> None:
    gateway = make_gateway()
    with gateway.client() as client:
        first = post_plain(client, text_xml("门诊报销比例", msg_id=42))
        retry = post_plain(client, text_xml("门诊报销比例", msg_id=42))
        other = post_plain(client, text_xml("门诊报销比例", msg_id=43))
    assert reply_text(first) == reply_text(retry)  # WeChat retries only when it missed the first reply
    assert reply_text(other)
    assert len(gateway.rasa.received) == 2  # MsgId 42 reached the bot once


def test_a_slow_answer_is_acknowledged_and_delivered_by_the_customer_service_api(
    make_gateway: Callable[..., Gateway],
) -> None:
    gateway = make_gateway(FakeRasa(delay=1.5), wechat_reply_deadline=0.5)
    with gateway.client() as client:
        started = time.monotonic()
        first = post_plain(client, text_xml("职工医保怎么转移", msg_id=77))
        elapsed = time.monotonic() - started
        retry = post_plain(client, text_xml("职工医保怎么转移", msg_id=77))
    assert first.text == "success" and elapsed < 1.2
    assert retry.text == "success"
    [sent] = gateway.wechat_api.wait_for(1)
    assert sent == {"touser": OPENID, "msgtype": "text", "text": {"content": "您问的是：职工医保怎么转移"}}
    time.sleep(0.3)
    assert len(gateway.wechat_api.sent) == 1 and len(gateway.rasa.received) == 1


def test_an_expired_access_token_is_refreshed_once(make_gateway: Callable[..., Gateway]) -> None:
    gateway = make_gateway(FakeRasa(delay=0.6), wechat_reply_deadline=0.1)
    with gateway.client() as client:
        post_plain(client, text_xml("第一问", msg_id=1))
        gateway.wechat_api.wait_for(1)
        gateway.wechat_api.token_requests += 1  # WeChat invalidates the cached token (e.g. fetched elsewhere)
        post_plain(client, text_xml("第二问", msg_id=2))
        sent = gateway.wechat_api.wait_for(2)
    assert [m["text"]["content"] for m in sent] == ["您问的是：第一问", "您问的是：第二问"]


def test_a_closed_reply_window_is_recorded_as_undeliverable(make_gateway: Callable[..., Gateway]) -> None:
    gateway = make_gateway(FakeRasa(delay=0.6), wechat_reply_deadline=0.1)
    gateway.wechat_api.send_errcodes = [45015]
    with gateway.client() as client:
        assert post_plain(client, text_xml("报销进度", msg_id=9)).text == "success"
    from casework.models import UndeliverableAnswer
    from casework.senders import stored_sender

    [record] = gateway.rows(UndeliverableAnswer, wait=5)
    assert record.errcode == 45015 and record.sender == stored_sender(f"wechat:{OPENID}")
    assert record.text == "您问的是：报销进度"


def test_a_long_answer_is_split_within_wechat_limits_and_sent_in_order(
    make_gateway: Callable[..., Gateway],
) -> None:
    paragraphs = [
        f"第{i}条：" + "参保人员在定点医疗机构发生的政策范围内住院费用按规定报销。" * 8 for i in range(1, 9)
    ]
    gateway = make_gateway(
        FakeRasa(replies=lambda r: [{"recipient_id": r["sender"], "text": "\n".join(paragraphs)}])
    )
    with gateway.client() as client:
        response = post_plain(client, text_xml("住院报销政策", msg_id=5))
    assert response.text == "success"
    # Wait for every piece: the messages go out one by one, and stopping at the third raced the fourth.
    sent = gateway.wechat_api.wait_for(len(split_for_wechat("\n".join(paragraphs))))
    pieces = [m["text"]["content"] for m in sent]
    assert len(pieces) >= 3
    assert all(len(p.encode()) <= MAX_TEXT_BYTES for p in pieces)
    assert "\n".join(pieces) == "\n".join(paragraphs)


def test_reply_text_containing_cdata_end_cannot_break_the_xml(make_gateway: Callable[..., Gateway]) -> None:
    tricky = "见 a]]><Injected>x</Injected> 条"
    gateway = make_gateway(FakeRasa(replies=lambda r: [{"recipient_id": r["sender"], "text": tricky}]))
    with gateway.client() as client:
        response = post_plain(client, text_xml("test", msg_id=6))
    assert reply_text(response) == tricky


def test_subscribing_gets_a_welcome_saying_what_the_assistant_does(
    make_gateway: Callable[..., Gateway],
) -> None:
    gateway = make_gateway()
    now = int(time.time())
    with gateway.client() as client:
        welcome = post_plain(client, event_xml("subscribe", now))
        retried = post_plain(client, event_xml("subscribe", now))
        unsubscribe = post_plain(client, event_xml("unsubscribe", now + 1))
    text = reply_text(welcome)
    assert "欢迎关注" in text and "政策" in text and "转人工" in text
    assert reply_text(retried) == text
    assert unsubscribe.text == "success"
    assert gateway.rasa.received == []


def test_non_text_messages_get_a_polite_explanation(make_gateway: Callable[..., Gateway]) -> None:
    gateway = make_gateway()
    with gateway.client() as client:
        response = post_plain(client, image_xml(msg_id=8))
    assert "只能处理文字消息" in reply_text(response)
    assert gateway.rasa.received == []


@pytest.mark.parametrize("body", [b"<xml><MsgType>", b'<!DOCTYPE x [<!ENTITY a "b">]><xml/>'])
def test_malformed_xml_is_a_clear_400(make_gateway: Callable[..., Gateway], body: bytes) -> None:
    gateway = make_gateway()
    with gateway.client() as client:
        response = client.post("/wechat", params=signed_params(), content=body)
    assert response.status_code == 400


def test_an_agent_reply_to_a_wechat_ticket_is_sent_once_by_the_customer_service_api(
    make_gateway: Callable[..., Gateway],
) -> None:
    import asyncio
    from concurrent.futures import ThreadPoolExecutor
    from datetime import UTC, datetime, timedelta

    from casework.db import session_scope, upgrade
    from casework.enums import TicketCategory, TicketStatus
    from casework.models import Ticket, TicketMessage
    from channels.journal import Journal
    from channels.wechat_api import WeChatApi
    from channels.wechat_outbox import deliver_agent_replies

    gateway = make_gateway()
    settings = gateway.settings
    upgrade(settings.database_url)
    sender = f"wechat:{OPENID}"
    with session_scope(settings.database_url) as session:
        ticket = Ticket(
            number="12393-20261123-0099",
            category=next(iter(TicketCategory)),
            status=next(iter(TicketStatus)),
            channel="rest",
            sender_id=sender,
            transcript="…",
            due_at=datetime.now(UTC) + timedelta(days=3),
        )
        ticket.messages.append(
            TicketMessage(
                channel="rest",
                sender_id=sender,
                author="agent:li",
                text="您好，您反映的报销问题已核实，款项将于5个工作日内到账。",
            )
        )
        session.add(ticket)

    async def two_rounds() -> list[int]:
        api = WeChatApi(settings)
        journal = Journal(settings)
        try:
            return [await deliver_agent_replies(settings, api, journal) for _ in range(2)]
        finally:
            await api.aclose()

    # A thread of its own: Playwright's sync API may hold this thread's event loop in the same session.
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(asyncio.run, two_rounds()).result() == [1, 0]
    [sent] = gateway.wechat_api.sent
    assert sent["touser"] == OPENID
    assert sent["text"]["content"].startswith("【人工客服回复 · 工单 12393-20261123-0099】")
