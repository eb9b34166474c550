"""Demo logins and sample tickets for trying the agent desk (`hotline db setup`, run by `make run`).

The two accounts have published passwords (README): they exist for demonstration and tests only. Sample
tickets are fictitious conversations in several states — new, in handling and near due, overdue (督办), answered
and waiting for a rating, rated 不满意 with a 回访 task, rated 满意 and closed, and a duplicate to merge — dated
relative to the moment of seeding. Seeding is idempotent: nothing is added once the demo agent exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.agents import AgentIdentity, create_agent, find_agent, identity
from casework.calendar import default_calendar
from casework.column_types import CHINA_TZ, utc_now
from casework.enums import AgentRole, Rating, TicketCategory, TicketStatus
from casework.handling import change_status, claim, reply
from casework.models import Resident
from casework.ratings import rate_ticket
from casework.seed import demo_resident
from casework.supervision import supervise_overdue
from casework.tickets import find_ticket, open_ticket
from casework.verification import load_verified


@dataclass(frozen=True)
class DemoAgent:
    username: str
    display_name: str
    role: AgentRole
    password: str  # published in the README: demo only


DEMO_AGENTS: tuple[DemoAgent, ...] = (
    DemoAgent("agent", "王坐席", AgentRole.AGENT, "demo-agent-12393"),
    DemoAgent("supervisor", "李主管", AgentRole.SUPERVISOR, "demo-supervisor-12393"),
)


@dataclass(frozen=True)
class DeskSeedReport:
    agents: tuple[str, ...]  # usernames created now
    tickets: tuple[str, ...]  # ticket numbers created now


def seed_desk_demo(session: Session, *, now: datetime | None = None) -> DeskSeedReport:
    if find_agent(session, DEMO_AGENTS[0].username) is not None:
        return DeskSeedReport((), ())
    now = now or utc_now()
    agents = {
        demo.username: identity(
            create_agent(
                session,
                username=demo.username,
                display_name=demo.display_name,
                role=demo.role,
                password=demo.password,
            )
        )
        for demo in DEMO_AGENTS
    }
    numbers = _sample_tickets(session, agents["agent"], now)
    return DeskSeedReport(tuple(agents), tuple(numbers))


def _sample_tickets(session: Session, agent: AgentIdentity, now: datetime) -> list[str]:
    calendar = default_calendar()

    def working_days_ago(days: int) -> datetime:
        moment = now
        for _ in range(days):
            moment -= timedelta(days=1)
            while not calendar.is_working_day(moment.astimezone(CHINA_TZ).date()):
                moment -= timedelta(days=1)
        return moment

    def opened(
        category: TicketCategory,
        lines: list[str],
        sender: str,
        channel: str,
        when: datetime,
        resident_key: str | None = None,
    ) -> str:
        resident = None
        if (
            resident_key
        ):  # as if the resident had verified in the chat (no audit line: nobody looked anything up)
            number = demo_resident(resident_key).id_number
            resident_id = session.scalars(select(Resident.id).where(Resident.id_number == number)).first()
            resident = load_verified(session, resident_id) if resident_id is not None else None
        receipt = open_ticket(
            session,
            category=category,
            transcript=lines,
            channel=channel,
            sender_id=sender,
            resident=resident,
            now=when,
        )
        return receipt.number

    numbers: list[str] = []
    # New, in the pool: a hand-over from the web chat, and a duplicate the same resident sent a little later.
    numbers.append(
        opened(
            TicketCategory.HUMAN_AGENT,
            [
                "居民：异地就医备案以后，回参保地看病还能报销吗？",
                "助手：关于您问的问题，……（政策原文引用）",
                "居民：还是不太明白，转人工",
            ],
            "web:demo-resident-1",
            "web",
            now - timedelta(minutes=20),
        )
    )
    numbers.append(
        opened(
            TicketCategory.HUMAN_AGENT,
            [
                "居民：我刚才问的异地备案的问题，还没有人回复我",
                "居民：转人工",
            ],
            "web:demo-resident-1",
            "web",
            now - timedelta(minutes=5),
        )
    )
    # In handling, claimed by the demo agent, four of its five working days gone: near due.
    complaint = opened(
        TicketCategory.COMPLAINT,
        [
            "居民：我在医保窗口办理报销，跑了三趟都没办成，我要投诉",
            "助手：您反映的问题我们已经记录，并为您登记了投诉工单。",
        ],
        "wechat:demo-openid-2",
        "wechat",
        working_days_ago(4),
        resident_key="no_claims",
    )
    claim(find_ticket(session, complaint), agent, now=working_days_ago(3))
    numbers.append(complaint)
    # Not answered in time: the supervision run below raises 督办 on it.
    numbers.append(
        opened(
            TicketCategory.UNANSWERED,
            [
                "居民：门诊共济报销的钱什么时候到账？",
                "助手：抱歉，我手头的官方政策文件里没有找到能直接回答这个问题的规定。",
                "居民：那到底多久能到账",
            ],
            "web:demo-resident-3",
            "web",
            working_days_ago(3),
        )
    )
    # Answered, waiting for the resident's rating.
    answered = opened(
        TicketCategory.HUMAN_AGENT,
        [
            "居民：居民医保每年什么时候缴费？",
            "居民：转人工",
        ],
        "web:demo-resident-4",
        "web",
        working_days_ago(1),
    )
    ticket = find_ticket(session, answered)
    claim(ticket, agent, now=working_days_ago(1) + timedelta(minutes=10))
    reply(
        session,
        ticket,
        agent,
        "您好，居民医保一般在每年下半年集中缴费，具体时间以当地医保部门通知为准。",
        resolve=True,
        now=working_days_ago(1) + timedelta(minutes=30),
    )
    numbers.append(answered)
    # Rated 不满意: a 回访 task is open and the ticket cannot be closed until it is done.
    poor = opened(
        TicketCategory.COMPLAINT,
        [
            "居民：定点药店拒绝刷医保卡，我要投诉",
        ],
        "wechat:demo-openid-5",
        "wechat",
        working_days_ago(6),
        resident_key="employee",
    )
    ticket = find_ticket(session, poor)
    claim(ticket, agent, now=working_days_ago(6) + timedelta(hours=1))
    reply(
        session,
        ticket,
        agent,
        "您好，已联系该药店核实，药店已承诺整改。",
        resolve=True,
        now=working_days_ago(2),
    )
    rate_ticket(
        ticket, Rating.DISSATISFIED, "wechat:demo-openid-5", "药店还是不给刷", now=working_days_ago(1)
    )
    numbers.append(poor)
    # Rated 满意 and closed.
    good = opened(
        TicketCategory.FRAUD_REPORT,
        [
            "居民：有个诊所用医保卡套现，我要举报",
        ],
        "web:demo-resident-6",
        "web",
        working_days_ago(8),
    )
    ticket = find_ticket(session, good)
    claim(ticket, agent, now=working_days_ago(8) + timedelta(hours=1))
    change_status(ticket, agent, TicketStatus.ANSWERED, "已告知受理结果", now=working_days_ago(5))
    rate_ticket(ticket, Rating.SATISFIED, "web:demo-resident-6", now=working_days_ago(4))
    numbers.append(good)
    supervise_overdue(session, now=now)
    session.flush()
    return numbers
