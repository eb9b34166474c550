"""`hotline db …`: migrations, demo data, routine jobs. Database modules are imported inside the commands so
`hotline --help` stays instant and importing this module (rasa-sdk imports all of actions/) is free."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)

URL_OPTION = typer.Option(None, "--url", help="数据库地址（默认取 DATABASE_URL / settings.database_url）")


@app.command()
def setup(url: str | None = URL_OPTION) -> None:
    """迁移到最新结构并写入虚构的演示居民（可重复执行）。"""
    from casework.calendar import default_calendar
    from casework.column_types import china_today
    from casework.db import resolve_url, session_scope, upgrade
    from casework.desk_demo import DEMO_AGENTS, seed_desk_demo
    from casework.seed import seed_demo_data
    from hotline.privacy import mask_text
    from hotline.settings import get_settings

    # Demo logins have published passwords: never in production (`hotline db add-agent` makes real ones).
    production = get_settings().hotline_env == "production"
    upgrade(url)
    with session_scope(url) as session:
        report = seed_demo_data(session)
        desk = seed_desk_demo(session) if not production else None
    typer.echo(f"数据库已就绪：{mask_text(_safe(resolve_url(url)))}")
    typer.echo(
        f"演示居民：新增 {len(report.created)} 位，已存在 {len(report.existing)} 位"
        "（查看：hotline db demo-residents）"
    )
    if desk and desk.agents:
        logins = "、".join(f"{a.username}（{a.role}）" for a in DEMO_AGENTS)
        typer.echo(f"坐席工作台演示账号：{logins}，演示工单 {len(desk.tickets)} 件（密码见 README）")
    today = china_today()
    missing = default_calendar().missing_years(today.year, today.year + 1)
    if missing:
        typer.echo(
            f"注意：工作日历未包含 {'、'.join(map(str, missing))} 年的法定节假日和调休安排，办理时限将只按周末计算；"
            "请在 casework/working_calendar.yaml 中补充。"
        )


@app.command()
def upgrade(url: str | None = URL_OPTION, revision: str = typer.Option("head", help="目标版本")) -> None:
    """只做结构迁移（Alembic），不写演示数据。"""
    from casework import db

    db.upgrade(url, revision)
    typer.echo(f"已迁移到 {db.current_revision(url)}")


@app.command("demo-residents")
def demo_residents() -> None:
    """列出演示居民的完整身份信息（虚构数据，仅供测试核验流程）。"""
    # The one place full ID numbers are printed: they are invented, and testers need them to log in.
    from rich.console import Console
    from rich.table import Table

    from casework.seed import DEMO_RESIDENTS

    table = Table(title="演示居民（虚构数据，不对应任何真实人员；仅用于测试身份核验与查询）")
    for column in ("姓名", "身份证号（虚构）", "手机（虚构）", "险种", "说明"):
        table.add_column(column)
    for demo in DEMO_RESIDENTS:
        table.add_row(
            demo.name, demo.id_number, demo.phone, demo.scheme.value if demo.scheme else "—", demo.description
        )
    Console(width=160).print(table)


@app.command()
def supervise(url: str | None = URL_OPTION) -> None:
    """对超过时限的未答复工单和超时回访发起督办（网关每分钟自动执行一次；也适合定时任务）。"""
    from casework.db import session_scope
    from casework.supervision import supervise_overdue

    with session_scope(url) as session:
        raised = [f"{event.ticket.number}（{event.kind}）" for event in supervise_overdue(session)]
    typer.echo(f"新增督办 {len(raised)} 件" + (f"：{'、'.join(raised)}" if raised else ""))


@app.command("add-agent")
def add_agent(
    username: str = typer.Argument(..., help="登录名"),
    display_name: str = typer.Option(..., "--name", help="显示的姓名，例如 王芳"),
    supervisor: bool = typer.Option(False, "--supervisor", help="主管（可查看督办与统计、改派任何工单）"),
    url: str | None = URL_OPTION,
) -> None:
    """新增坐席或主管账号；密码在提示时输入（不出现在命令行和历史记录里）。"""
    from casework.agents import WeakPassword, create_agent, find_agent
    from casework.db import session_scope
    from casework.enums import AgentRole

    password = typer.prompt("密码", hide_input=True, confirmation_prompt=True)
    with session_scope(url) as session:
        if find_agent(session, username) is not None:
            raise typer.BadParameter(f"登录名 {username} 已存在")
        role = AgentRole.SUPERVISOR if supervisor else AgentRole.AGENT
        try:
            create_agent(session, username=username, display_name=display_name, role=role, password=password)
        except WeakPassword as error:
            raise typer.BadParameter(str(error)) from None
    typer.echo(f"已新增{role}账号：{username}")


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
