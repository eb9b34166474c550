"""`hotline eval latency`: how fast the bot answers, measured through the same HTTP path residents use.

Three figures per question set:
- NLU parse: Rasa's `/model/parse` (tokenise, featurise, DIET) for each question;
- full policy turn: Rasa's (signed) gateway channel → dialogue policies → action server → retrieval → reply;
- the same turn through the gateway (signed session, limits, relay), as a resident's browser sends it.
With `--concurrency N` the turns are sent by N simulated residents at once, which gives throughput under load.

It starts its own action server, Rasa server and gateway on free ports (hotline/processes.py), with the
gateway's rate limits lifted so that the benchmark measures speed, not the limiter.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
import typer
from rich.console import Console
from rich.table import Table

from eval.metrics import percentile

app = typer.Typer()
console = Console()


@dataclass(frozen=True)
class LatencyFigures:
    name: str
    n: int
    concurrency: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    per_second: float
    errors: int


def summarise(name: str, durations_ms: list[float], wall_s: float, concurrency: int, errors: int) -> LatencyFigures:
    return LatencyFigures(
        name=name, n=len(durations_ms), concurrency=concurrency,
        p50_ms=round(percentile(durations_ms, 50), 1), p95_ms=round(percentile(durations_ms, 95), 1),
        max_ms=round(max(durations_ms), 1), per_second=round(len(durations_ms) / wall_s, 1), errors=errors,
    )


Signer = Callable[[dict], tuple[bytes, dict[str, str]]]
JSON_HEADERS = {"Content-Type": "application/json"}


async def _timed_posts(url: str, bodies: list[dict], concurrency: int, params: dict | None = None,
                       sign: Signer | None = None) -> tuple[list[float], float, int]:
    """POST every body, `concurrency` at a time; returns per-request milliseconds, wall seconds and failures.

    With `sign`, each body is sent as the content and headers it returns (made just before sending)."""
    durations: list[float] = []
    errors = 0
    gate = asyncio.Semaphore(concurrency)

    async with httpx.AsyncClient(timeout=30.0) as client:
        async def one(body: dict) -> None:
            nonlocal errors
            async with gate:
                content, headers = sign(body) if sign else (json.dumps(body).encode(), JSON_HEADERS)
                start = time.perf_counter()
                response = await client.post(url, content=content, headers=headers, params=params)
                durations.append((time.perf_counter() - start) * 1000)
                if response.status_code != 200 or not response.json():
                    errors += 1

        start = time.perf_counter()
        await asyncio.gather(*(one(body) for body in bodies))
        return durations, time.perf_counter() - start, errors


def rasa_signer() -> Signer:
    """Signs a `{"sender","message"}` body for Rasa's gateway channel, as the gateway does."""
    from channels.rasa_client import signed_message
    from hotline.settings import get_settings

    settings = get_settings()
    return lambda body: signed_message(settings, body["sender"], body["message"])


def rasa_webhook(rasa_url: str) -> str:
    from channels.rasa_client import WEBHOOK_PATH

    return rasa_url + WEBHOOK_PATH


def warm_up(rasa_url: str, questions: list[str], turns: int = 5) -> None:
    """Load the models behind both paths (DIET, TED, the knowledge base) before anything is timed."""
    warm = [{"sender": f"warm-{uuid.uuid4().hex[:8]}", "message": q} for q in questions[:turns]]
    asyncio.run(_timed_posts(rasa_webhook(rasa_url), warm, 1, sign=rasa_signer()))


def measure_parses(rasa_url: str, token: str, questions: list[str]) -> LatencyFigures:
    bodies = [{"text": q} for q in questions]
    durations, wall, errors = asyncio.run(
        _timed_posts(f"{rasa_url}/model/parse", bodies, 1, params={"token": token}))
    return summarise("NLU parse", durations, wall, 1, errors)


def measure_turns(name: str, url: str, senders: list[str], questions: list[str], concurrency: int,
                  sign: Signer | None = None) -> LatencyFigures:
    """Time one turn per question on a Rasa-REST-shaped webhook (Rasa's signed channel or the gateway's chat)."""
    bodies = [{"sender": sender, "message": q} for sender, q in zip(senders, questions, strict=True)]
    durations, wall, errors = asyncio.run(_timed_posts(url, bodies, concurrency, sign=sign))
    return summarise(name, durations, wall, concurrency, errors)


def rasa_senders(n: int) -> list[str]:
    # Each turn gets its own sender so the dialogue state of one question never leaks into the next.
    return [f"bench-{uuid.uuid4().hex[:12]}" for _ in range(n)]


def gateway_senders(gateway_url: str, n: int) -> list[str]:
    """Signed sender ids, issued by the gateway as it issues them to browsers (not timed)."""
    with httpx.Client(timeout=30.0) as client:
        return [client.post(f"{gateway_url}/api/session").raise_for_status().json()["sender"] for _ in range(n)]


def _load_questions(path: Path, limit: int) -> list[str]:
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    questions = [item["question"] for item in data["questions"] if item.get("answerable", True)]
    if not questions:
        raise typer.BadParameter(f"{path} 中没有可回答的问题")
    return questions[:limit]


@app.command()
def latency(
    questions: Path = typer.Option(Path("eval/questions/dev.yaml"), exists=True, help="问题集 YAML"),
    n: int = typer.Option(100, min=1, help="最多使用多少个问题"),
    concurrency: list[int] = typer.Option([1, 4], help="同时对话的居民数（可重复）"),
    json_out: Path | None = typer.Option(None, "--json", help="把结果写成 JSON"),
) -> None:
    """NLU 解析、完整政策问答回合（直连 Rasa 与经网关）的延迟（p50/p95）与吞吐。"""
    import tempfile

    from hotline.processes import ServiceGroup, action_server_spec, free_port, gateway_spec, rasa_server_spec
    from hotline.settings import get_settings

    settings = get_settings()
    texts = _load_questions(questions, n)
    action_port, rasa_port, gateway_port = free_port(), free_port(), free_port()
    action_url = f"http://127.0.0.1:{action_port}/webhook"
    rasa_url, gateway_url = f"http://127.0.0.1:{rasa_port}", f"http://127.0.0.1:{gateway_port}"
    unlimited = str(1_000_000)
    specs = [
        action_server_spec(settings, action_port),
        rasa_server_spec(settings, rasa_port, action_server_url=action_url),
        gateway_spec(settings, gateway_port, rasa_url=rasa_url, action_server_url=action_url),
    ]
    console.print("启动动作服务器、Rasa 服务器和网关…")
    with tempfile.TemporaryDirectory() as state_dir, ServiceGroup(specs, log_dir=settings.log_dir / "bench", env={
        "GATEWAY_RATE_PER_SENDER": unlimited, "GATEWAY_RATE_PER_IP": unlimited,
        "GATEWAY_SESSIONS_PER_IP": unlimited, "GATEWAY_STATE_DIR": state_dir,
    }):
        warm_up(rasa_url, texts)
        figures = [measure_parses(rasa_url, settings.rasa_token.get_secret_value(), texts)]
        for c in concurrency:
            figures.append(measure_turns("turn via Rasa channel", rasa_webhook(rasa_url),
                                         rasa_senders(len(texts)), texts, c, sign=rasa_signer()))
            figures.append(measure_turns("turn via gateway", f"{gateway_url}/api/chat",
                                         gateway_senders(gateway_url, len(texts)), texts, c))

    table = Table(title=f"延迟（{len(texts)} 个问题，{questions}）", caption=(
        "Rasa channel：签名消息 → Rasa → 动作服务器 → 检索 → 回复；gateway：同一回合经网关 /api/chat（签名会话、限流、转发）"))
    for column in ("path", "n", "concurrency", "p50 ms", "p95 ms", "max ms", "per second", "errors"):
        table.add_column(column, justify="left" if column == "path" else "right")
    for f in figures:
        table.add_row(f.name, str(f.n), str(f.concurrency), f"{f.p50_ms}", f"{f.p95_ms}", f"{f.max_ms}",
                      f"{f.per_second}", str(f.errors))
    console.print(table)
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps([asdict(f) for f in figures], ensure_ascii=False, indent=2), encoding="utf-8")
