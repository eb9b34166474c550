"""The agent desk on the real stack (gateway → Rasa → action server with the knowledge base, the database that
`hotline db setup` seeds, demo logins included): agent assist, and in headless Chromium the whole loop — a
resident's chat opens a ticket, an agent claims it, inserts a suggested answer, replies; the reply appears in
the resident's chat, the resident rates it 不满意 and the desk shows the 回访 task."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from actions.server import action_server_auth_headers
from casework.desk_demo import DEMO_AGENTS
from hotline.settings import PROJECT_ROOT, get_settings

ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
AGENT = DEMO_AGENTS[0]

pytestmark = [pytest.mark.services, pytest.mark.slow]


def _login(client: httpx.Client, base: str) -> dict[str, str]:
    response = client.post(
        f"{base}/api/desk/login", json={"username": AGENT.username, "password": AGENT.password}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_assist_suggests_answers_from_the_documents_with_intent_and_category(gateway_stack: Any) -> None:
    base = gateway_stack.gateway_url
    with httpx.Client(timeout=120) as client:
        headers = _login(client, base)
        response = client.post(
            f"{base}/api/assist", headers=headers, json={"utterance": "门诊慢特病怎么申请？"}
        )
        assert response.status_code == 200, response.text
        data = response.json()
        mark = client.post(
            f"{base}/api/assist/suggestions/{data['suggestions'][0]['id']}/mark",
            headers=headers,
            json={"mark": "wrong"},
        )
        transcript = client.post(
            f"{base}/api/assist",
            headers=headers,
            json={"transcript": "居民：我要投诉医院乱收费\n助手：已登记\n居民：转人工"},
        )
    assert data["intent"] == "policy_question" and 0 < data["intent_confidence"] <= 1
    assert data["category"] in ("转人工咨询", "无法回答")
    assert 1 <= len(data["suggestions"]) <= 3
    for suggestion in data["suggestions"]:
        quoted = suggestion["sentence"].strip("…")[:12]  # the answering sentence is taken from the passage
        assert quoted and quoted in " ".join(suggestion["passage"].split())
        assert suggestion["source"].startswith("《") and 0 <= suggestion["confidence"] <= 1
    assert mark.status_code == 204
    assert transcript.json()["query"] == "我要投诉医院乱收费" and transcript.json()["category"] == "投诉"


def test_the_action_servers_assist_route_needs_its_secret(gateway_stack: Any) -> None:
    url = gateway_stack.action_server_url.rsplit("/", 1)[0] + "/assist"
    refused = httpx.post(url, json={"question": "异地就医备案"}, timeout=60)
    answered = httpx.post(
        url,
        json={"question": "异地就医备案", "k": 2},
        timeout=60,
        headers=action_server_auth_headers(get_settings()),
    )
    empty = httpx.post(
        url, json={"question": " "}, timeout=60, headers=action_server_auth_headers(get_settings())
    )
    assert refused.status_code == 401
    assert answered.status_code == 200 and len(answered.json()["suggestions"]) == 2
    assert empty.status_code == 422


@pytest.fixture
def resident(browser: Any) -> Page:
    context = browser.new_context(viewport={"width": 414, "height": 860}, locale="zh-CN")
    yield context.new_page()
    context.close()


@pytest.fixture
def agent_page(browser: Any) -> Page:
    context = browser.new_context(viewport={"width": 1440, "height": 960}, locale="zh-CN")
    yield context.new_page()
    context.close()


def _ask(page: Page, text: str) -> None:
    before = page.locator(".msg.bot:not(.typing)").count()
    page.get_by_test_id("input").fill(text)
    page.get_by_test_id("send").click()
    expect(page.locator(".typing")).to_have_count(0, timeout=90_000)
    expect(page.locator(".msg.bot:not(.typing)")).not_to_have_count(before)


@pytest.mark.browser
def test_an_agent_answers_a_chat_ticket_and_a_poor_rating_opens_a_callback(
    gateway_stack: Any, resident: Page, agent_page: Page
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # The resident asks, then asks for a person: the chat opens a ticket.
    resident.goto(gateway_stack.gateway_url)
    _ask(resident, "门诊慢特病怎么申请？")
    resident.get_by_test_id("human").click()
    expect(resident.locator(".msg.bot").last).to_contain_text(
        re.compile(r"12393-\d{8}-\d{4}"), timeout=90_000
    )
    number = re.search(r"12393-\d{8}-\d{4}", resident.locator(".msg.bot").last.inner_text()).group(0)

    # The agent logs in, finds it in the queue, claims it.
    desk = agent_page
    desk.goto(f"{gateway_stack.gateway_url}/desk")
    desk.get_by_test_id("username").fill(AGENT.username)
    desk.get_by_test_id("password").fill(AGENT.password)
    desk.get_by_test_id("login").click()
    expect(desk.get_by_test_id("agent-name")).to_contain_text("王坐席")
    entry = desk.locator(f'#queue li[data-number="{number}"]')
    expect(entry).to_be_visible()
    expect(entry.locator(".sla")).to_have_class(re.compile(r"(^|\s)(正常|临期)(\s|$)"))
    entry.click()
    expect(desk.get_by_test_id("ticket-number")).to_have_text(f"工单 {number}")
    expect(desk.get_by_test_id("transcript")).to_contain_text("门诊慢特病")
    desk.get_by_role("button", name="认领").click()
    expect(desk.get_by_test_id("ticket-status")).to_have_text("办理")

    # Suggested answers beside it; one click inserts one into the reply.
    suggestion = desk.get_by_test_id("suggestion").first
    expect(suggestion).to_be_visible(timeout=60_000)
    expect(desk.get_by_test_id("assist-meta")).to_contain_text("建议工单类别")
    sentence = suggestion.locator(".sentence").inner_text()
    suggestion.get_by_role("button", name="插入回复").click()
    expect(desk.get_by_test_id("reply-text")).to_have_value(re.compile(re.escape(sentence[:20])))
    desk.screenshot(path=str(ARTIFACTS / "desk.png"))
    desk.get_by_test_id("reply-send").click()
    expect(desk.get_by_test_id("reply-text")).to_have_value("")
    desk.get_by_test_id("reply-text").fill("如还有疑问，欢迎再联系我们。")
    desk.get_by_test_id("reply-resolve").click()
    expect(desk.get_by_test_id("ticket-status")).to_have_text("答复")

    # The replies appear in the resident's chat, with the invitation to rate; the resident is not satisfied.
    resident.evaluate("pollAgentReplies()")
    expect(resident.locator(".msg.agent").filter(has_text=sentence[:20])).to_be_visible()
    invitation = resident.locator(".msg.agent").filter(has=resident.get_by_test_id("rating"))
    expect(invitation).to_contain_text(number)
    invitation.get_by_role("textbox").fill("还是不清楚要准备哪些材料")
    invitation.get_by_role("button", name="不满意", exact=True).click()
    expect(resident.locator(".msg.bot").last).to_contain_text("安排回访")
    resident.screenshot(path=str(ARTIFACTS / "webchat-rated.png"))

    # The desk shows the 回访 task; the ticket cannot be closed before it is done.
    desk.locator(f'#queue li[data-number="{number}"]').click()
    expect(desk.get_by_test_id("ticket-status")).to_have_text("回访")
    expect(desk.get_by_test_id("callback-task")).to_contain_text("须在")
    desk.get_by_role("button", name="转为「办结」").click()
    expect(desk.get_by_test_id("action-error")).to_contain_text("回访任务尚未完成")
    desk.screenshot(path=str(ARTIFACTS / "desk-callback.png"))


@pytest.mark.browser
def test_a_supervisor_sees_counts_charts_and_hot_questions(gateway_stack: Any, agent_page: Page) -> None:
    base = gateway_stack.gateway_url
    with httpx.Client(timeout=120) as client:
        token = client.post(f"{base}/api/session").json()["sender"]
        for question in ("异地就医备案需要什么材料？", "异地就医备案要准备哪些材料"):
            assert (
                client.post(f"{base}/api/chat", json={"sender": token, "message": question}).status_code
                == 200
            )
    page = agent_page
    page.goto(f"{base}/desk")
    page.get_by_test_id("username").fill("supervisor")
    page.get_by_test_id("password").fill(DEMO_AGENTS[1].password)
    page.get_by_test_id("login").click()
    page.get_by_role("link", name="督办与统计").click()
    expect(page).to_have_url(re.compile(r"/desk/supervision$"))
    expect(page.get_by_test_id("chart-conversations").locator("svg rect").first).to_be_visible()
    expect(page.get_by_test_id("chart-tickets").locator("svg rect").first).to_be_visible()
    expect(page.get_by_test_id("hot-topics").locator("tbody tr").first).not_to_contain_text("暂无")
    expect(page.get_by_test_id("events")).to_contain_text("超时未答复")  # the seeded overdue demo ticket
    expect(page.get_by_test_id("error")).to_be_empty()
    page.screenshot(path=str(ARTIFACTS / "desk-supervision.png"), full_page=True)


def test_in_the_chat_a_resident_asks_how_the_ticket_is_going_and_rates_the_answer(gateway_stack: Any) -> None:
    base = gateway_stack.gateway_url

    def say(client: httpx.Client, token: str, text: str) -> str:
        response = client.post(f"{base}/api/chat", json={"sender": token, "message": text}, timeout=120)
        assert response.status_code == 200, response.text
        return "\n".join(m.get("text") or "" for m in response.json())

    with httpx.Client(timeout=120) as client:
        token = client.post(f"{base}/api/session").json()["sender"]
        number = re.search(r"12393-\d{8}-\d{4}", say(client, token, "转人工")).group(0)
        progress = say(client, token, "我的工单办得怎么样了")
        headers = _login(client, base)
        client.post(f"{base}/api/tickets/{number}/claim", headers=headers)
        client.post(
            f"{base}/api/tickets/{number}/reply",
            headers=headers,
            json={"text": "您好，已为您核实办理。", "resolve": True},
        )
        rated = say(client, token, "不满意，还是没有解决")
        ticket = client.get(f"{base}/api/tickets/{number}", headers=headers).json()
    assert number in progress and "已受理" in progress
    assert "安排回访" in rated
    assert ticket["status"] == "回访" and ticket["rating"] == "不满意" and ticket["callback_due"]
