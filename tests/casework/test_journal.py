"""The gateway's records as tables: queued messages (kept, leased to one replayer, answered once), feedback,
undeliverable answers — masked, with the sender sealed only until the answer is delivered."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from casework import journal
from casework.column_types import utc_now
from casework.db import session_scope, upgrade
from casework.enums import QueuedMessageStatus
from casework.models import Feedback, QueuedMessage, UndeliverableAnswer
from casework.senders import stored_sender

WEB = "web:resident-one"
OTHER = "web:resident-two"


def _queue(session: Session, sender: str, text: str, minutes_ago: int = 0) -> str:
    return journal.queue_message(session, channel="web", sender_id=sender, message=text, reason="Rasa down",
                                 now=utc_now() - timedelta(minutes=minutes_ago))


def test_a_queued_message_is_masked_and_its_sender_sealed(session: Session) -> None:
    reference = _queue(session, WEB, "我的身份证 360102198503129014 手机 13800000001")
    row = session.scalars(select(QueuedMessage)).one()
    assert row.reference == reference and len(reference) == 8
    assert "3601**********9014" in row.message and "138****0001" in row.message
    assert row.sender == stored_sender(WEB) and WEB not in (row.reply_to or "")  # sealed, not readable
    assert row.status == QueuedMessageStatus.QUEUED


def test_queueing_the_same_reference_twice_keeps_one_row(session: Session) -> None:
    first = journal.queue_message(session, channel="web", sender_id=WEB, message="你好", reason="down",
                                  reference="ABCD1234")
    again = journal.queue_message(session, channel="web", sender_id=WEB, message="你好", reason="down",
                                  reference="ABCD1234")
    assert first == again == "ABCD1234"
    assert len(session.scalars(select(QueuedMessage)).all()) == 1


def test_one_conversation_is_claimed_whole_oldest_first_and_leased(session: Session) -> None:
    _queue(session, WEB, "第一句", minutes_ago=3)
    _queue(session, OTHER, "别人的话", minutes_ago=2)
    _queue(session, WEB, "第二句", minutes_ago=1)
    claimed = journal.claim_next_conversation(session)
    assert [m.message for m in claimed] == ["第一句", "第二句"]
    assert {m.sender_id for m in claimed} == {WEB}  # unsealed for the replayer
    # Leased: the next claim takes the other conversation, and then nothing until the lease runs out.
    assert [m.message for m in journal.claim_next_conversation(session)] == ["别人的话"]
    assert journal.claim_next_conversation(session) == []
    later = utc_now() + journal.REPLAY_LEASE + timedelta(seconds=1)
    assert len(journal.claim_next_conversation(session, now=later)) == 2


def test_a_released_message_can_be_claimed_at_once(session: Session) -> None:
    _queue(session, WEB, "你好")
    [claimed] = journal.claim_next_conversation(session)
    journal.release(session, claimed.id)
    assert [m.id for m in journal.claim_next_conversation(session)] == [claimed.id]


def test_a_web_answer_waits_for_the_page_and_is_given_once(session: Session) -> None:
    _queue(session, WEB, "门诊能报多少")
    [claimed] = journal.claim_next_conversation(session)
    journal.record_answer(session, claimed.id, "门诊报销比例为50%", delivered=False)
    assert journal.answers_for_sender(session, OTHER) == []
    [answer] = journal.answers_for_sender(session, WEB)
    assert answer.answer == "门诊报销比例为50%" and answer.reference == claimed.reference
    assert journal.answers_for_sender(session, WEB) == []
    row = session.get(QueuedMessage, claimed.id)
    assert row.status == QueuedMessageStatus.DELIVERED and row.reply_to is None  # nothing more goes there


def test_an_answer_that_cannot_be_delivered_stays_for_staff(session: Session) -> None:
    _queue(session, "wechat:oAbc", "报销进度")
    [claimed] = journal.claim_next_conversation(session)
    journal.record_undelivered_answer(session, claimed.id, "答复", "WeChat API error 45015")
    listed = journal.queued_messages(session, statuses=(QueuedMessageStatus.UNDELIVERABLE,))
    assert [row.reference for row in listed] == [claimed.reference]


def test_feedback_and_undeliverable_answers_are_masked(session: Session) -> None:
    journal.record_feedback(session, sender_id=WEB, rating="down", answer="请拨打 13800000001",
                            question="我的身份证 360102198503129014", comment=None)
    journal.record_undeliverable(session, sender_id="wechat:oAbc", text="您的手机 13800000001", reason="45015",
                                 errcode=45015, ticket_number="12393-20261203-0001")
    session.flush()
    feedback = session.scalars(select(Feedback)).one()
    undeliverable = session.scalars(select(UndeliverableAnswer)).one()
    assert "138****0001" in feedback.answer and "3601**********9014" in (feedback.question or "")
    assert feedback.sender == stored_sender(WEB)
    assert undeliverable.errcode == 45015 and "138****0001" in undeliverable.text


@pytest.mark.postgres
def test_two_replayers_on_postgresql_never_take_the_same_conversation(postgres_url: str) -> None:
    upgrade(postgres_url)
    with session_scope(postgres_url) as session:
        _queue(session, WEB, "第一句")
        _queue(session, OTHER, "第二句")
    with session_scope(postgres_url) as first, session_scope(postgres_url) as second:
        mine = journal.claim_next_conversation(first)  # rows locked until `first` commits
        theirs = journal.claim_next_conversation(second)
        assert {m.sender_id for m in mine} == {WEB} and {m.sender_id for m in theirs} == {OTHER}
