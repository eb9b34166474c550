"""`hotline db …`: migrations, demo data, routine jobs. Database modules are imported inside the commands so
`hotline --help` stays instant and importing this module (rasa-sdk imports all of actions/) is free."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)

URL_OPTION = typer.Option(None, "--url", help="数据库地址（默认取 DATABASE_URL / settings.database_url）")


@app.command()
def setup(url: str | None = URL_OPTION) -> None:
    """迁移到最新结构并写入虚构的演示居民（可重复执行）。"""
    from casework.db import resolve_url, session_scope, upgrade
    from casework.seed import seed_demo_data
    from hotline.privacy import mask_text

    upgrade(url)
    with session_scope(url) as session:
        report = seed_demo_data(session)
    typer.echo(f"数据库已就绪：{mask_text(_safe(resolve_url(url)))}")
    typer.echo(
        f"演示居民：新增 {len(report.created)} 位，已存在 {len(report.existing)} 位"
        "（查看：hotline db demo-residents）"
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
    """把超过办理时限的未办结工单转为督办（适合定时执行）。"""
    from casework.db import session_scope
    from casework.tickets import supervise_overdue

    with session_scope(url) as session:
        numbers = supervise_overdue(session)
    typer.echo(f"新增督办工单 {len(numbers)} 件" + (f"：{'、'.join(numbers)}" if numbers else ""))


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
