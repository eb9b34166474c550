"""The agent desk API on the real gateway (uvicorn in a thread) over a real database: login and its cookie,
authorisation (no token, agent vs supervisor, CSRF), the tickets API from claim to rating and 回访, the resident's
rating link, supervision figures. Runs on SQLite and on the PostgreSQL server at 127.0.0.1:5432."""

from __future__ import annotations

import csv
import io
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from casework.agents import create_agent
from casework.column_types import utc_now
from casework.db import get_engine, session_scope, upgrade
from casework.enums import TurnOutcome
from casework.tickets import open_ticket
from casework.turns import Turn, record_turn
from tests.casework.conftest import postgres_url  # noqa: F401 - the fixture, for the PostgreSQL run
from tests.channels.conftest import Gateway
from tests.channels.fakes import FakeRasa

PASSWORDS = {"wang": "wang-password-1", "zhao": "zhao-password-1", "li": "li-password-12"}


@dataclass
class Desk:
    gateway: Gateway
    http: httpx.Client

    def login(self, username: str) -> dict[str, str]:
        response = self.http.post(
            "/api/desk/login", json={"username": username, "password": PASSWORDS[username]}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['token']}"}

    def resident(self) -> tuple[str, str]:
        """A web chat session as the page gets it: (token, sender id)."""
        token = self.http.post("/api/session").json()["sender"]
        return token, token.rpartition(".")[0]

    def poll(self, token: str, since: str | None = None) -> dict:
        """What the resident's web page gets from GET /api/messages."""
        query = f"?since={since}" if since else ""
        return self.http.get(f"/api/messages{query}", headers={"X-Hotline-Sender": token}).json()

    def rating_link(self, token: str) -> str:
        return next(m["rating_token"] for m in self.poll(token)["messages"] if m["rating_token"])

    def ticket(
        self, sender_id: str, category: str = "投诉", lines: str = "居民：窗口不给办报销，电话13800000001"
    ) -> str:
        with session_scope(self.gateway.settings.database_url) as session:
            receipt = open_ticket(
                session, category=category, transcript=lines, channel="web", sender_id=sender_id
            )
        return receipt.number


def _with_agents(url: str) -> None:
    upgrade(url)
    with session_scope(url) as session:
        create_agent(session, username="wang", display_name="王芳", role="坐席", password=PASSWORDS["wang"])
        create_agent(session, username="zhao", display_name="赵强", role="坐席", password=PASSWORDS["zhao"])
        create_agent(session, username="li", display_name="李主管", role="主管", password=PASSWORDS["li"])


@pytest.fixture(scope="module")
def desk_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrated, with the three agents: hashing their passwords once, not per test."""
    path = tmp_path_factory.mktemp("desk") / "desk.db"
    _with_agents(f"sqlite:///{path}")
    get_engine(f"sqlite:///{path}").dispose()
    return path


@pytest.fixture
def desk(make_gateway: Callable[..., Gateway], desk_template: Path, tmp_path: Path) -> Iterator[Desk]:
    shutil.copy(desk_template, tmp_path / "desk.db")
    gateway = make_gateway(database_url=f"sqlite:///{tmp_path / 'desk.db'}")
    with gateway.client() as http:
        yield Desk(gateway, http)


@pytest.fixture
def pg_desk(make_gateway: Callable[..., Gateway], postgres_url: str) -> Iterator[Desk]:  # noqa: F811
    _with_agents(postgres_url)
    gateway = make_gateway(database_url=postgres_url)
    with gateway.client() as http:
        yield Desk(gateway, http)


ENDPOINTS = [
    ("GET", "/api/tickets"),
    ("GET", "/api/tickets/12393-20261123-0001"),
    ("POST", "/api/tickets/12393-20261123-0001/claim"),
    ("PATCH", "/api/tickets/12393-20261123-0001"),
    ("POST", "/api/tickets/12393-20261123-0001/reply"),
    ("POST", "/api/tickets/12393-20261123-0001/notes"),
    ("POST", "/api/tickets/12393-20261123-0001/merge"),
    ("POST", "/api/tickets/12393-20261123-0001/reassign"),
    ("POST", "/api/tickets/12393-20261123-0001/return"),
    ("POST", "/api/tickets/12393-20261123-0001/callback"),
    ("GET", "/api/agents"),
    ("POST", "/api/assist"),
    ("POST", "/api/assist/suggestions/1/mark"),
    ("GET", "/api/supervision/overview"),
    ("GET", "/api/supervision/unanswered.csv"),
    ("GET", "/api/desk/me"),
]


def test_every_desk_endpoint_refuses_a_request_without_a_login(desk: Desk) -> None:
    for method, path in ENDPOINTS:
        response = desk.http.request(method, path, json={})
        assert response.status_code == 401 and "请先登录" in response.json()["detail"], path
        forged = desk.http.request(method, path, json={}, headers={"Authorization": "Bearer not-a-session"})
        assert forged.status_code == 401, path


def test_login_gives_a_token_and_an_httponly_strict_cookie(desk: Desk) -> None:
    response = desk.http.post("/api/desk/login", json={"username": "wang", "password": PASSWORDS["wang"]})
    body = response.json()
    assert response.status_code == 200 and body["agent"] == {
        "username": "wang",
        "display_name": "王芳",
        "role": "坐席",
    }
    cookie = response.headers["set-cookie"].lower()
    assert "hotline_desk=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    assert response.headers["cache-control"] == "no-store"


def test_wrong_passwords_are_refused_then_the_account_locks(desk: Desk) -> None:
    wrong = [
        desk.http.post("/api/desk/login", json={"username": "zhao", "password": f"bad-{i}"}) for i in range(5)
    ]
    assert [r.status_code for r in wrong] == [401, 401, 401, 401, 423]
    assert "用户名或密码错误" in wrong[0].json()["detail"] and "锁定" in wrong[-1].json()["detail"]
    right = desk.http.post("/api/desk/login", json={"username": "zhao", "password": PASSWORDS["zhao"]})
    assert right.status_code == 423


def test_the_cookie_needs_the_csrf_token_for_changes_a_bearer_token_does_not(desk: Desk) -> None:
    _, sender = desk.resident()
    number = desk.ticket(sender)
    login = desk.http.post("/api/desk/login", json={"username": "wang", "password": PASSWORDS["wang"]}).json()
    assert desk.http.get("/api/tickets").status_code == 200  # reading with the cookie alone is fine
    assert desk.http.post(f"/api/tickets/{number}/claim").status_code == 403
    claimed = desk.http.post(f"/api/tickets/{number}/claim", headers={"X-CSRF-Token": login["csrf_token"]})
    assert claimed.status_code == 200 and claimed.json()["assignee"] == "wang"
    assert desk.http.get("/api/desk/me").json()["csrf_token"] == login["csrf_token"]
    desk.http.cookies.clear()
    bearer = {"Authorization": f"Bearer {login['token']}"}
    assert (
        desk.http.post(f"/api/tickets/{number}/notes", json={"text": "备注"}, headers=bearer).status_code
        == 200
    )


def test_logout_ends_the_session(desk: Desk) -> None:
    headers = desk.login("wang")
    assert desk.http.post("/api/desk/logout", headers=headers).status_code == 204
    assert desk.http.get("/api/tickets", headers=headers).status_code == 401


def test_supervision_is_for_supervisors_only(desk: Desk) -> None:
    agent, supervisor = desk.login("wang"), desk.login("li")
    for path in (
        "/api/supervision/overview",
        "/api/supervision/overdue",
        "/api/supervision/events",
        "/api/supervision/hot-topics",
        "/api/supervision/unanswered",
        "/api/supervision/unanswered.csv",
    ):
        assert desk.http.get(path, headers=agent).status_code == 403, path
        assert desk.http.get(path, headers=supervisor).status_code == 200, path


def test_the_queue_shows_residents_masked_and_no_sender_ids(desk: Desk) -> None:
    _, sender = desk.resident()
    number = desk.ticket(sender)
    headers = desk.login("wang")
    [item] = desk.http.get("/api/tickets", headers=headers).json()
    ticket = desk.http.get(f"/api/tickets/{number}", headers=headers)
    assert item["number"] == number and item["deadline"]["state"] == "正常" and item["assignee"] is None
    assert sender not in ticket.text and "13800000001" not in ticket.text and "138****0001" in ticket.text
    assert desk.http.get("/api/tickets?assignee=me", headers=headers).json() == []
    assert desk.http.get("/api/tickets?category=举报欺诈骗保", headers=headers).json() == []
    assert (
        desk.http.get("/api/tickets?state=受理&channel=web&overdue=false", headers=headers).json()[0][
            "number"
        ]
        == number
    )
    assert desk.http.get("/api/tickets/12393-19990101-0001", headers=headers).status_code == 404


def _answer_and_rate_link(desk: Desk) -> tuple[str, str, dict[str, str]]:
    """A ticket claimed and answered through the API; returns (number, resident token, agent headers)."""
    token, sender = desk.resident()
    number = desk.ticket(sender)
    headers = desk.login("wang")
    assert desk.http.post(f"/api/tickets/{number}/claim", headers=headers).json()["status"] == "办理"
    reply = desk.http.post(
        f"/api/tickets/{number}/reply",
        headers=headers,
        json={"text": "您好，已核实，可以报销。", "resolve": True},
    )
    assert reply.status_code == 200 and reply.json()["status"] == "答复"
    return number, token, headers


def test_a_reply_reaches_the_residents_chat_with_an_invitation_to_rate(desk: Desk) -> None:
    number, token, _ = _answer_and_rate_link(desk)
    messages = desk.poll(token)["messages"]
    assert [m["kind"] for m in messages] == ["答复", "评价邀请"]
    assert messages[0]["text"] == "您好，已核实，可以报销。" and messages[1]["ticket_number"] == number
    assert messages[0]["rating_token"] is None and messages[1]["rating_token"].startswith(number)


def test_rating_by_the_link_not_satisfied_opens_a_callback_that_blocks_closing(desk: Desk) -> None:
    number, token, headers = _answer_and_rate_link(desk)
    link, seen = desk.rating_link(token), desk.poll(token)["next_since"]
    assert desk.http.post("/api/rating/status", json={"token": link}).json()["rateable"] is True
    rated = desk.http.post("/api/rating", json={"token": link, "rating": "不满意", "comment": "还是没解决"})
    assert (
        rated.status_code == 200
        and rated.json()["status"] == "回访"
        and "安排回访" in rated.json()["message"]
    )
    assert desk.http.post("/api/rating", json={"token": link, "rating": "满意"}).status_code == 409
    ticket = desk.http.get(f"/api/tickets/{number}", headers=headers).json()
    assert (
        ticket["rating"] == "不满意" and ticket["callback_due"] and ticket["callbacks"][0]["done_at"] is None
    )
    closing = desk.http.patch(f"/api/tickets/{number}", headers=headers, json={"status": "办结"})
    assert closing.status_code == 409 and "回访任务尚未完成" in closing.json()["detail"]
    done = desk.http.post(
        f"/api/tickets/{number}/callback", headers=headers, json={"outcome": "已督促窗口整改"}
    )
    assert done.status_code == 200 and done.json()["status"] == "评价"
    feedback = desk.poll(token, since=seen)["messages"]
    assert [m["kind"] for m in feedback] == ["回访反馈"]


def test_a_rating_link_is_bound_to_its_ticket(desk: Desk) -> None:
    number, token, _ = _answer_and_rate_link(desk)
    link = desk.rating_link(token)
    _, other_sender = desk.resident()
    other = desk.ticket(other_sender)
    forged = link.replace(number, other, 1)
    for bad in (forged, link[:-2] + "xx", "12393-20261123-0001.9999999999.abc"):
        response = desk.http.post("/api/rating", json={"token": bad, "rating": "满意"})
        assert response.status_code == 403 and "评价链接无效" in response.json()["detail"]


def test_only_the_handler_or_a_supervisor_acts_and_illegal_moves_are_409(desk: Desk) -> None:
    _, sender = desk.resident()
    number = desk.ticket(sender)
    wang, zhao, li = desk.login("wang"), desk.login("zhao"), desk.login("li")
    desk.http.post(f"/api/tickets/{number}/claim", headers=wang)
    taken = desk.http.post(f"/api/tickets/{number}/claim", headers=zhao)
    assert taken.status_code == 409 and "已由王芳认领" in taken.json()["detail"]
    refused = desk.http.post(f"/api/tickets/{number}/reply", headers=zhao, json={"text": "您好"})
    assert refused.status_code == 403 and "只有办理人或主管" in refused.json()["detail"]
    illegal = desk.http.patch(f"/api/tickets/{number}", headers=wang, json={"status": "评价"})
    assert illegal.status_code == 409 and "不能直接转为「评价」" in illegal.json()["detail"]
    reassigned = desk.http.post(
        f"/api/tickets/{number}/reassign", headers=li, json={"assignee": "zhao", "reason": "换班"}
    )
    assert reassigned.json()["assignee"] == "zhao"
    returned = desk.http.post(f"/api/tickets/{number}/return", headers=zhao, json={"reason": "需转异地组"})
    assert returned.json()["assignee"] is None and returned.json()["status"] == "派单"
    assert (
        desk.http.post(f"/api/tickets/{number}/return", headers=zhao, json={"reason": ""}).status_code == 422
    )


def test_notes_stay_internal_and_duplicates_merge(desk: Desk) -> None:
    token, sender = desk.resident()
    first, second = desk.ticket(sender), desk.ticket(sender, lines="居民：还是报销的事")
    wang = desk.login("wang")
    noted = desk.http.post(
        f"/api/tickets/{first}/notes", headers=wang, json={"text": "已电话联系，身份证360102198503129014"}
    )
    assert noted.json()["notes"][0]["text"].endswith("3601**********9014")
    assert desk.poll(token)["messages"] == []
    desk.http.post(f"/api/tickets/{second}/claim", headers=wang)
    merged = desk.http.post(f"/api/tickets/{second}/merge", headers=wang, json={"into": first})
    assert merged.status_code == 200 and merged.json()["merged_from"] == [second]
    queue = [item["number"] for item in desk.http.get("/api/tickets", headers=wang).json()]
    assert queue == [first]


def test_supervision_figures_and_the_unanswered_csv(desk: Desk) -> None:
    _, token, _ = _answer_and_rate_link(desk)
    link = desk.rating_link(token)
    desk.http.post("/api/rating", json={"token": link, "rating": "不满意"})
    with session_scope(desk.gateway.settings.database_url) as session:
        for question, outcome, chunk in (
            ("门诊慢特病怎么申请", TurnOutcome.ANSWERED, "doc-1"),
            ("慢性病门诊要办什么手续", TurnOutcome.ANSWERED, "doc-1"),
            ("=养老金什么时候涨", TurnOutcome.ABSTAINED, None),
        ):
            record_turn(
                session,
                Turn(
                    "web",
                    "h" + question[:5],
                    question,
                    outcome,
                    intent="policy_question",
                    answer_chunk_id=chunk,
                    answer_source="《文件》 · 第一章" if chunk else None,
                ),
            )
    li = desk.login("li")
    overview = desk.http.get("/api/supervision/overview?days=7", headers=li).json()
    today = overview["days"][-1]
    assert overview["tickets_by_category"][today] == {"投诉": 1} and overview["tickets_by_state"] == {
        "回访": 1
    }
    assert overview["conversations_by_channel"][today] == {"web": 3}
    assert overview["callback"] == {"numerator": 0, "denominator": 1, "rate": 0.0}
    assert overview["sla_hit"] == {"numerator": 1, "denominator": 1, "rate": 1.0}
    [topic] = desk.http.get("/api/supervision/hot-topics", headers=li).json()
    assert topic["asked"] == 2 and set(topic["examples"]) == {"门诊慢特病怎么申请", "慢性病门诊要办什么手续"}
    csv_response = desk.http.get("/api/supervision/unanswered.csv", headers=li)
    assert csv_response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(csv_response.content.decode("utf-8-sig"))))
    assert (
        rows[0][:3] == ["时间", "渠道", "问题"]
        and rows[1][2] == "'=养老金什么时候涨"
        and rows[1][3] == "未找到答案"
    )


def test_overdue_tickets_raise_supervision_events_for_supervisors(desk: Desk) -> None:
    _, sender = desk.resident()
    with session_scope(desk.gateway.settings.database_url) as session:
        late = open_ticket(
            session,
            category="转人工咨询",
            transcript="居民：转人工",
            channel="web",
            sender_id=sender,
            now=utc_now() - timedelta(days=10),
        ).number
    from channels.supervision import supervise_once

    assert supervise_once(desk.gateway.settings) == 1
    li = desk.login("li")
    [event] = desk.http.get("/api/supervision/events", headers=li).json()
    assert event["number"] == late and event["kind"] == "超时未答复" and event["status"] == "督办"
    assert [t["number"] for t in desk.http.get("/api/supervision/overdue", headers=li).json()] == [late]


def test_assist_without_the_action_server_says_so(desk: Desk) -> None:
    response = desk.http.post(
        "/api/assist", headers=desk.login("wang"), json={"utterance": "异地就医怎么备案"}
    )
    assert response.status_code == 503 and "建议答案暂时不可用" in response.json()["detail"]
    both = desk.http.post("/api/assist", headers=desk.login("wang"), json={"utterance": "a", "ticket": "b"})
    assert both.status_code == 422


@pytest.mark.postgres
def test_the_desk_flow_works_on_postgresql(pg_desk: Desk) -> None:
    number, token, headers = _answer_and_rate_link(pg_desk)
    link = pg_desk.rating_link(token)
    assert (
        pg_desk.http.post("/api/rating", json={"token": link, "rating": "基本满意"}).json()["status"]
        == "评价"
    )
    ticket = pg_desk.http.get(f"/api/tickets/{number}", headers=headers).json()
    assert ticket["rating"] == "基本满意" and [h["to_status"] for h in ticket["history"]][-2:] == [
        "办结",
        "评价",
    ]
    li = pg_desk.login("li")
    assert pg_desk.http.get("/api/supervision/overview", headers=li).json()["sla_hit"]["rate"] == 1.0


def test_each_chat_turn_is_logged_for_the_analytics_without_naming_the_resident(
    make_gateway: Callable[..., Gateway],
) -> None:
    from sqlalchemy import select

    from casework.models import ConversationTurn
    from hotline.hop_signature import CONFIDENCE_HEADER, INTENT_HEADER

    def answer(request: dict) -> dict:
        cited = {
            "band": "related",
            "abstain": True,
            "citations": [
                {
                    "chunk_id": "zhoukou-7",
                    "doc_title": "周口市医疗保障规划",
                    "section": "第三章",
                    "region": "河南省周口市",
                    "text": "…",
                    "score": 0.4,
                }
            ],
        }
        return {
            "messages": [
                {"recipient_id": request["sender"], "text": "以下条文可能相关"},
                {"recipient_id": request["sender"], "custom": cited},
            ],
            "headers": {INTENT_HEADER: "policy_question", CONFIDENCE_HEADER: "0.91"},
        }

    gateway = make_gateway(FakeRasa(replies=answer))
    upgrade(gateway.settings.database_url)
    with gateway.client() as http:
        token = http.post("/api/session").json()["sender"]
        sent = http.post(
            "/api/chat", json={"sender": token, "message": "周口门诊报销比例，身份证360102198503129014"}
        )
    assert sent.status_code == 200
    turns: list[ConversationTurn] = []
    deadline = time.monotonic() + 10
    while not turns and time.monotonic() < deadline:  # logged in the background, after the reply went out
        time.sleep(0.1)
        with session_scope(gateway.settings.database_url) as session:
            turns = session.scalars(select(ConversationTurn)).all()
    [turn] = turns
    sender = token.rpartition(".")[0]
    assert (turn.channel, turn.intent, turn.confidence, turn.band) == (
        "web",
        "policy_question",
        0.91,
        "related",
    )
    assert turn.outcome is TurnOutcome.LOW_CONFIDENCE and turn.answer_chunk_id == "zhoukou-7"
    assert turn.answer_source == "《周口市医疗保障规划》 · 第三章 · 河南省周口市"
    assert "360102198503129014" not in turn.question and "3601**********9014" in turn.question
    assert sender.removeprefix("web:") not in turn.conversation and turn.conversation.startswith("h")


def test_a_wechat_resident_gets_the_reply_and_a_rating_link_by_customer_service_messages(desk: Desk) -> None:
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from channels.journal import Journal
    from channels.ratings import verified_number
    from channels.wechat_api import WeChatApi
    from channels.wechat_outbox import deliver_agent_replies

    settings = desk.gateway.settings
    with session_scope(settings.database_url) as session:
        number = open_ticket(
            session, category="转人工咨询", transcript="居民：转人工", channel="wechat", sender_id="wechat:oDesk123"
        ).number
    wang = desk.login("wang")
    desk.http.post(f"/api/tickets/{number}/claim", headers=wang)
    desk.http.post(f"/api/tickets/{number}/reply", headers=wang, json={"text": "已为您办好。", "resolve": True})

    async def one_round() -> int:
        api = WeChatApi(settings)
        try:
            return await deliver_agent_replies(settings, api, Journal(settings))
        finally:
            await api.aclose()

    with ThreadPoolExecutor(1) as pool:  # its own event loop, whatever the test thread holds
        assert pool.submit(asyncio.run, one_round()).result() == 2
    reply, invitation = [m["text"]["content"] for m in desk.gateway.wechat_api.sent]
    assert recipients(desk.gateway.wechat_api.sent) == {"oDesk123"}
    assert reply == f"【人工客服回复 · 工单 {number}】\n已为您办好。"
    assert invitation.startswith(f"【请您评价 · 工单 {number}】") and "请直接回复“满意”“基本满意”或“不满意”" in invitation
    link = invitation.rsplit("打开链接评价：", 1)[1]
    assert link.startswith(f"{settings.gateway_public_url}/rate#")
    assert verified_number(settings, link.split("#", 1)[1]) == number


def recipients(sent: list[dict]) -> set[str]:
    return {message["touser"] for message in sent}
