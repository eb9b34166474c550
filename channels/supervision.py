"""Supervisors' views (`/api/supervision/…`, role 主管) and the gateway's periodic 督办 run.

Counts by day, intent, category, channel and state; SLA hit rate; the 回访 rate for 不满意 ratings; overdue tickets
and 督办 events; this week's most-asked policy questions (clustered by the passage that answered them); the
questions the documents could not answer, as JSON or CSV for the knowledge-base maintainers; and how agent
assist's suggestions fare (shown, inserted, marked useful or wrong).
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel

from casework import analytics
from casework.assist import assist_counts
from casework.column_types import CHINA_TZ
from casework.queue import QueueFilter, ticket_queue
from channels.deps import DbSession, Supervisor
from channels.desk_schemas import QueueItemOut
from hotline.settings import Settings

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/supervision", tags=["desk: supervision"])

Days = Annotated[int, Query(ge=1, le=366, description="最近多少天（含今天，按北京时间）")]


class Rate(BaseModel):
    numerator: int
    denominator: int
    rate: float | None


class Overview(BaseModel):
    days: list[str]
    conversations_by_channel: dict[str, dict[str, int]]
    turns_by_intent: dict[str, dict[str, int]]
    turns_by_outcome: dict[str, dict[str, int]]
    tickets_by_category: dict[str, dict[str, int]]
    tickets_by_channel: dict[str, dict[str, int]]
    tickets_by_state: dict[str, int]
    sla_hit: Rate
    sla_late: int
    sla_overdue_open: int
    sla_by_category: dict[str, Rate]
    callback: Rate  # 回访率 for 不满意 ratings
    callback_on_time: Rate
    callback_overdue_open: int
    assist_shown: int
    assist_inserted: int
    assist_useful: int
    assist_wrong: int


def _rate(numerator: int, denominator: int) -> Rate:
    return Rate(
        numerator=numerator, denominator=denominator, rate=numerator / denominator if denominator else None
    )


@router.get("/overview", response_model=Overview)
def overview(supervisor: Supervisor, db: DbSession, days: Days = 14) -> Overview:
    """Daily counts, SLA hit rate, 回访 rate and assist figures over the last `days` days."""
    since = analytics.window_start(days)
    counts = analytics.daily_counts(db, since=since)
    sla = analytics.sla_summary(db, since=since)
    callbacks = analytics.callback_summary(db, since=since)
    assist = assist_counts(db, since=since)
    return Overview(
        **vars(counts),
        sla_hit=_rate(sla.on_time, sla.decided),
        sla_late=sla.late,
        sla_overdue_open=sla.overdue_open,
        sla_by_category={c: _rate(hit, n) for c, (hit, n) in sla.by_category.items()},
        callback=_rate(callbacks.callbacks_done, callbacks.dissatisfied),
        callback_on_time=_rate(callbacks.done_on_time, callbacks.dissatisfied),
        callback_overdue_open=callbacks.open_overdue,
        assist_shown=assist.shown,
        assist_inserted=assist.inserted,
        assist_useful=assist.useful,
        assist_wrong=assist.wrong,
    )


@router.get("/overdue", response_model=list[QueueItemOut])
def overdue(supervisor: Supervisor, db: DbSession) -> list[QueueItemOut]:
    """Tickets whose answer or 回访 is past its time limit, most overdue first."""
    return [QueueItemOut.of(item) for item in ticket_queue(db, QueueFilter(overdue=True), me=supervisor)]


@router.get("/events", response_model=list[analytics.SupervisionLine])
def events(supervisor: Supervisor, db: DbSession, days: Days = 30) -> list[analytics.SupervisionLine]:
    """督办 events raised in the last `days` days, newest first."""
    return analytics.supervision_events(db, since=analytics.window_start(days))


@router.get("/hot-topics", response_model=list[analytics.HotTopic])
def hot_topics(
    supervisor: Supervisor, db: DbSession, days: Days = 7, limit: Annotated[int, Query(ge=1, le=50)] = 10
) -> list[analytics.HotTopic]:
    """The most-asked policy questions, paraphrases counted together (by the passage that answered them)."""
    return analytics.hot_topics(db, since=analytics.window_start(days), limit=limit)


@router.get("/unanswered", response_model=list[analytics.UnansweredQuestion])
def unanswered(supervisor: Supervisor, db: DbSession, days: Days = 7) -> list[analytics.UnansweredQuestion]:
    """Questions the documents could not answer (refused) or answered only with possibly related passages."""
    return analytics.unanswered_questions(db, since=analytics.window_start(days))


@router.get("/unanswered.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def unanswered_csv(supervisor: Supervisor, db: DbSession, days: Days = 7) -> Response:
    """The same list as CSV (UTF-8 with BOM, so spreadsheet programs show the Chinese correctly)."""
    rows = analytics.unanswered_questions(db, since=analytics.window_start(days))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["时间", "渠道", "问题", "结果", "意图", "最接近的条文"])
    for row in rows:
        writer.writerow(
            [
                row.occurred_at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M"),
                row.channel,
                _spreadsheet_safe(row.question),
                row.outcome,
                row.intent or "",
                row.closest_source or "",
            ]
        )
    return Response(
        content="\ufeff" + buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="unanswered-{days}d.csv"'},
    )


def _spreadsheet_safe(text: str) -> str:
    """A resident's text starting with = + - @ would run as a formula when the CSV is opened: quote it."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


# --- the periodic 督办 run ---------------------------------------------------------------------


def supervise_once(settings: Settings) -> int:
    from casework.db import session_scope
    from casework.supervision import supervise_overdue

    with session_scope(settings.database_url) as session:
        return len(supervise_overdue(session))


async def run_forever(settings: Settings) -> None:
    """Every `supervision_interval_seconds`: raise 督办 on tickets and 回访 past their time limit."""
    while True:
        try:
            raised = await asyncio.to_thread(supervise_once, settings)
            if raised:
                log.info("督办: %d new", raised)
        except Exception as error:  # noqa: BLE001 - a missing table or a locked database must not end the loop
            log.debug("supervision round failed: %r", error)
        await asyncio.sleep(settings.supervision_interval_seconds)
