"""Odd input at every public endpoint gets a 4xx with a Chinese / English message: never a 500 or a traceback
(issue 9, findings 6 and 8). Schemathesis drives the gateway's OpenAPI schema; hypothesis the text paths and
WeChat's XML. Examples are bounded so the file runs in well under a minute."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casework.db import upgrade
from channels.sessions import COOKIE_NAME, SENDER_HEADER
from tests.channels.conftest import Gateway
from tests.channels.test_wechat import ACCOUNT, OPENID, post_plain, signed_params, text_xml

# Bounded and reproducible (derandomize: no example database, the same examples every run).
BOUNDED = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
_CHINESE = re.compile(r"[\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]{3}")


def assert_refused_clearly(response: httpx.Response | Any) -> None:
    """A 4xx whose JSON `detail` says what is wrong in Chinese and in English, with no traceback."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    detail = response.json()["detail"]
    assert isinstance(detail, str) and _CHINESE.search(detail) and _LATIN.search(detail), detail
    assert "Traceback" not in response.text


def assert_no_server_error(response: httpx.Response | Any) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:300])
    content_type = response.headers.get("content-type", "")  # schemathesis gives a list per header
    if response.status_code >= 400 and "application/json" in str(content_type):
        assert_refused_clearly(response)


# --- the 500s the issue lists ----------------------------------------------------------------------------


@pytest.mark.parametrize("since", ["99999999999999999999999", "²", "-1", "1e3", "٣"])
def test_a_since_cursor_that_is_not_a_small_number_is_refused(
    make_gateway: Callable[..., Gateway], since: str
) -> None:
    gateway = make_gateway()
    with gateway.client() as client:
        token = gateway.session(client)
        response = client.get("/api/messages", params={"since": since}, headers={SENDER_HEADER: token})
    assert_refused_clearly(response)


def test_invalid_utf8_in_a_chat_body_is_refused_in_both_languages(
    make_gateway: Callable[..., Gateway],
) -> None:
    gateway = make_gateway()
    with gateway.client() as client:
        gateway.session(client)
        response = client.post("/api/chat", content=b'{"message": "\xff\xfe\xfa"}',
                               headers={"Content-Type": "application/json"})
    assert_refused_clearly(response)
    assert response.status_code == 400 and "UTF-8" in response.json()["detail"]


def test_a_400_digit_wechat_timestamp_is_refused(make_gateway: Callable[..., Gateway]) -> None:
    gateway = make_gateway()
    huge, nonce = "9" * 400, "1405693410"
    token = gateway.settings.wechat_token.get_secret_value()
    signature = hashlib.sha1("".join(sorted([token, huge, nonce])).encode()).hexdigest()
    params = {"signature": signature, "timestamp": huge, "nonce": nonce}
    with gateway.client() as client:
        response = client.post("/wechat", params=params, content=text_xml("你好").encode())
        verification = client.get("/wechat", params={**params, "echostr": "1"})
    assert_refused_clearly(response)
    assert_refused_clearly(verification)


@pytest.mark.parametrize("xml", [
    text_xml("你好", msg_id="abc"),
    text_xml("你好", msg_id="9" * 400),
    text_xml("你好", create_time="abc"),
    text_xml("你好", create_time="9" * 400),
    f"<xml><ToUserName>{ACCOUNT}</ToUserName><FromUserName>{OPENID}</FromUserName>"
    "<CreateTime>abc</CreateTime><MsgType>event</MsgType><Event>subscribe</Event></xml>",
    "<xml><MsgType>text</MsgType><Content>没有发送方</Content></xml>",
], ids=["MsgId=abc", "MsgId=huge", "CreateTime=abc", "CreateTime=huge", "event CreateTime=abc", "no-sender"])
def test_wechat_fields_that_are_not_what_wechat_sends_are_refused(
    make_gateway: Callable[..., Gateway], xml: str
) -> None:
    gateway = make_gateway()
    with gateway.client() as client:
        response = post_plain(client, xml)
    assert_refused_clearly(response)
    assert gateway.rasa.received == []


# --- hypothesis on the text paths and WeChat's XML ------------------------------------------------------


@pytest.fixture
def gateway(make_gateway: Callable[..., Gateway], tmp_path: Path) -> Iterator[Gateway]:
    # A migrated database (agent replies, sealed ID numbers), and rate limits lifted: the examples must reach
    # the handlers, not the limiter.
    url = f"sqlite:///{tmp_path / 'odd-input.db'}"
    upgrade(url)
    yield make_gateway(database_url=url, gateway_rate_per_sender=100_000, gateway_rate_per_ip=100_000,
                       gateway_sessions_per_ip=100_000)


@BOUNDED
@given(message=st.text(max_size=600),
       metadata=st.none() | st.dictionaries(st.text(max_size=10), st.integers()))
def test_any_chat_text_is_answered_or_refused_clearly(gateway: Gateway, message: str, metadata: Any) -> None:
    with gateway.client() as client:
        token = gateway.session(client)
        response = client.post("/api/chat", json={"sender": token, "message": message, "metadata": metadata})
    assert_no_server_error(response)


@BOUNDED
@given(body=st.binary(max_size=300))
def test_any_bytes_as_a_chat_body_are_refused_clearly(gateway: Gateway, body: bytes) -> None:
    with gateway.client() as client:
        gateway.session(client)
        response = client.post("/api/chat", content=body, headers={"Content-Type": "application/json"})
    assert_no_server_error(response)


_NUMBERISH = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str), st.text(max_size=20), st.just("9" * 400),
    st.none(),
)


@BOUNDED
@given(msg_id=_NUMBERISH, create_time=_NUMBERISH, content=st.text(max_size=200),
       openid=st.sampled_from([OPENID, "", "x" * 200, "o<script>"]))
def test_any_wechat_text_message_fields_are_answered_or_refused_clearly(
    gateway: Gateway, msg_id: str | None, create_time: str | None, content: str, openid: str
) -> None:
    created = f"<CreateTime>{create_time}</CreateTime>" if create_time is not None else ""
    msg = f"<MsgId>{msg_id}</MsgId>" if msg_id is not None else ""
    xml = (f"<xml><ToUserName>{ACCOUNT}</ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
           f"{created}<MsgType>text</MsgType><Content><![CDATA[{content}]]></Content>{msg}</xml>")
    with gateway.client() as client:
        body = xml.encode("utf-8", "surrogatepass")
        response = client.post("/wechat", params=_signed(gateway), content=body)
    assert_no_server_error(response)


@BOUNDED
@given(body=st.binary(max_size=300))
def test_any_bytes_as_a_wechat_body_are_refused_clearly(gateway: Gateway, body: bytes) -> None:
    with gateway.client() as client:
        response = client.post("/wechat", params=_signed(gateway), content=body)
    assert_no_server_error(response)


def _signed(gateway: Gateway) -> dict[str, str]:
    return signed_params(timestamp=int(time.time()), token=gateway.settings.wechat_token.get_secret_value())


# --- schemathesis: every operation of the OpenAPI schema -----------------------------------------------


def _openapi_document() -> dict[str, Any]:
    # The gateway's own schema, as FastAPI serves it at /openapi.json (building the app starts nothing).
    from channels.app import create_app
    from hotline.settings import Settings

    return create_app(Settings()).openapi()


schema = schemathesis.openapi.from_dict(_openapi_document())


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_public_endpoint_refuses_odd_input_clearly(case: Any, gateway: Gateway) -> None:
    with gateway.client() as client:
        token = gateway.session(client)
    # Requests carry a valid session (cookie and header), so the checks behind authentication are reached too.
    session = {"cookies": {COOKIE_NAME: token}, "headers": {SENDER_HEADER: token}}
    response = case.call(base_url=gateway.url, **session)
    assert_no_server_error(response)
