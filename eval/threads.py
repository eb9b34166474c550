"""`hotline eval threads`: what compute threads and the query backend do to one question's encoding, alone and next
to a busy process (as an action server is next to Rasa on two cores).

For each backend (torch, onnx, onnx-int8) and thread count it encodes the dev questions one at a time and reports
p50 / p95 per question, first on an idle machine, then while a second process keeps one core busy. The busy process
is a bounded busy loop (it ends with the measurement, or after ten minutes whatever happens).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from eval.metrics import percentile

app = typer.Typer()
console = Console(width=None if sys.stdout.isatty() else 140)
BUSY_LOOP = "import time\nend = time.time() + 600\nwhile time.time() < end:\n    pass\n"


@dataclass(frozen=True)
class EncoderTiming:
    backend: str
    threads: int
    busy_neighbour: bool
    p50_ms: float
    p95_ms: float


def time_encoder(backend: str, threads: int, questions: list[str], busy: bool) -> EncoderTiming:
    import torch

    from hotline.settings import get_settings
    from knowledge_base.embedding import load_encoder

    settings = get_settings().model_copy(update={"embedding_query_backend": backend, "torch_threads": threads})
    encoder = load_encoder(settings)
    torch.set_num_threads(threads)
    for question in questions[:5]:
        encoder.encode_queries([question])
    neighbour = subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) if busy else None
    try:
        time.sleep(0.5 if busy else 0)
        durations = []
        for question in questions:
            started = time.perf_counter()
            encoder.encode_queries([question])
            durations.append((time.perf_counter() - started) * 1000)
    finally:
        if neighbour is not None:
            neighbour.kill()
            neighbour.wait()
    return EncoderTiming(backend, threads, busy, round(percentile(durations, 50), 1),
                         round(percentile(durations, 95), 1))


@app.command("threads")
def threads_command(
    backend: list[str] = typer.Option(["torch", "onnx", "onnx-int8"], help="问题编码后端（可重复）"),
    threads: list[int] = typer.Option([1, 2], help="计算线程数（可重复）"),
    n: int = typer.Option(60, min=10, help="使用多少个开发集问题"),
    json_out: Path | None = typer.Option(None, "--json", help="把结果写成 JSON"),
) -> None:
    """问题编码延迟：各后端与线程数，空闲时和旁边有一个忙进程时。"""
    from eval.question_set import load_questions
    from hotline.settings import PROJECT_ROOT

    questions = [q.question for q in load_questions(PROJECT_ROOT / "eval" / "questions" / "dev.yaml")][:n]
    timings = []
    for name in backend:
        for count in threads:
            for busy in (False, True):
                with console.status(f"{name}, {count} thread(s){', busy neighbour' if busy else ''}…"):
                    timings.append(time_encoder(name, count, questions, busy))
    table = Table(title=f"问题编码延迟（{len(questions)} 个开发集问题，逐条）")
    for column in ("backend", "threads", "neighbour", "p50 ms", "p95 ms"):
        table.add_column(column, justify="left" if column in ("backend", "neighbour") else "right")
    for t in timings:
        table.add_row(t.backend, str(t.threads), "busy" if t.busy_neighbour else "idle", f"{t.p50_ms}", f"{t.p95_ms}")
    console.print(table)
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps([asdict(t) for t in timings], indent=2), encoding="utf-8")
