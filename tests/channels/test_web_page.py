"""The web chat page in headless Chromium against the real gateway (a canned Rasa behind it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from hotline.settings import PROJECT_ROOT
from tests.channels.conftest import Gateway
from tests.channels.fakes import FakeRasa

ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.browser


def cited_answer(request: dict[str, Any]) -> list[dict[str, Any]]:
    if request["message"] in ("转人工", "/request_human"):
        return [
            {
                "recipient_id": request["sender"],
                "text": "已为您登记工单 12393-20261123-0001，工作人员将在 3 个工作日内答复。",
            }
        ]
    return [
        {
            "recipient_id": request["sender"],
            "text": "跨省异地长期居住人员可通过国家医保服务平台 App 或参保地经办机构办理备案。",
            "buttons": [
                {"title": "还有别的问题", "payload": "/affirm"},
                {"title": "转人工", "payload": "/request_human"},
            ],
        },
        # As the real Rasa REST channel sends it: the answer's `custom` payload is a message of its own.
        {
            "recipient_id": request["sender"],
            "custom": {
                "abstain": False,
                "citations": [
                    {
                        "chunk_id": "nanchang-12",
                        "doc_title": "南昌市基本医疗保险异地就医管理办法",
                        "section": "第二章 备案",
                        "region": "江西省南昌市",
                        "text": "参保人员异地长期居住的，可以通过线上或线下方式办理备案手续。",
                        "score": 0.83,
                    }
                ],
            },
        },
    ]


@pytest.fixture
def page(browser: Any) -> Page:
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    yield context.new_page()
    context.close()


def test_an_answer_shows_its_source_quick_replies_and_feedback(
    make_gateway: Callable[..., Gateway], page: Page
) -> None:
    gateway = make_gateway(FakeRasa(replies=cited_answer))
    page.goto(gateway.url)
    page.get_by_test_id("input").fill("异地就医怎么备案")
    page.get_by_test_id("send").click()
    answer = page.locator(".msg.bot").filter(has_text="国家医保服务平台")
    expect(answer).to_be_visible()
    citation = answer.locator(".citation summary")
    expect(citation).to_have_text("《南昌市基本医疗保险异地就医管理办法》 · 第二章 备案 · 江西省南昌市")
    expect(answer.locator("blockquote")).not_to_be_visible()
    citation.click()
    expect(answer.locator("blockquote")).to_contain_text("线上或线下方式办理备案")

    answer.get_by_role("button", name="没帮助").click()
    expect(answer.locator(".feedback")).to_contain_text("感谢您的反馈")
    from casework.models import Feedback

    [stored] = gateway.rows(Feedback)
    assert stored.rating == "down" and stored.question == "异地就医怎么备案"

    answer.get_by_role("button", name="转人工").click()
    expect(page.locator(".msg.bot").filter(has_text="12393-20261123-0001")).to_be_visible()
    assert gateway.rasa.received[-1]["message"] == "/request_human"  # the button's payload, not its title
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "webchat-fake-answer.png"))


def test_elder_mode_enlarges_text_and_is_remembered(make_gateway: Callable[..., Gateway], page: Page) -> None:
    gateway = make_gateway()
    page.goto(gateway.url)
    normal = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    page.get_by_test_id("elder-toggle").click()
    expect(page.get_by_test_id("elder-toggle")).to_have_attribute("aria-pressed", "true")
    elder = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert elder >= normal * 1.3
    page.reload()
    expect(page.locator("html")).to_have_class("elder")
    no_horizontal_scroll = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert no_horizontal_scroll  # still readable at phone width


def test_when_the_bot_is_down_the_page_says_the_message_was_kept(
    make_gateway: Callable[..., Gateway], page: Page
) -> None:
    gateway = make_gateway(FakeRasa(actions_up=False))
    page.goto(gateway.url)
    page.get_by_test_id("input").fill("报销进度怎么查")
    page.get_by_test_id("input").press("Enter")
    expect(page.locator(".msg.system")).to_contain_text("留言已记录")


def test_an_agent_reply_to_the_ticket_appears_in_the_same_chat(
    make_gateway: Callable[..., Gateway], page: Page
) -> None:
    from casework.db import session_scope, upgrade
    from casework.models import Ticket, TicketMessage
    from casework.senders import stored_sender

    gateway = make_gateway()
    upgrade(gateway.settings.database_url)
    page.goto(gateway.url)
    page.get_by_test_id("input").fill("你好")
    page.get_by_test_id("send").click()
    expect(page.locator(".msg.bot").filter(has_text="您问的是")).to_be_visible()
    # A short reply is not an answer worth rating: no 👍/👎 under it.
    expect(page.locator(".msg.bot").filter(has_text="您问的是").locator(".feedback")).to_have_count(0)
    sender_id = stored_sender(gateway.rasa.received[0]["sender"])  # as casework keeps it: a keyed hash
    with session_scope(gateway.settings.database_url) as session:
        ticket = Ticket(
            number="12393-20261123-0042",
            category=_first_category(),
            status=_first_status(),
            channel="web",
            sender_id=sender_id,
            transcript="…",
            due_at=datetime.now(UTC) + timedelta(days=3),
        )
        ticket.messages.append(
            TicketMessage(
                channel="web", sender_id=sender_id, author="agent:wang", text="您好，您的异地备案已办理完成。"
            )
        )
        session.add(ticket)
    page.evaluate("pollAgentReplies()")  # the page polls every few seconds; call it now to keep the test fast
    agent = page.locator(".msg.agent")
    expect(agent).to_contain_text("您的异地备案已办理完成")
    expect(agent).to_contain_text("工单 12393-20261123-0042")
    page.reload()
    page.evaluate("pollAgentReplies()")
    page.wait_for_timeout(300)
    expect(page.locator(".msg.agent")).to_have_count(0)  # shown once: the cursor moved past it


def _first_category() -> Any:
    from casework.enums import TicketCategory

    return next(iter(TicketCategory))


def _first_status() -> Any:
    from casework.enums import TicketStatus

    return next(iter(TicketStatus))


def related_passages(request: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "recipient_id": request["sender"],
            "text": "抱歉，政策文件里没有找到对这个问题的确切规定。以下条文可能相关，仅供参考，不作为答复：",
            "buttons": [{"title": "转人工", "payload": "/request_human"}],
        },
        {
            "recipient_id": request["sender"],
            "custom": {
                "band": "related",
                "abstain": True,
                "citations": [{"chunk_id": "jiangsu-3", "doc_title": "关于优化医保领域便民服务的实施意见",
                               "section": "（三）提升医保综合服务水平", "region": "江苏省",
                               "text": "引导参保人员自主选择使用医保电子凭证、社会保障卡等就医购药。",
                               "lead": "引导参保人员自主选择使用医保电子凭证、社会保障卡等就医购药。", "score": 0.41}],
            },
        },
    ]


def test_possibly_related_passages_are_labelled_as_such_not_as_the_answer(
    make_gateway: Callable[..., Gateway], page: Page
) -> None:
    gateway = make_gateway(FakeRasa(replies=related_passages))
    page.goto(gateway.url)
    page.get_by_test_id("input").fill("医保卡丢了怎么挂失")
    page.get_by_test_id("send").click()
    box = page.get_by_test_id("citations")
    expect(box).to_be_visible()
    expect(box).to_have_attribute("data-band", "related")
    expect(box).to_contain_text("可能相关的条文（仅供参考，不是答复）")
    expect(box).not_to_contain_text("依据")
