"""`hotline run`: start the action server, Rasa server and gateway; stop them all on Ctrl-C or SIGTERM.

It builds nothing (`make run` does the setup first); it checks that each piece exists and says which make
target provides a missing one. The processes are supervised by hotline/processes.py, the same code the
end-to-end tests use; each runs in its own process group, so stopping leaves no orphans.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from hotline.settings import Settings, get_settings

if TYPE_CHECKING:
    from hotline.processes import ServiceGroup, ServiceSpec

app = typer.Typer()
console = Console()


def missing_pieces(settings: Settings) -> list[str]:
    """What `hotline run` needs and cannot find, each with the command that provides it."""
    problems: list[str] = []
    if not settings.rasa_executable.exists():
        problems.append(f"Rasa 未安装（{settings.rasa_executable}）：请运行 `make setup`")
    model = settings.rasa_model_dir / "hotline.tar.gz"
    if not model.exists():
        problems.append(f"没有训练好的 Rasa 模型（{model}）：请运行 `make bot`")
    if not (settings.index_dir / "manifest.json").exists():
        problems.append(f"没有检索索引（{settings.index_dir}）：请运行 `make index`")
    if settings.database_url.startswith("sqlite:///"):
        database = Path(settings.database_url.removeprefix("sqlite:///"))
        if not database.exists():
            problems.append(f"没有数据库（{database}）：请运行 `make db`")
    return problems


def _stop_on_signals() -> None:
    # Without this, SIGTERM or a closed terminal would end the launcher at once and leave the three servers
    # running; SIGINT is set explicitly because a shell starts background jobs with it ignored.
    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)


@app.command()
def run() -> None:
    """启动助手：动作服务器、Rasa 服务器和网关（Ctrl-C 全部停止）。"""
    from hotline.processes import ServiceGroup, action_server_spec, gateway_spec, rasa_server_spec

    settings = _settings_with_secrets()
    problems = missing_pieces(settings)
    if problems:
        console.print("[red]无法启动，缺少以下部分：[/red]")
        for problem in problems:
            console.print(f"  · {problem}")
        console.print("或直接运行 `make run`，它会先准备好缺少的部分。")
        raise typer.Exit(code=2)

    # Ports may be overridden one by one (RASA_PORT …); the URLs between the processes follow them.
    action_url = f"http://127.0.0.1:{settings.action_server_port}/webhook"
    rasa_url = f"http://127.0.0.1:{settings.rasa_port}"
    specs = [
        action_server_spec(settings),
        rasa_server_spec(settings, action_server_url=action_url),
        gateway_spec(settings, rasa_url=rasa_url, action_server_url=action_url),
    ]
    group = ServiceGroup(specs, log_dir=settings.log_dir)
    supervise(group, [[spec] for spec in specs], lambda: _print_urls(settings),
              "正在启动动作服务器、Rasa 服务器和网关（首次启动约需一两分钟）…")


def supervise(group: ServiceGroup, tiers: list[list[ServiceSpec]], started: Callable[[], None], status: str) -> None:
    """Start each tier together (each healthy before the next tier), then watch: stop everything on Ctrl-C,
    SIGTERM or SIGHUP, or when one process exits on its own."""
    from hotline.processes import ServiceStartError

    _stop_on_signals()
    try:
        with console.status(status):
            for tier in tiers:
                group.start_together(tier)
        started()
        while True:
            for service in group.running:
                if service.process.poll() is not None:
                    console.print(
                        f"[red]{service.spec.name} 意外退出（代码 {service.process.returncode}），"
                        f"日志：{service.log_path}[/red]\n{service.log_tail()}"
                    )
                    raise typer.Exit(code=1)
            time.sleep(1.0)
    except ServiceStartError as error:
        console.print(f"[red]启动失败：[/red]{error}")
        raise typer.Exit(code=1) from None
    except KeyboardInterrupt:
        console.print("\n正在停止…")
    finally:
        group.stop()
    console.print("已全部停止。")


def _settings_with_secrets() -> Settings:
    """The settings, after generating development secrets on first start; a clear refusal in production."""
    from hotline.secrets import InsecureSettings, ensure_secrets_file
    from hotline.settings import secrets_file

    try:
        if get_settings().hotline_env == "development":
            added = ensure_secrets_file(secrets_file())
            if added:
                console.print(f"已生成开发用密钥 {', '.join(added)}（{secrets_file()}，仅本人可读）")
            get_settings.cache_clear()
        return get_settings()
    except InsecureSettings as error:
        console.print(f"[red]无法启动：[/red]{error}")
        raise typer.Exit(code=2) from None


def _print_urls(settings: Settings) -> None:
    base = f"http://{settings.gateway_host}:{settings.gateway_port}"
    console.print("[green]医保政策助手已启动[/green]")
    console.print(f"  网页聊天      {base}/")
    console.print(
        f"  聊天 API      {base}/api/chat   （Rasa REST 格式；先 POST {base}/api/session 取得会话）"
    )
    console.print(f"  微信公众号    {base}/wechat     （在公众号后台填写的服务器地址）")
    console.print(f"  坐席工作台    {base}/desk       （演示账号见 README；主管另有 {base}/desk/supervision）")
    console.print(f"  健康检查      {base}/healthz")
    console.print(f"  Rasa 服务器   http://{settings.rasa_host}:{settings.rasa_port}（仅网关可用：消息签名，API 令牌）")
    console.print(f"  日志目录      {settings.log_dir}")
    console.print("按 Ctrl-C 停止。")
