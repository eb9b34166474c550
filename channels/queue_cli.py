"""`hotline queue …`: the messages residents left while the bot could not answer (channels/replay.py).

Gateway modules are imported inside the commands, so `hotline --help` stays instant."""

from __future__ import annotations

import asyncio

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(no_args_is_help=True)
console = Console()


@app.command("list")
def list_command() -> None:
    """列出系统繁忙时留存、尚未答复或未能送达的居民留言。"""
    from casework import journal
    from casework.db import session_scope
    from casework.enums import QueuedMessageStatus
    from hotline.privacy import mask_text
    from hotline.settings import get_settings

    statuses = (QueuedMessageStatus.QUEUED, QueuedMessageStatus.ANSWERED, QueuedMessageStatus.UNDELIVERABLE)
    with session_scope(get_settings().database_url) as session:
        rows = journal.queued_messages(session, statuses=statuses)
        table = Table(title=f"留存的居民留言（{len(rows)} 条）")
        for column in ("编号", "渠道", "留言时间", "状态", "重放次数", "留言（已脱敏）"):
            table.add_column(column)
        for row in rows:
            table.add_row(row.reference, row.channel, f"{row.created_at:%Y-%m-%d %H:%M}", str(row.status),
                          str(row.attempts), mask_text(row.message)[:30])
    console.print(table)


@app.command("replay")
def replay_command() -> None:
    """把留存的留言重新交给机器人，并把答复送达居民（微信：客服消息；网页：下次轮询）。"""
    from channels.replay import ReplayReport, replay_round
    from channels.services import Services
    from channels.wechat_api import WeChatApi
    from hotline.settings import get_settings

    async def once() -> ReplayReport:
        services = Services.build(get_settings())
        api = WeChatApi(services.settings)
        try:
            return await replay_round(services, api)
        finally:
            await api.aclose()
            await services.rasa.aclose()

    report = asyncio.run(once())
    console.print(f"已答复 {report.answered} 条，无法送达 {report.undeliverable} 条"
                  + ("；机器人仍不可用，其余留言稍后再试。" if report.bot_down else "。"))
    if report.bot_down:
        raise typer.Exit(code=1)
