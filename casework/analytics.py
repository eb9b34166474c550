"""What supervisors read: daily counts, SLA hit rate, the 回访 rate for 不满意 ratings, this week's most-asked policy
questions (paraphrases counted together) and the questions the documents could not answer.

Days are China dates. Rows of the window are read and bucketed here rather than grouped in SQL, so the same code
runs on SQLite and PostgreSQL (their date functions differ); a window of weeks holds at most some ten thousand
rows on a hotline of this size.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.column_types import CHINA_TZ, utc_now
from casework.enums import SupervisionKind, TicketCategory, TicketStatus, TurnOutcome
from casework.models import CallbackTask, ConversationTurn, SupervisionEvent, Ticket

UNKNOWN_INTENT = "（未识别）"


def china_day(moment: datetime) -> date:
    return moment.astimezone(CHINA_TZ).date()


def window_start(days: int, *, now: datetime | None = None) -> datetime:
    """Midnight (China time) `days - 1` days ago: a window of `days` whole China days including today."""
    today = china_day(now or utc_now())
    return datetime.combine(today - timedelta(days=days - 1), datetime.min.time(), CHINA_TZ)


Breakdown = dict[str, dict[str, int]]  # day (ISO) → key → count


@dataclass(frozen=True)
class DailyCounts:
    days: list[str]
    conversations_by_channel: Breakdown
    turns_by_intent: Breakdown
    turns_by_outcome: Breakdown
    tickets_by_category: Breakdown
    tickets_by_channel: Breakdown
    tickets_by_state: dict[str, int]  # current state of the window's tickets


def daily_counts(session: Session, *, since: datetime, until: datetime | None = None) -> DailyCounts:
    until = until or utc_now()
    days = [d.isoformat() for d in _days(china_day(since), china_day(until))]
    turns = session.execute(
        select(
            ConversationTurn.occurred_at,
            ConversationTurn.channel,
            ConversationTurn.conversation,
            ConversationTurn.intent,
            ConversationTurn.outcome,
        ).where(ConversationTurn.occurred_at >= since, ConversationTurn.occurred_at < until)
    ).all()
    conversations: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    by_intent: Breakdown = defaultdict(Counter)
    by_outcome: Breakdown = defaultdict(Counter)
    for occurred_at, channel, conversation, intent, outcome in turns:
        day = china_day(occurred_at).isoformat()
        conversations[day][channel].add(conversation)
        by_intent[day][intent or UNKNOWN_INTENT] += 1
        by_outcome[day][str(outcome)] += 1
    tickets = session.execute(
        select(Ticket.created_at, Ticket.category, Ticket.channel, Ticket.status).where(
            Ticket.created_at >= since, Ticket.created_at < until, Ticket.merged_into_id.is_(None)
        )
    ).all()
    by_category: Breakdown = defaultdict(Counter)
    by_channel: Breakdown = defaultdict(Counter)
    by_state: Counter[str] = Counter()
    for created_at, category, channel, status in tickets:
        day = china_day(created_at).isoformat()
        by_category[day][str(category)] += 1
        by_channel[day][channel] += 1
        by_state[str(status)] += 1
    return DailyCounts(
        days=days,
        conversations_by_channel={d: {c: len(s) for c, s in v.items()} for d, v in conversations.items()},
        turns_by_intent=_plain(by_intent),
        turns_by_outcome=_plain(by_outcome),
        tickets_by_category=_plain(by_category),
        tickets_by_channel=_plain(by_channel),
        tickets_by_state={s.value: by_state[s.value] for s in TicketStatus if by_state[s.value]},
    )


@dataclass(frozen=True)
class SlaSummary:
    decided: int  # tickets answered, or past their due time unanswered
    on_time: int
    late: int  # answered after the due time
    overdue_open: int  # past the due time, still not answered
    by_category: dict[str, tuple[int, int]] = field(default_factory=dict)  # category → (on time, decided)

    @property
    def hit_rate(self) -> float | None:
        return self.on_time / self.decided if self.decided else None


def sla_summary(
    session: Session, *, since: datetime, until: datetime | None = None, now: datetime | None = None
) -> SlaSummary:
    """Time-limit hit rate of the tickets opened in the window whose outcome is known."""
    until, now = until or utc_now(), now or utc_now()
    rows = session.execute(
        select(Ticket.category, Ticket.due_at, Ticket.answered_at).where(
            Ticket.created_at >= since, Ticket.created_at < until, Ticket.merged_into_id.is_(None)
        )
    ).all()
    on_time = late = overdue = 0
    per_category: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for category, due_at, answered_at in rows:
        if answered_at is None and due_at >= now:
            continue  # still within its limit: not decided yet
        hit = answered_at is not None and answered_at <= due_at
        on_time += hit
        late += answered_at is not None and not hit
        overdue += answered_at is None
        per_category[str(category)][0] += hit
        per_category[str(category)][1] += 1
    return SlaSummary(
        on_time + late + overdue, on_time, late, overdue, {c: (v[0], v[1]) for c, v in per_category.items()}
    )


@dataclass(frozen=True)
class CallbackSummary:
    dissatisfied: int  # 不满意 ratings in the window (each opens one 回访 task)
    callbacks_done: int  # of their 回访 tasks, done
    done_on_time: int  # done within the limit (10 working days)
    open_overdue: int  # not done and past the limit

    @property
    def callback_rate(self) -> float | None:
        """回访率 for 不满意 ratings (南昌: 100% is the target)."""
        return self.callbacks_done / self.dissatisfied if self.dissatisfied else None

    @property
    def on_time_rate(self) -> float | None:
        return self.done_on_time / self.dissatisfied if self.dissatisfied else None


def callback_summary(
    session: Session, *, since: datetime, until: datetime | None = None, now: datetime | None = None
) -> CallbackSummary:
    until, now = until or utc_now(), now or utc_now()
    tasks = session.execute(
        select(CallbackTask.due_at, CallbackTask.done_at).where(
            CallbackTask.opened_at >= since, CallbackTask.opened_at < until
        )
    ).all()
    return CallbackSummary(
        dissatisfied=len(tasks),
        callbacks_done=sum(done is not None for _, done in tasks),
        done_on_time=sum(done is not None and done <= due for due, done in tasks),
        open_overdue=sum(done is None and due < now for due, done in tasks),
    )


@dataclass(frozen=True)
class HotTopic:
    chunk_id: str
    source: str  # the passage that answered: 《document》 · section
    asked: int  # how many times
    conversations: int  # by how many conversations
    examples: list[str]  # distinct phrasings, most frequent first


def hot_topics(
    session: Session, *, since: datetime, until: datetime | None = None, limit: int = 10, examples: int = 3
) -> list[HotTopic]:
    """The most-asked policy questions, clustered by the passage that answered them: "门诊慢特病怎么申请" and
    "慢性病门诊要办什么手续" count as one topic when the same passage answers both."""
    rows = session.execute(
        select(
            ConversationTurn.answer_chunk_id,
            ConversationTurn.answer_source,
            ConversationTurn.question,
            ConversationTurn.conversation,
        ).where(
            ConversationTurn.occurred_at >= since,
            ConversationTurn.occurred_at < (until or utc_now()),
            ConversationTurn.outcome == TurnOutcome.ANSWERED,
            ConversationTurn.answer_chunk_id.is_not(None),
        )
    ).all()
    clusters: dict[str, list[tuple[str | None, str, str]]] = defaultdict(list)
    for chunk_id, source, question, conversation in rows:
        clusters[chunk_id].append((source, question, conversation))
    topics = [
        HotTopic(
            chunk_id=chunk_id,
            source=next((s for s, _, _ in members if s), chunk_id),
            asked=len(members),
            conversations=len({c for _, _, c in members}),
            examples=[q for q, _ in Counter(q.strip() for _, q, _ in members).most_common(examples)],
        )
        for chunk_id, members in clusters.items()
    ]
    return sorted(topics, key=lambda t: (-t.asked, -t.conversations, t.chunk_id))[:limit]


@dataclass(frozen=True)
class UnansweredQuestion:
    occurred_at: datetime
    channel: str
    question: str
    outcome: TurnOutcome  # 未找到答案 (refused) or 低置信回答 (only possibly related passages)
    intent: str | None
    closest_source: str | None  # the passage shown as possibly related, if any


def unanswered_questions(
    session: Session, *, since: datetime, until: datetime | None = None, limit: int = 1000
) -> list[UnansweredQuestion]:
    """Questions the documents could not answer, newest first: for the maintainers of the knowledge base."""
    rows = session.execute(
        select(
            ConversationTurn.occurred_at,
            ConversationTurn.channel,
            ConversationTurn.question,
            ConversationTurn.outcome,
            ConversationTurn.intent,
            ConversationTurn.answer_source,
        )
        .where(
            ConversationTurn.occurred_at >= since,
            ConversationTurn.occurred_at < (until or utc_now()),
            ConversationTurn.outcome.in_((TurnOutcome.ABSTAINED, TurnOutcome.LOW_CONFIDENCE)),
        )
        .order_by(ConversationTurn.occurred_at.desc())
        .limit(limit)
    ).all()
    return [
        UnansweredQuestion(at, channel, question, TurnOutcome(outcome), intent, source)
        for at, channel, question, outcome, intent, source in rows
    ]


@dataclass(frozen=True)
class SupervisionLine:
    raised_at: datetime
    number: str
    kind: SupervisionKind
    category: TicketCategory
    status: TicketStatus
    due_at: datetime
    assignee: str | None
    note: str


def supervision_events(session: Session, *, since: datetime, limit: int = 500) -> list[SupervisionLine]:
    events = session.scalars(
        select(SupervisionEvent)
        .where(SupervisionEvent.raised_at >= since)
        .order_by(SupervisionEvent.raised_at.desc())
        .limit(limit)
    ).all()
    return [
        SupervisionLine(
            e.raised_at,
            e.ticket.number,
            SupervisionKind(e.kind),
            TicketCategory(e.ticket.category),
            TicketStatus(e.ticket.status),
            e.due_at,
            e.ticket.assignee.display_name if e.ticket.assignee else None,
            e.note,
        )
        for e in events
    ]


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _plain(breakdown: Breakdown) -> Breakdown:
    return {day: dict(counts) for day, counts in breakdown.items()}
