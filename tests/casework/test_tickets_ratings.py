"""Ratings after the answer (满意 / 基本满意 / 不满意) and the 回访 a 不满意 opens."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from casework.callbacks import complete_callback
from casework.column_types import CHINA_TZ
from casework.enums import MessageKind, Rating, SupervisionKind, TicketEventKind, TicketStatus
from casework.lifecycle import IllegalTransition, transition
from casework.models import Ticket
from casework.ratings import rate_ticket
from casework.replies import invite_rating, messages_for_sender
from casework.supervision import supervise_overdue
from casework.tickets import find_ticket, latest_rateable_ticket, open_ticket

MONDAY_10AM = datetime(2026, 11, 23, 10, 0, tzinfo=CHINA_TZ)
S = TicketStatus


def answered_ticket(session: Session, sender: str = "web:rater") -> Ticket:
    receipt = open_ticket(
        session,
        category="投诉",
        transcript="居民：窗口不给办",
        channel="web",
        sender_id=sender,
        now=MONDAY_10AM,
    )
    ticket = find_ticket(session, receipt.number)
    for status in (S.HANDLING, S.ANSWERED):
        transition(ticket, status, "agent:wang", now=MONDAY_10AM + timedelta(hours=1))
    return ticket


def statuses(ticket: Ticket) -> list[TicketStatus]:
    return [e.to_status for e in ticket.events if e.kind is TicketEventKind.STATUS]


@pytest.mark.parametrize("rating", [Rating.SATISFIED, Rating.BASICALLY_SATISFIED])
def test_a_satisfied_rating_after_the_answer_closes_the_ticket(session: Session, rating: Rating) -> None:
    ticket = answered_ticket(session)
    outcome = rate_ticket(ticket, rating, "web:rater", "解释得很清楚")
    assert outcome.status is S.RATED and outcome.callback_due is None
    assert statuses(ticket)[-3:] == [S.ANSWERED, S.CLOSED, S.RATED]
    assert ticket.rating is rating and ticket.rating_comment == "解释得很清楚" and ticket.callbacks == []


def test_dissatisfied_opens_a_callback_due_in_ten_working_days(session: Session) -> None:
    ticket = answered_ticket(session)
    monday = datetime(2026, 11, 30, 9, 30, tzinfo=CHINA_TZ)
    outcome = rate_ticket(ticket, "不满意", "web:rater", "问题没解决，电话13800000001", now=monday)
    # Ten working days after Monday 30 November: Monday 14 December at closing time.
    assert outcome.callback_due == datetime(2026, 12, 14, 17, 0, tzinfo=CHINA_TZ)
    assert ticket.status is S.FOLLOWED_UP and len(ticket.callbacks) == 1
    assert "13800000001" not in ticket.rating_comment and "138****0001" in ticket.rating_comment
    kinds = [e.kind for e in ticket.events]
    assert TicketEventKind.RATING in kinds and TicketEventKind.CALLBACK in kinds


def test_a_ticket_with_an_open_callback_cannot_be_closed(session: Session) -> None:
    ticket = answered_ticket(session)
    rate_ticket(ticket, Rating.DISSATISFIED, "web:rater")
    with pytest.raises(IllegalTransition, match="回访任务尚未完成"):
        transition(ticket, S.CLOSED, "agent:wang")
    assert ticket.status is S.FOLLOWED_UP


def test_completing_the_callback_tells_the_resident_and_closes_the_ticket(session: Session) -> None:
    ticket = answered_ticket(session, sender="web:unhappy")
    rate_ticket(ticket, Rating.DISSATISFIED, "web:unhappy")
    complete_callback(ticket, "agent:li", "已督促窗口整改，并为您办结了报销")
    session.flush()
    assert ticket.status is S.RATED and ticket.callbacks[0].done_by == "agent:li"
    assert statuses(ticket)[-2:] == [S.CLOSED, S.RATED]
    [feedback] = messages_for_sender(session, "web:unhappy")
    assert feedback.kind is MessageKind.CALLBACK_FEEDBACK and "已督促窗口整改" in feedback.text


def test_a_callback_finding_the_problem_unsolved_reopens_the_ticket(session: Session) -> None:
    ticket = answered_ticket(session)
    rate_ticket(ticket, Rating.DISSATISFIED, "web:rater")
    complete_callback(ticket, "agent:li", "居民反映药店仍未整改，重新办理", reopen=True)
    assert ticket.status is S.HANDLING and ticket.callbacks[0].done_at is not None
    transition(ticket, S.ANSWERED, "agent:li", "再次答复")
    assert rate_ticket(ticket, Rating.SATISFIED, "web:rater").status is S.RATED


def test_an_empty_callback_outcome_or_no_open_task_is_refused(session: Session) -> None:
    ticket = answered_ticket(session)
    with pytest.raises(IllegalTransition, match="没有待完成的回访任务"):
        complete_callback(ticket, "agent:li", "已回访")
    rate_ticket(ticket, Rating.DISSATISFIED, "web:rater")
    with pytest.raises(IllegalTransition, match="请填写回访情况"):
        complete_callback(ticket, "agent:li", "   ")


def test_a_rated_ticket_cannot_be_rated_again(session: Session) -> None:
    ticket = answered_ticket(session)
    rate_ticket(ticket, Rating.SATISFIED, "web:rater")
    with pytest.raises(IllegalTransition, match="已经评价过了"):
        rate_ticket(ticket, Rating.DISSATISFIED, "web:rater")
    assert ticket.rating is Rating.SATISFIED


def test_one_rating_per_answer_even_while_the_callback_is_open(session: Session) -> None:
    ticket = answered_ticket(session)
    rate_ticket(ticket, Rating.DISSATISFIED, "web:rater", now=MONDAY_10AM + timedelta(hours=2))
    with pytest.raises(IllegalTransition, match="已经评价过了"):
        rate_ticket(ticket, Rating.SATISFIED, "web:rater", now=MONDAY_10AM + timedelta(hours=3))
    assert ticket.rating is Rating.DISSATISFIED and ticket.status is S.FOLLOWED_UP


def test_an_overdue_callback_raises_supervision_once(session: Session) -> None:
    ticket = answered_ticket(session)
    rate_ticket(ticket, Rating.DISSATISFIED, "web:rater", now=MONDAY_10AM + timedelta(hours=2))
    due = ticket.callbacks[0].due_at
    assert supervise_overdue(session, now=due - timedelta(minutes=1)) == []
    [event] = supervise_overdue(session, now=due + timedelta(minutes=1))
    assert event.kind is SupervisionKind.CALLBACK_OVERDUE and event.ticket is ticket
    assert supervise_overdue(session, now=due + timedelta(days=1)) == []
    assert ticket.status is S.FOLLOWED_UP  # still owed: supervision pushes, it does not close


def test_the_latest_answered_ticket_waiting_for_a_rating_is_found_by_its_chat(session: Session) -> None:
    older, newer = answered_ticket(session, "web:me"), answered_ticket(session, "web:me")
    newer.answered_at = older.answered_at + timedelta(hours=1)
    answered_ticket(session, "web:someone-else")
    session.flush()
    assert latest_rateable_ticket(session, "web:me") is newer
    rate_ticket(newer, Rating.SATISFIED, "web:me")
    session.flush()
    assert latest_rateable_ticket(session, "web:me") is older
    assert latest_rateable_ticket(session, "web:nobody") is None


def test_the_rating_invitation_goes_to_the_residents_chat(session: Session) -> None:
    ticket = answered_ticket(session, "web:invited")
    invite_rating(ticket)
    session.flush()
    [invitation] = messages_for_sender(session, "web:invited")
    assert invitation.kind is MessageKind.RATING_INVITATION and ticket.number in invitation.text
    assert "满意、基本满意或不满意" in invitation.text
