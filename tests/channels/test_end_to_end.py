"""Through the real stack: gateway → Rasa server → action server (knowledge base, demo database).

Uses the session fixtures of tests/conftest.py (`gateway_stack`), which start the same processes as
`hotline run` on free ports with a freshly seeded database.
"""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from casework.db import session_scope
from casework.models import Ticket
from hotline.settings import PROJECT_ROOT

ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
DEMO_RESIDENT = {"name": "张演示", "id_number": "360102198503129014", "phone_last4": "0001"}
POLICY_QUESTION = "异地就医备案能在哪里办？"

pytestmark = [pytest.mark.services, pytest.mark.slow]


def _chat(client: httpx.Client, base: str, token: str, message: str) -> list[dict[str, Any]]:
    response = client.post(f"{base}/api/chat", json={"sender": token, "message": message}, timeout=90)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_policy_question_through_the_gateway_comes_back_with_citations(gateway_stack: Any) -> None:
    base = gateway_stack.gateway_url
    with httpx.Client() as client:
        token = client.post(f"{base}/api/session").json()["sender"]
        replies = _chat(client, base, token, POLICY_QUESTION)
    cited = [m for m in replies if (m.get("custom") or {}).get("citations")]
    assert cited, replies
    citation = cited[0]["custom"]["citations"][0]
    assert {"chunk_id", "doc_title", "section", "region", "text", "score"} <= set(citation)
    assert cited[0]["custom"]["abstain"] is False
    assert all(m["recipient_id"] == token for m in replies)


@pytest.fixture
def page(browser: Any) -> Page:
    context = browser.new_context(
        viewport={"width": 414, "height": 896}, locale="zh-CN", device_scale_factor=2
    )
    yield context.new_page()
    context.close()


def _ask(page: Page, text: str) -> None:
    before = page.locator(".msg.bot:not(.typing)").count()
    page.get_by_test_id("input").fill(text)
    page.get_by_test_id("send").click()
    expect(page.locator(".typing")).to_have_count(0, timeout=90_000)
    expect(page.locator(".msg.bot:not(.typing)")).not_to_have_count(before)


def test_web_chat_end_to_end(gateway_stack: Any, page: Page) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.goto(gateway_stack.gateway_url)

    # A policy question: the answer cites document · section · region, with the quote one tap away.
    _ask(page, POLICY_QUESTION)
    answer = page.locator(".msg.bot").filter(has=page.locator(".citation")).last
    expect(answer).to_be_visible()
    answer.locator(".citation summary").first.click()
    expect(answer.locator("blockquote").first).not_to_be_empty()
    page.screenshot(path=str(ARTIFACTS / "webchat-policy-answer.png"))

    # Identity verification with a demo resident, then a balance with personal data masked.
    _ask(page, "查询我的个人账户余额")
    _ask(page, DEMO_RESIDENT["name"])
    _ask(page, DEMO_RESIDENT["id_number"])
    _ask(page, DEMO_RESIDENT["phone_last4"])
    balance = page.locator(".msg.bot").last
    expect(balance).to_contain_text("余额")
    expect(balance).to_contain_text(re.compile(r"\d+(\.\d+)?\s*元"))
    # Nowhere on the page, not even in the resident's own bubble, is the full ID number shown.
    assert DEMO_RESIDENT["id_number"] not in page.locator("#messages").inner_text()
    expect(page.locator(".msg.user").filter(has_text="3601**********9014")).to_have_count(1)
    page.screenshot(path=str(ARTIFACTS / "webchat-balance.png"))

    # 转人工: a ticket number the resident can quote.
    page.get_by_test_id("human").click()
    expect(page.locator(".msg.bot").last).to_contain_text(re.compile(r"12393-\d{8}-\d{4}"), timeout=90_000)
    page.screenshot(path=str(ARTIFACTS / "webchat-ticket.png"))
    number = re.search(r"12393-\d{8}-\d{4}", page.locator(".msg.bot").last.inner_text()).group(0)
    with session_scope(gateway_stack.database_url) as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
    assert ticket.channel == "web"  # the gateway's channel, not Rasa's "rest" input

    # 长辈模式: larger, high-contrast text, remembered across visits.
    page.get_by_test_id("elder-toggle").click()
    expect(page.locator("html")).to_have_class("elder")
    page.screenshot(path=str(ARTIFACTS / "webchat-elder.png"))
    page.reload()
    expect(page.locator("html")).to_have_class("elder")


def test_a_cited_answer_on_a_wide_screen(gateway_stack: Any, browser: Any) -> None:
    """docs/webchat.png, the README's picture, is a copy of the screenshot this test saves."""
    context = browser.new_context(viewport={"width": 1000, "height": 1150}, locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(gateway_stack.gateway_url)
        _ask(page, "门诊慢特病怎么申请？")
        answer = page.locator(".msg.bot").filter(has=page.locator(".citation")).last
        expect(answer).to_be_visible()
        answer.locator(".citation summary").first.click()
        expect(answer.locator(".feedback")).to_have_count(1)
        page.locator(".msg.user").last.evaluate("e => window.scrollTo(0, e.offsetTop - 80)")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "webchat-wide.png"))
    finally:
        context.close()


def test_a_wechat_greeting_through_the_real_bot_gets_a_passive_reply(gateway_stack: Any) -> None:
    from wechatpy import parse_message

    from hotline.settings import get_settings
    from tests.channels.test_wechat import ACCOUNT, OPENID, signed_params, text_xml

    token = get_settings().wechat_token.get_secret_value()  # the gateway process runs on the same settings
    response = httpx.post(
        f"{gateway_stack.gateway_url}/wechat",
        params=signed_params(token=token),
        content=text_xml("你好", msg_id=int(time.time() * 1000)).encode(),
        timeout=30,
    )
    assert response.status_code == 200 and response.text != "success", response.text
    reply = parse_message(response.text)
    assert reply.target == OPENID and reply.source == ACCOUNT
    assert "12393" in reply.content
