"""Tickets: numbered receipts, time limits in working time, masked storage, and the 12393 lifecycle."""

import re
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.calendar import WorkingCalendar
from casework.column_types import CHINA_TZ
from casework.db import session_factory
from casework.enums import Rating, SupervisionKind, TicketCategory, TicketEventKind, TicketStatus
from casework.models import Ticket
from casework.seed import demo_resident
from casework.senders import stored_sender
from casework.tickets import (
    LEGAL_TRANSITIONS,
    IllegalTransition,
    add_agent_message,
    allowed_next,
    claim_undelivered,
    find_ticket,
    messages_for_sender,
    open_ticket,
    rate_ticket,
    supervise_overdue,
    ticket_progress,
    transition,
)
from casework.time_limits import default_time_limits

from .conftest import verified

MONDAY_10AM = datetime(2026, 11, 23, 10, 0, tzinfo=CHINA_TZ)
S = TicketStatus


def _open(
    session: Session,
    now: datetime = MONDAY_10AM,
    category: TicketCategory = TicketCategory.COMPLAINT,
    sender_id: str = "sender-1",
) -> Ticket:
    receipt = open_ticket(
        session, category=category, transcript="居民：我要投诉", channel="rest", sender_id=sender_id, now=now
    )
    return find_ticket(session, receipt.number)


def test_ticket_number_is_prefix_china_date_and_daily_sequence(session: Session) -> None:
    late_evening_utc = datetime(2026, 11, 23, 17, 30, tzinfo=UTC)  # already 24 November in China
    numbers = [
        open_ticket(
            session, category="转人工咨询", transcript="…", channel="rest", sender_id="a", now=MONDAY_10AM
        ).number,
        open_ticket(
            session, category="转人工咨询", transcript="…", channel="rest", sender_id="b", now=MONDAY_10AM
        ).number,
        open_ticket(
            session, category="投诉", transcript="…", channel="rest", sender_id="c", now=late_evening_utc
        ).number,
    ]
    assert numbers == ["12393-20261123-0001", "12393-20261123-0002", "12393-20261124-0001"]
    assert all(re.fullmatch(r"12393-\d{8}-\d{4}", n) for n in numbers)


def test_concurrent_tickets_never_share_a_number(database_url: str) -> None:
    numbers: list[str] = []
    errors: list[BaseException] = []

    def open_one(index: int) -> None:
        try:
            with session_factory(database_url)() as own_session:
                receipt = open_ticket(
                    own_session,
                    category="投诉",
                    transcript="…",
                    channel="rest",
                    sender_id=f"s{index}",
                    now=MONDAY_10AM,
                )
                own_session.commit()
                numbers.append(receipt.number)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=open_one, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and sorted(numbers) == [f"12393-20261123-{i:04d}" for i in range(1, 9)]


def test_time_limits_are_counted_in_working_time(session: Session) -> None:
    friday_4pm = datetime(2026, 11, 27, 16, 0, tzinfo=CHINA_TZ)
    human = open_ticket(
        session,
        category=TicketCategory.HUMAN_AGENT,
        transcript="…",
        channel="rest",
        sender_id="a",
        now=friday_4pm,
    )
    complaint = open_ticket(
        session,
        category=TicketCategory.COMPLAINT,
        transcript="…",
        channel="rest",
        sender_id="b",
        now=MONDAY_10AM,
    )
    report = open_ticket(
        session,
        category=TicketCategory.FRAUD_REPORT,
        transcript="…",
        channel="rest",
        sender_id="c",
        now=MONDAY_10AM,
    )
    # One hour left on Friday, the second hour on Monday morning.
    assert human.due_at.astimezone(CHINA_TZ) == datetime(2026, 11, 30, 10, 0, tzinfo=CHINA_TZ)
    assert human.time_limit_text == "2个工作小时内由人工客服回复您" and human.due_text == "11月30日 10:00前"
    # Five working days after Monday 23rd: Monday 30th at closing time.
    assert complaint.due_at.astimezone(CHINA_TZ) == datetime(2026, 11, 30, 17, 0, tzinfo=CHINA_TZ)
    assert report.due_at.astimezone(CHINA_TZ) == datetime(2026, 12, 14, 17, 0, tzinfo=CHINA_TZ)
    assert complaint.time_limit_text.startswith("5个工作日内") and report.time_limit_text.startswith(
        "15个工作日内"
    )


def test_every_category_has_one_time_limit() -> None:
    assert set(default_time_limits().by_category) == set(TicketCategory)


def test_holidays_and_make_up_working_days_can_be_configured() -> None:
    national_day = WorkingCalendar(
        holidays=frozenset(date(2026, 10, d) for d in range(1, 9)),
        extra_workdays=frozenset({date(2026, 10, 10)}),
    )
    before_holiday = datetime(2026, 9, 30, 16, 30, tzinfo=CHINA_TZ)
    assert national_day.add_working_hours(before_holiday, 1) == datetime(2026, 10, 9, 9, 30, tzinfo=CHINA_TZ)
    assert national_day.add_working_days(before_holiday, 2) == datetime(2026, 10, 10, 17, 0, tzinfo=CHINA_TZ)
    assert WorkingCalendar().add_working_hours(datetime(2026, 11, 23, 7, 0, tzinfo=CHINA_TZ), 2) == datetime(
        2026, 11, 23, 11, 0, tzinfo=CHINA_TZ
    )


def test_transcript_and_resident_are_stored_masked(session: Session) -> None:
    demo = demo_resident("employee")
    resident = verified(session, "employee")
    spaced_id = " ".join(demo.id_number[i : i + 4] for i in range(0, 18, 4))
    transcript = [
        f"居民：我叫{demo.name}，身份证{demo.id_number}，手机{demo.phone}",
        f"居民：再说一遍 {spaced_id}，电话 138-0000-0001，全角１３８００００００01",
        "助手：已为您转人工",
    ]
    receipt = open_ticket(
        session,
        category="身份核验失败",
        transcript=transcript,
        channel="wechat",
        sender_id="openid-1",
        resident=resident,
        summary=f"核验失败，号码{demo.id_number}",
    )
    session.commit()
    stored = session.scalars(select(Ticket).where(Ticket.number == receipt.number)).one()
    everything = f"{stored.transcript} {stored.summary} {stored.resident_masked}"
    for raw in (demo.id_number, demo.phone, spaced_id, "138-0000-0001", demo.name):
        assert raw not in everything
    assert "3601**********9014" in stored.transcript and "138****0001" in stored.transcript
    assert "我叫张**" in stored.transcript
    assert stored.resident_masked == "张** 3601**********9014" and stored.resident_id == resident.resident_id
    assert (stored.channel, stored.sender_id) == ("wechat", stored_sender("openid-1"))


def test_new_ticket_starts_at_received_with_one_event(session: Session) -> None:
    ticket = _open(session)
    assert ticket.status is S.RECEIVED and not ticket.supervised
    assert [(e.from_status, e.to_status) for e in ticket.events] == [(None, S.RECEIVED)]


def test_full_lifecycle_through_rating_is_recorded(session: Session) -> None:
    ticket = _open(session)
    for status in (S.DISPATCHED, S.HANDLING, S.ANSWERED, S.CLOSED, S.FOLLOWED_UP):
        transition(ticket, status, "agent:wang", f"to {status}")
    rate_ticket(ticket, Rating.SATISFIED, "rest:sender-1", "回复很及时")
    session.commit()
    assert ticket.status is S.RATED and ticket.rating is Rating.SATISFIED and ticket.rating_comment == "回复很及时"
    assert [e.to_status for e in ticket.events if e.kind is TicketEventKind.STATUS] == [
        S.RECEIVED,
        S.DISPATCHED,
        S.HANDLING,
        S.ANSWERED,
        S.CLOSED,
        S.FOLLOWED_UP,
        S.RATED,
    ]
    assert ticket.events[2].from_status is S.DISPATCHED and ticket.events[2].actor == "agent:wang"
    assert ticket.closed_at is not None and allowed_next(S.RATED) == []


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        ([], S.CLOSED),  # 受理 cannot be closed without handling and an answer
        ([], S.RATED),
        ([S.DISPATCHED], S.ANSWERED),  # an answer needs handling first
        ([S.HANDLING, S.ANSWERED, S.CLOSED], S.DISPATCHED),  # no going back to dispatch once closed
        ([S.HANDLING, S.ANSWERED, S.CLOSED], S.SUPERVISED),  # closed tickets are not supervised
    ],
)
def test_illegal_transitions_are_refused_and_change_nothing(
    session: Session, path: list[TicketStatus], illegal: TicketStatus
) -> None:
    ticket = _open(session)
    for status in path:
        transition(ticket, status, "agent:wang")
    before = (ticket.status, len(ticket.events))
    with pytest.raises(IllegalTransition, match="不能直接转为"):
        transition(ticket, illegal, "agent:wang")
    assert (ticket.status, len(ticket.events)) == before


def test_rating_before_the_answer_is_refused(session: Session) -> None:
    ticket = _open(session)
    transition(ticket, S.HANDLING, "agent:wang")
    with pytest.raises(IllegalTransition, match="答复后才能评价"):
        rate_ticket(ticket, "不满意", "rest:sender-1")
    assert ticket.rating is None


def test_unsatisfied_follow_up_reopens_the_ticket(session: Session) -> None:
    ticket = _open(session)
    for status in (S.HANDLING, S.ANSWERED, S.CLOSED, S.FOLLOWED_UP, S.HANDLING):
        transition(ticket, status, "agent:wang")
    assert ticket.status is S.HANDLING and ticket.closed_at is None


def test_overdue_open_tickets_are_supervised_once(session: Session) -> None:
    overdue = _open(session, category=TicketCategory.HUMAN_AGENT, sender_id="late")
    on_time = _open(session, category=TicketCategory.FRAUD_REPORT, sender_id="fine")
    answered = _open(session, category=TicketCategory.HUMAN_AGENT, sender_id="done")
    for status in (S.HANDLING, S.ANSWERED):
        transition(answered, status, "agent:wang")
    next_day = MONDAY_10AM + timedelta(days=1)

    [event] = supervise_overdue(session, now=next_day)
    assert (event.ticket.number, event.kind, event.due_at) == (overdue.number, SupervisionKind.OVERDUE, overdue.due_at)
    assert overdue.status is S.SUPERVISED and overdue.supervised and overdue.supervised_at == next_day
    assert on_time.status is S.RECEIVED and answered.status is S.ANSWERED
    transition(overdue, S.HANDLING, "agent:wang", "已督促办理")
    assert supervise_overdue(session, now=next_day + timedelta(hours=1)) == []
    assert overdue.supervised  # the flag stays for reporting after work resumed


def test_lifecycle_table_covers_every_status_and_only_rating_is_final() -> None:
    assert set(LEGAL_TRANSITIONS) == set(TicketStatus)
    assert [s for s, targets in LEGAL_TRANSITIONS.items() if not targets] == [S.RATED]


def test_agent_replies_are_queued_for_the_same_chat_and_delivered_once(session: Session) -> None:
    ticket = _open(session, sender_id="web:abc")
    other = _open(session, sender_id="web:other")
    add_agent_message(session, ticket, author="agent:wang", text="您好，已为您核实，请留意短信 13800000001")
    add_agent_message(session, other, author="agent:li", text="别人的回复")
    fetched = messages_for_sender(session, "web:abc")
    assert [(m.ticket_number, m.author) for m in fetched] == [(ticket.number, "agent:wang")]
    assert "13800000001" not in fetched[0].text and "138****0001" in fetched[0].text
    assert messages_for_sender(session, "web:abc", after_id=fetched[-1].message_id) == []
    # The web page fetched its reply; only the other resident's is still waiting for a channel to claim it.
    assert [m.author for m in claim_undelivered(session, sender_prefix="web:")] == ["agent:li"]
    assert claim_undelivered(session, sender_prefix="web:") == []


def test_progress_is_shown_only_to_the_chat_that_opened_the_ticket(session: Session) -> None:
    ticket = _open(session, sender_id="web-abc")
    transition(ticket, S.DISPATCHED, "agent:wang", "派至医保经办科")
    view = ticket_progress(session, ticket.number, sender_id="web-abc")
    assert view.status is S.DISPATCHED and [e[2] for e in view.events] == [S.RECEIVED, S.DISPATCHED]
    assert ticket_progress(session, ticket.number, sender_id="someone-else") is None
    assert ticket_progress(session, "12393-20000101-0001", sender_id="web-abc") is None
