"""The agent desk's work on tickets: claim, reply, return, reassign, merge, notes, the queue and its SLA colours."""

import os
import secrets
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from casework.agents import AgentIdentity, create_agent, identity
from casework.column_types import CHINA_TZ
from casework.desk_demo import DEMO_AGENTS, seed_desk_demo
from casework.enums import AgentRole, MessageKind, Rating, TicketCategory, TicketEventKind, TicketStatus
from casework.handling import (
    NotPermitted,
    add_note,
    change_status,
    claim,
    merge,
    reassign,
    reply,
    return_to_pool,
)
from casework.lifecycle import IllegalTransition
from casework.models import Agent, Ticket
from casework.queue import QueueFilter, ticket_detail, ticket_queue
from casework.ratings import rate_ticket
from casework.replies import messages_for_sender
from casework.sla import SlaState, deadline
from casework.tickets import find_ticket, open_ticket
from hotline.secrets import SECRETS
from hotline.settings import PROJECT_ROOT

MONDAY_10AM = datetime(2026, 11, 23, 10, 0, tzinfo=CHINA_TZ)
S = TicketStatus


@pytest.fixture
def people(session: Session) -> dict[str, AgentIdentity]:
    made = {
        name: create_agent(
            session, username=name, display_name=display, role=role, password="a-long-password"
        )
        for name, display, role in (
            ("wang", "王芳", AgentRole.AGENT),
            ("zhao", "赵强", AgentRole.AGENT),
            ("li", "李主管", AgentRole.SUPERVISOR),
        )
    }
    return {name: identity(agent) for name, agent in made.items()}


def new_ticket(
    session: Session,
    sender: str = "web:resident",
    category: TicketCategory = TicketCategory.COMPLAINT,
    when: datetime = MONDAY_10AM,
    channel: str = "web",
) -> Ticket:
    receipt = open_ticket(
        session,
        category=category,
        transcript=["居民：窗口不给办报销", "助手：已登记"],
        channel=channel,
        sender_id=sender,
        now=when,
    )
    return find_ticket(session, receipt.number)


def refreshed(session: Session, ticket: Ticket) -> Ticket:
    session.flush()
    session.expire(ticket)
    return ticket


def test_claiming_takes_the_ticket_from_the_pool_into_handling(session: Session, people) -> None:
    ticket = new_ticket(session)
    claim(ticket, people["wang"])
    ticket = refreshed(session, ticket)
    assert ticket.status is S.HANDLING and ticket.assignee.username == "wang"
    assert [e.kind for e in ticket.events][-2:] == [TicketEventKind.CLAIM, TicketEventKind.STATUS]
    with pytest.raises(IllegalTransition, match="已由王芳认领"):
        claim(ticket, people["zhao"])


def test_only_the_handler_or_a_supervisor_may_reply(session: Session, people) -> None:
    ticket = new_ticket(session)
    with pytest.raises(NotPermitted, match="请先认领"):
        reply(session, ticket, people["wang"], "您好")
    claim(ticket, people["wang"])
    ticket = refreshed(session, ticket)
    with pytest.raises(NotPermitted, match="只有办理人或主管"):
        reply(session, ticket, people["zhao"], "您好")
    reply(session, ticket, people["li"], "主管补充说明")
    reply(session, ticket, people["wang"], "您好，已为您核实，可以报销。", resolve=True)
    assert ticket.status is S.ANSWERED and ticket.answered_at is not None
    delivered = messages_for_sender(session, "web:resident")
    assert [m.kind for m in delivered] == [
        MessageKind.REPLY,
        MessageKind.REPLY,
        MessageKind.RATING_INVITATION,
    ]
    assert delivered[1].author == "agent:wang"


def test_notes_stay_on_the_desk(session: Session, people) -> None:
    ticket = new_ticket(session)
    add_note(ticket, people["zhao"], "居民来电补充：身份证 360102198503129014")
    session.flush()
    assert messages_for_sender(session, "web:resident") == []
    assert "3601**********9014" in ticket.notes[0].text and ticket.notes[0].author == "agent:zhao"


def test_returning_to_the_pool_needs_a_reason_and_goes_back_to_dispatch(session: Session, people) -> None:
    ticket = new_ticket(session)
    claim(ticket, people["wang"])
    ticket = refreshed(session, ticket)
    with pytest.raises(IllegalTransition, match="退回原因不能为空"):
        return_to_pool(ticket, people["wang"], "  ")
    return_to_pool(ticket, people["wang"], "涉及异地业务，需转异地组")
    ticket = refreshed(session, ticket)
    assert ticket.assignee is None and ticket.status is S.DISPATCHED
    assert any(e.kind is TicketEventKind.RETURN and "异地组" in e.note for e in ticket.events)
    claim(ticket, people["zhao"])
    assert refreshed(session, ticket).status is S.HANDLING


def test_reassigning_names_both_agents_in_the_history(session: Session, people) -> None:
    ticket = new_ticket(session)
    claim(ticket, people["wang"])
    ticket = refreshed(session, ticket)
    with pytest.raises(NotPermitted):
        reassign(session, ticket, people["zhao"], "zhao")
    with pytest.raises(IllegalTransition, match="没有名为“nobody”的在岗坐席"):
        reassign(session, ticket, people["li"], "nobody")
    reassign(session, ticket, people["li"], "zhao", "王芳休假")
    ticket = refreshed(session, ticket)
    assert ticket.assignee.username == "zhao"
    assert (
        ticket.events[-1].kind is TicketEventKind.REASSIGN
        and ticket.events[-1].note == "王芳 → 赵强：王芳休假"
    )
    actors = [line.actor for line in ticket_detail(session, ticket).history]
    assert actors[:2] == ["居民（网页）", "坐席 wang"] and "web:resident" not in actors[0]


def test_a_duplicate_of_the_same_resident_is_merged_and_replies_reach_both_chats(
    session: Session, people
) -> None:
    first = new_ticket(session, sender="web:same")
    second = new_ticket(session, sender="web:same", when=MONDAY_10AM + timedelta(minutes=30))
    stranger = new_ticket(session, sender="web:stranger")
    claim(second, people["wang"])
    with pytest.raises(IllegalTransition, match="不是同一居民"):
        merge(refreshed(session, second), stranger, people["wang"])
    merge(second, first, people["wang"], "同一问题重复提交")
    first, second = refreshed(session, first), refreshed(session, second)
    assert second.merged_into is first and second.assignee is None
    assert f"并入自工单{second.number}" in first.transcript
    queue = ticket_queue(session, QueueFilter(), me=people["wang"], now=MONDAY_10AM)
    assert second.number not in [item.number for item in queue]
    with pytest.raises(IllegalTransition, match=f"已并入工单{first.number}"):
        rate_ticket(second, Rating.SATISFIED, "web:same")
    detail = ticket_detail(session, first, now=MONDAY_10AM)
    assert detail.merged_from == [second.number]


def test_replies_after_a_merge_across_channels_go_to_each_chat(session: Session, people) -> None:
    from casework.seed import demo_resident
    from casework.verification import verify_identity

    demo = demo_resident("employee")
    resident = verify_identity(session, demo.name, demo.id_number, demo.phone[-4:])
    web = open_ticket(
        session, category="投诉", transcript="…", channel="web", sender_id="web:a", resident=resident
    )
    wechat = open_ticket(
        session,
        category="投诉",
        transcript="…",
        channel="wechat",
        sender_id="wechat:openid-a",
        resident=resident,
    )
    web_ticket, wechat_ticket = find_ticket(session, web.number), find_ticket(session, wechat.number)
    merge(wechat_ticket, web_ticket, people["li"])
    claim(refreshed(session, web_ticket), people["wang"])
    reply(session, refreshed(session, web_ticket), people["wang"], "已为您处理")
    assert [m.text for m in messages_for_sender(session, "web:a")] == ["已为您处理"]
    assert [m.text for m in messages_for_sender(session, "wechat:openid-a")] == ["已为您处理"]
    assert len(ticket_detail(session, web_ticket).messages) == 1  # one send, shown once on the desk


def test_status_changes_from_the_desk_follow_the_lifecycle(session: Session, people) -> None:
    ticket = new_ticket(session)
    claim(ticket, people["wang"])
    ticket = refreshed(session, ticket)
    with pytest.raises(IllegalTransition, match="不能直接转为「办结」"):
        change_status(ticket, people["wang"], S.CLOSED)
    with pytest.raises(IllegalTransition, match="请用“退回”并说明原因"):
        change_status(ticket, people["wang"], S.DISPATCHED)
    change_status(ticket, people["wang"], S.ANSWERED, "电话答复")
    assert [m.kind for m in messages_for_sender(session, "web:resident")] == [MessageKind.RATING_INVITATION]


def test_the_queue_filters_by_state_category_channel_assignee_and_overdue(session: Session, people) -> None:
    late = new_ticket(session, category=TicketCategory.HUMAN_AGENT, when=MONDAY_10AM - timedelta(days=3))
    mine = new_ticket(session, category=TicketCategory.COMPLAINT, channel="wechat", sender="wechat:x")
    report = new_ticket(session, category=TicketCategory.FRAUD_REPORT)
    claim(mine, people["wang"])
    session.flush()

    def numbers(**criteria) -> list[str]:
        return [
            i.number
            for i in ticket_queue(session, QueueFilter(**criteria), me=people["wang"], now=MONDAY_10AM)
        ]

    assert numbers() == [late.number, mine.number, report.number]  # most urgent (earliest due) first
    assert numbers(statuses=(S.HANDLING,)) == [mine.number]
    assert numbers(category=TicketCategory.FRAUD_REPORT) == [report.number]
    assert numbers(channel="wechat") == [mine.number]
    assert numbers(assignee="me") == numbers(assignee="wang") == [mine.number]
    assert numbers(assignee="none") == [late.number, report.number]
    assert numbers(overdue=True) == [late.number]
    assert late.number not in numbers(overdue=False)


def test_sla_states_count_working_time(session: Session) -> None:
    ticket = new_ticket(session, category=TicketCategory.COMPLAINT)  # due Monday 30 November 17:00
    assert deadline(ticket, now=MONDAY_10AM).state is SlaState.ON_TIME
    # 13 working hours left of 40: on time; 9 left (one on Friday, eight on Monday): within the last quarter.
    assert deadline(ticket, now=datetime(2026, 11, 27, 12, 0, tzinfo=CHINA_TZ)).state is SlaState.ON_TIME
    near = deadline(ticket, now=datetime(2026, 11, 27, 16, 0, tzinfo=CHINA_TZ))
    assert near.state is SlaState.NEAR_DUE and near.remaining == timedelta(hours=9)
    late = deadline(ticket, now=datetime(2026, 12, 1, 10, 0, tzinfo=CHINA_TZ))
    assert late.state is SlaState.OVERDUE and late.remaining == timedelta(hours=-1)
    assert late.remaining_text == "超时 1小时0分（工作时间）"
    ticket.answered_at = datetime(2026, 11, 30, 16, 0, tzinfo=CHINA_TZ)
    assert deadline(ticket).state is SlaState.MET


def test_the_desk_demo_seeds_two_logins_and_tickets_in_several_states(session: Session) -> None:
    report = seed_desk_demo(session, now=datetime(2026, 12, 3, 15, 0, tzinfo=CHINA_TZ))
    assert report.agents == tuple(a.username for a in DEMO_AGENTS) and len(report.tickets) == 7
    states = {t.status for t in session.scalars(select(Ticket))}
    assert {S.RECEIVED, S.HANDLING, S.SUPERVISED, S.ANSWERED, S.FOLLOWED_UP, S.RATED} <= states
    assert seed_desk_demo(session) == type(report)((), ())
    roles = {a.username: a.role for a in session.scalars(select(Agent))}
    assert roles == {"agent": AgentRole.AGENT, "supervisor": AgentRole.SUPERVISOR}


def test_db_setup_seeds_the_demo_logins_but_never_in_production(tmp_path: Path) -> None:
    hotline = PROJECT_ROOT / ".venv" / "bin" / "hotline"

    def agents_after_setup(name: str, **env: str) -> set[str]:
        url = f"sqlite:///{tmp_path / name}"
        result = subprocess.run(
            [str(hotline), "db", "setup"],
            env={**os.environ, "DATABASE_URL": url, **env},
            capture_output=True,
            text=True,
            check=True,
        )
        engine = create_engine(url)
        with engine.connect() as connection:
            usernames = {row[0] for row in connection.exec_driver_sql("SELECT username FROM agents")}
        engine.dispose()
        assert ("坐席工作台演示账号" in result.stdout) == bool(usernames)
        return usernames

    strong = {spec.variable: secrets.token_urlsafe(48)[: max(spec.min_length, 32)] for spec in SECRETS}
    assert agents_after_setup("dev.db") == {"agent", "supervisor"}
    assert agents_after_setup("prod.db", HOTLINE_ENV="production", **strong) == set()
