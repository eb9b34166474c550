"""`hotline eval assist`: how fast agents get suggested answers, measured through the desk's own API.

It starts an action server, a Rasa server and a gateway on free ports over a fresh demo database, logs in as the
demo agent and times `POST /api/assist` for each question (one at a time, as an agent asks), after a warm-up.
For the breakdown it also times the two calls the gateway makes in parallel: the action server's retrieval
(`/assist`) and Rasa's NLU (`/model/parse`). The target of issue 11 is p95 ≤ 150 ms on this machine.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.table import Table

from eval.latency import LatencyFigures, _load_questions, summarise

app = typer.Typer()
console = Console()
WARM_UP = 5


def _timed(name: str, bodies: list[dict], post: Callable[[dict], httpx.Response]) -> LatencyFigures:
    durations: list[float] = []
    errors = 0
    started = time.perf_counter()
    for body in bodies:
        start = time.perf_counter()
        response = post(body)
        durations.append((time.perf_counter() - start) * 1000)
        errors += response.status_code != 200
    return summarise(name, durations, time.perf_counter() - started, 1, errors)


def _demo_database(path: Path) -> str:
    from casework.db import session_scope, upgrade
    from casework.desk_demo import seed_desk_demo
    from casework.seed import seed_demo_data

    url = f"sqlite:///{path}"
    upgrade(url)
    with session_scope(url) as session:
        seed_demo_data(session)
        seed_desk_demo(session)
    return url


@app.command()
def assist(
    questions: Annotated[Path, typer.Option(exists=True, help="问题集 YAML")] = Path(
        "eval/questions/dev.yaml"
    ),
    n: Annotated[int, typer.Option(min=1, help="最多使用多少个问题")] = 100,
    json_out: Annotated[Path | None, typer.Option("--json", help="把结果写成 JSON")] = None,
) -> None:
    """坐席建议答案 POST /api/assist 的延迟（p50/p95），及其检索与意图识别两部分。"""
    from actions.server import action_server_auth_headers
    from casework.desk_demo import DEMO_AGENTS
    from hotline.processes import ServiceGroup, stack_on_free_ports
    from hotline.settings import get_settings

    settings = get_settings()
    texts = _load_questions(questions, n)
    specs, urls = stack_on_free_ports(settings)
    action_url, rasa_url, gateway_url = urls["action_server"], urls["rasa"], urls["gateway"]
    agent = DEMO_AGENTS[0]
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "DATABASE_URL": _demo_database(Path(tmp) / "assist.db"),
            "GATEWAY_STATE_DIR": tmp,
            "SUPERVISION_INTERVAL_SECONDS": "3600",
        }
        console.print("启动动作服务器、Rasa 服务器和网关…")
        with (
            ServiceGroup(specs, log_dir=settings.log_dir / "bench", env=env),
            httpx.Client(timeout=60.0) as http,
        ):
            login = http.post(
                f"{gateway_url}/api/desk/login", json={"username": agent.username, "password": agent.password}
            ).raise_for_status()
            desk = {"Authorization": f"Bearer {login.json()['token']}"}
            retrieval = action_server_auth_headers(settings)
            bodies = [{"utterance": text} for text in texts]
            for body in bodies[:WARM_UP]:  # loads the index and model in the action server worker
                http.post(f"{gateway_url}/api/assist", json=body, headers=desk, timeout=120.0)
            figures = [
                _timed(
                    "assist via gateway",
                    bodies,
                    lambda b: http.post(f"{gateway_url}/api/assist", json=b, headers=desk),
                ),
                _timed(
                    "retrieval (action server /assist)",
                    [{"question": t, "k": 3} for t in texts],
                    lambda b: http.post(f"{action_url.rsplit('/', 1)[0]}/assist", json=b, headers=retrieval),
                ),
                _timed(
                    "intent (Rasa /model/parse)",
                    [{"text": t} for t in texts],
                    lambda b: http.post(
                        f"{rasa_url}/model/parse",
                        json=b,
                        params={"token": settings.rasa_token.get_secret_value()},
                    ),
                ),
            ]

    table = Table(
        title=f"坐席建议答案延迟（{len(texts)} 个问题，{questions}，逐个请求）",
        caption="assist via gateway = 登录校验 + 并行（检索、意图识别）+ 记录展示的建议；目标 p95 ≤ 150 ms",
    )
    for column in ("path", "n", "p50 ms", "p95 ms", "max ms", "per second", "errors"):
        table.add_column(column, justify="left" if column == "path" else "right")
    for f in figures:
        table.add_row(
            f.name, str(f.n), f"{f.p50_ms}", f"{f.p95_ms}", f"{f.max_ms}", f"{f.per_second}", str(f.errors)
        )
    console.print(table)
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(
            json.dumps([asdict(f) for f in figures], ensure_ascii=False, indent=2), encoding="utf-8"
        )
