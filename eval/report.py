"""`hotline eval report`: the assistant's figures in one self-contained HTML file (charts as inline SVG), plus JSON.

    hotline eval report [--questions eval/questions/holdout.yaml ...] [--folds 3] [--load-rate 2 --load-seconds 60]

It starts the assistant on free ports (as `hotline run`, a throw-away seeded SQLite database, rate limits lifted)
and measures, each with the code path its own command uses:

- retrieval on the dev set and every `--questions` file: directly (`KnowledgeBase.search`: bm25, dense, fused and
  hybrid side by side; `hotline eval retrieval --compare`) and through the bot (the gateway's `POST /api/chat`, as
  residents ask; `--via bot`): hit@1/3/5, MRR, the answer / related / refusal bands, per-question latency;
- the dialogue test conversations (`rasa test core --e2e` on bot/tests against the running action server);
- a short load run of simulated residents (eval/load.py: web and WeChat, policy, lookups, escalations);
- after the assistant has stopped (so the two do not share the cores), NLU k-fold cross-validation
  (`hotline eval nlu --folds`), with the intent confusion matrix.

The HTML draws hit@k and MRR by method, the bands, latency distributions, the confusion matrix and load over time;
the JSON holds every figure (the HTML is made from it: `render_html(figures)`).
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from eval import charts
from eval.metrics import RetrievalMetrics
from hotline.settings import PROJECT_ROOT, VAR_DIR, Settings, get_settings

app = typer.Typer()
console = Console()

DEV_QUESTIONS = PROJECT_ROOT / "eval" / "questions" / "dev.yaml"
METHODS = ("bm25", "dense", "fused", "hybrid")
BANDS = ("confident", "related", "refusal")
BOT_DIR = PROJECT_ROOT / "bot"


# --- measuring --------------------------------------------------------------------------------------------------


@contextmanager
def report_stack(settings: Settings, state: Path) -> Iterator[dict[str, Any]]:
    """Action server, Rasa server and gateway on free ports over a seeded SQLite database; WeChat's API stood in."""
    from casework.cli import setup
    from eval.load import LIFTED_LIMITS, WeChatSink
    from hotline.processes import ServiceGroup, rasa_secrets_env, stack_on_free_ports

    database = f"sqlite:///{state / 'report.db'}"
    setup(url=database)
    sink = WeChatSink()
    specs, urls = stack_on_free_ports(settings)
    env = {**LIFTED_LIMITS, "DATABASE_URL": database, "SPOOL_DIR": str(state / "spool"),
           "WECHAT_API_BASE_URL": sink.url}
    try:
        with console.status("启动动作服务器、Rasa 服务器和网关…"), ServiceGroup(
                specs, log_dir=settings.log_dir / "report", env=env):
            yield {**urls, "sink": sink, "rasa_env": rasa_secrets_env(settings)}
    finally:
        sink.close()


def measure_retrieval(kb: Any, gateway_url: str, path: Path) -> dict[str, Any]:
    """One question set: each method directly, and the bot through the gateway, with their parity."""
    from eval.metrics import parity
    from eval.question_set import load_questions
    from eval.retrieval import GatewayAsker, direct_asker, evaluate, parity_json

    questions = load_questions(path)
    direct: dict[str, RetrievalMetrics] = {}
    for method in METHODS:
        ask = direct_asker(kb, method)
        ask(questions[0])  # warm: first-call allocations are not what residents wait for
        with console.status(f"{path.name}：直接检索（{method}）…"):
            direct[method] = evaluate(questions, ask, method)
    bot = GatewayAsker(gateway_url)
    try:
        bot(questions[0])
        with console.status(f"{path.name}：经机器人（POST /api/chat）…"):
            via_bot = evaluate(questions, bot, "bot")
    finally:
        bot.close()
    return {
        "questions_file": str(path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path),
        "direct": {method: _metrics_json(result) for method, result in direct.items()},
        "bot": _metrics_json(via_bot),
        "parity": parity_json(parity(direct["hybrid"].rows, via_bot.rows)),
    }


def _metrics_json(result: RetrievalMetrics) -> dict[str, Any]:
    figures = {k: v for k, v in asdict(result).items() if k not in ("rows", "per_tag")}
    figures["latencies_ms"] = [row.latency_ms for row in result.rows]
    return figures


def measure_dialogue(action_server_url: str, rasa_env: dict[str, str], out: Path) -> dict[str, Any]:
    """`rasa test core --e2e` on the test conversations, against the running action server."""
    settings = get_settings()
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with console.status("对话测试（rasa test core --e2e bot/tests）…"):
        completed = subprocess.run(
            [str(settings.rasa_executable), "test", "core", "--e2e", "--model",
             str(settings.rasa_model_dir / "hotline.tar.gz"), "--stories", "tests", "--endpoints", "endpoints.yml",
             "--out", str(out), "--no-plot", "--successes"],
            cwd=BOT_DIR, capture_output=True, text=True, timeout=1800, check=False,
            env={**os.environ, **rasa_env, "ACTION_SERVER_URL": action_server_url,
                 "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"},
        )
    (out / "rasa-test.log").write_text(completed.stdout + completed.stderr, encoding="utf-8")
    report_file = out / "story_report.json"
    if completed.returncode != 0 or not report_file.exists():
        return {"error": f"rasa test exited {completed.returncode}; see {out / 'rasa-test.log'}"}
    report = json.loads(report_file.read_text(encoding="utf-8"))
    failed = out / "failed_test_stories.yml"
    failed_names = [line.split(":", 1)[1].strip() for line in failed.read_text(encoding="utf-8").splitlines()
                    if line.strip().startswith("- story:")] if failed.exists() else []
    conversations = report.get("conversation_accuracy", {})
    return {
        "conversations": conversations.get("total", 0),
        "correct": conversations.get("correct", 0),
        "conversation_accuracy": round(float(conversations.get("accuracy", 0.0)), 4),
        "action_f1_weighted": round(float(report.get("weighted avg", {}).get("f1-score", 0.0)), 4),
        "failed_conversations": failed_names,
        "seconds": round(time.perf_counter() - started, 1),
    }


def measure_nlu(folds: int) -> dict[str, Any]:
    from eval.nlu import evaluate

    with console.status(f"NLU {folds} 折交叉验证（Rasa 训练 {folds} 次）…"):
        result = evaluate(folds=folds, report_dir=VAR_DIR / "eval" / "report-nlu")
    labels, matrix = confusion_matrix(Path(result.report_dir))
    return {
        "folds": folds, "examples": result.examples, "seconds": result.seconds,
        "intent_macro_f1": result.intents.macro_f1, "intent_accuracy": result.intents.accuracy,
        "intent_weighted_f1": result.intents.weighted_f1,
        "entity_macro_f1": result.entities.macro_f1 if result.entities else None,
        "below_fallback_threshold": result.below_fallback_threshold,
        "weakest_intents": [asdict(score) for score in result.intents.labels[:8]],
        "confusion": {"labels": labels, "matrix": matrix},
    }


def confusion_matrix(report_dir: Path) -> tuple[list[str], list[list[int]]]:
    """True × predicted intent counts from Rasa's per-example files (`--successes` and errors)."""
    rows = [row for name in ("intent_successes.json", "intent_errors.json")
            for row in json.loads((report_dir / name).read_text(encoding="utf-8") or "[]")
            if (report_dir / name).exists()]
    pairs = [(row["intent"], row["intent_prediction"]["name"] or "None") for row in rows]
    support: dict[str, int] = {}
    for true, _ in pairs:
        support[true] = support.get(true, 0) + 1
    labels = sorted({label for pair in pairs for label in pair}, key=lambda label: (-support.get(label, 0), label))
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for true, predicted in pairs:
        matrix[index[true]][index[predicted]] += 1
    return labels, matrix


def measure_load(gateway_url: str, sink: Any, rate: float, seconds: float) -> dict[str, Any]:
    from eval.load import LoadRun

    run = LoadRun(gateway_url, get_settings().wechat_token.get_secret_value(), sink, seed=12393)
    with console.status(f"负载（{rate:g} 回合/秒，{seconds:.0f} 秒，先预热 10 秒）…"):
        asyncio.run(run.step(rate, 10, 2_000, name="warm-up"))
        figures = asyncio.run(run.step(rate, seconds, 20_000))
    return asdict(figures)


def machine() -> dict[str, Any]:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True,
                                text=True, check=False).stdout.strip()
    except OSError:
        commit = ""
    return {"cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(), "commit": commit}


# --- the page ---------------------------------------------------------------------------------------------------


def render_html(figures: dict[str, Any]) -> str:
    """The report page from the JSON figures: self-contained (inline CSS and SVG, no script)."""
    sections = [_summary(figures)]
    for name, result in figures.get("retrieval", {}).items():
        sections.append(_retrieval_section(name, result))
    if figures.get("dialogue"):
        sections.append(_dialogue_section(figures["dialogue"]))
    if figures.get("nlu"):
        sections.append(_nlu_section(figures["nlu"]))
    if figures.get("load"):
        sections.append(_load_section(figures["load"]))
    sections.append(_commands_section(figures))
    meta = figures.get("meta", {})
    return (
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>12393 医保热线政策助手 · 评测报告</title><style>"
        "body{font-family:system-ui,'Noto Sans CJK SC',sans-serif;margin:2rem auto;max-width:1100px;color:#1a202c;"
        "padding:0 1rem}h1{font-size:1.6rem}h2{margin-top:2.5rem;border-bottom:1px solid #e2e8f0}"
        "table{border-collapse:collapse;margin:.8rem 0}td,th{border:1px solid #e2e8f0;padding:.3rem .6rem;"
        "text-align:right;font-variant-numeric:tabular-nums}th:first-child,td:first-child{text-align:left}"
        ".charts{display:flex;flex-wrap:wrap;gap:1.5rem;align-items:flex-start}code{background:#f7fafc;"
        "padding:.1rem .3rem}.note{color:#4a5568;font-size:.9rem}</style></head><body>"
        f"<h1>12393 医保热线政策助手 · 评测报告</h1><p class=\"note\">{escape(meta.get('generated_at', ''))} · "
        f"commit {escape(str(meta.get('machine', {}).get('commit', '')))} · "
        f"{meta.get('machine', {}).get('cpus', '?')} cores, load average at start "
        f"{meta.get('machine', {}).get('load_average', '?')}, at end {meta.get('load_average_end', '?')}</p>"
        + "".join(sections) + "</body></html>"
    )


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(_cell(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if value <= 1.0 else f"{value:.1f}"
    return str(value)


def _summary(figures: dict[str, Any]) -> str:
    rows = []
    for name, result in figures.get("retrieval", {}).items():
        hybrid, bot = result["direct"]["hybrid"], result["bot"]
        rows.append((f"{name}: direct hybrid", hybrid["hit_at_1"], hybrid["hit_at_5"], hybrid["mrr"],
                     hybrid["confident_rate_answerable"], hybrid["confident_rate_unanswerable"], hybrid["latency_ms_p95"]))
        rows.append((f"{name}: via the bot", bot["hit_at_1"], bot["hit_at_5"], bot["mrr"],
                     bot["confident_rate_answerable"], bot["confident_rate_unanswerable"], bot["latency_ms_p95"]))
    parts = ["<h2>概览 · Summary</h2>", _table(
        ("retrieval", "hit@1", "hit@5", "MRR", "confident (answerable)", "confident (unanswerable)", "p95 ms"), rows)]
    other = []
    if figures.get("nlu"):
        nlu = figures["nlu"]
        value = f"{nlu['intent_macro_f1']:.3f} ({nlu['folds']}-fold CV, {nlu['examples']} examples)"
        other.append(("NLU intent macro-F1", value))
    if figures.get("dialogue") and "error" not in figures["dialogue"]:
        dialogue = figures["dialogue"]
        other.append(("dialogue test conversations", f"{dialogue['correct']}/{dialogue['conversations']} correct"))
    if figures.get("load"):
        load = figures["load"]
        value = (f"{load['turns_per_second']} turns/s, p50 {load['p50_ms']} ms, p95 {load['p95_ms']} ms, "
                 f"p99 {load['p99_ms']} ms, {load['errors']} errors ({load['target_rate']:g} turns/s asked, "
                 f"{load['duration_s']} s)")
        other.append(("load", value))
    if other:
        parts.append(_table(("figure", "value"), other))
    return "".join(parts)


def _retrieval_section(name: str, result: dict[str, Any]) -> str:
    runs = {**result["direct"], "bot": result["bot"]}
    methods = list(runs)
    hits = charts.bar_chart(f"{name}: hit@k and MRR by method", methods, {
        "hit@1": [runs[m]["hit_at_1"] for m in methods], "hit@3": [runs[m]["hit_at_3"] for m in methods],
        "hit@5": [runs[m]["hit_at_5"] for m in methods], "MRR": [runs[m]["mrr"] for m in methods]}, y_max=1.0)
    bands = {}
    for kind in ("answerable", "unanswerable"):
        bands[kind] = charts.stacked_bars(f"{name}: bands, {kind} questions", methods, {
            band: [runs[m][f"{band}_rate_{kind}"] for m in methods] for band in BANDS})
    latency = charts.line_chart(f"{name}: latency per question (share answered within x ms)", {
        label: _cdf(runs[key]["latencies_ms"]) for label, key in (("direct hybrid", "hybrid"), ("via the bot", "bot"))
    }, x_label="ms", y_label="share of questions", y_max=1.0, number="{:.2f}")
    parity = result.get("parity", {})
    rows = [(m, runs[m]["hit_at_1"], runs[m]["hit_at_3"], runs[m]["hit_at_5"], runs[m]["mrr"],
             runs[m]["confident_rate_answerable"], runs[m]["related_rate_answerable"],
             runs[m]["refusal_rate_answerable"], runs[m]["confident_rate_unanswerable"],
             runs[m]["latency_ms_p50"], runs[m]["latency_ms_p95"]) for m in methods]
    return (
        f"<h2>检索 · Retrieval: {escape(name)}</h2><p class=\"note\">{escape(result['questions_file'])} — "
        f"{runs['hybrid']['n_answerable']} answerable, {runs['hybrid']['n_unanswerable']} unanswerable questions. "
        f"Via the bot: {parity.get('routed', '?')}/{parity.get('n_answerable', '?')} answerable questions reached the "
        f"policy answer, {parity.get('same', '?')} exactly as the direct search.</p>"
        + _table(("method", "hit@1", "hit@3", "hit@5", "MRR", "confident (ans.)", "related (ans.)", "refused (ans.)",
                  "confident (unans.)", "p50 ms", "p95 ms"), rows)
        + f"<div class=\"charts\">{hits}{bands['answerable']}{bands['unanswerable']}{latency}</div>"
    )


def _cdf(values: list[float]) -> list[tuple[float, float]]:
    ordered = sorted(values)
    return [(value, (i + 1) / len(ordered)) for i, value in enumerate(ordered)] if ordered else [(0.0, 0.0)]


def _dialogue_section(dialogue: dict[str, Any]) -> str:
    if "error" in dialogue:
        return f"<h2>对话测试 · Dialogue</h2><p>{escape(dialogue['error'])}</p>"
    failed = "".join(f"<li>{escape(name)}</li>" for name in dialogue["failed_conversations"]) or "<li>none</li>"
    return (f"<h2>对话测试 · Dialogue test conversations</h2><p>{dialogue['correct']} of "
            f"{dialogue['conversations']} conversations predicted exactly (accuracy "
            f"{dialogue['conversation_accuracy']:.3f}; action F1 weighted {dialogue['action_f1_weighted']:.3f}; "
            f"{dialogue['seconds']} s). Failed:</p><ul>{failed}</ul>")


def _nlu_section(nlu: dict[str, Any]) -> str:
    weakest = [(w["label"], w["precision"], w["recall"], w["f1"], w["support"]) for w in nlu["weakest_intents"]]
    matrix = charts.heatmap(f"Intent confusion matrix ({nlu['folds']}-fold cross-validation)",
                            nlu["confusion"]["labels"], nlu["confusion"]["matrix"])
    entity = f", entity macro-F1 {nlu['entity_macro_f1']:.3f}" if nlu.get("entity_macro_f1") is not None else ""
    return (f"<h2>NLU · Intents</h2><p>Intent macro-F1 {nlu['intent_macro_f1']:.3f}, accuracy "
            f"{nlu['intent_accuracy']}, weighted F1 {nlu['intent_weighted_f1']:.3f}{entity}; "
            f"{nlu['examples']} examples, {nlu['seconds']:.0f} s.</p>"
            + _table(("weakest intents", "precision", "recall", "F1", "support"), weakest)
            + f"<div class=\"charts\">{matrix}</div>")


def _load_section(load: dict[str, Any]) -> str:
    timeline = load["timeline"]
    throughput = charts.line_chart("Load over time: turns completed per second", {
        "turns/s": [(p["second"], p["turns"]) for p in timeline],
        "errors/s": [(p["second"], p["errors"]) for p in timeline]}, x_label="s", y_label="turns")
    p95 = charts.line_chart("Load over time: p95 latency of the turns completed in each second", {
        "p95 ms": [(p["second"], p["p95_ms"]) for p in timeline if p["turns"]]}, x_label="s", y_label="ms")
    rows = [(channel, f["turns"], f["p50_ms"], f["p95_ms"], f["errors"]) for channel, f in load["by_channel"].items()]
    rows += [(scenario, f["turns"], f["p50_ms"], f["p95_ms"], f["errors"]) for scenario, f in load["by_scenario"].items()]
    return (f"<h2>负载 · Load</h2><p>{load['turns']} turns in {load['duration_s']} s: {load['turns_per_second']} "
            f"turns/s (asked {load['target_rate']:g}); p50 {load['p50_ms']} ms, p95 {load['p95_ms']} ms, p99 "
            f"{load['p99_ms']} ms, max {load['max_ms']} ms; errors {load['errors']} {load['errors_by_kind'] or ''}.</p>"
            + _table(("channel / scenario", "turns", "p50 ms", "p95 ms", "errors"), rows)
            + f"<div class=\"charts\">{throughput}{p95}</div>")


def _commands_section(figures: dict[str, Any]) -> str:
    commands = figures.get("meta", {}).get("commands", [])
    return ("<h2>复现 · Commands</h2><ul>" + "".join(f"<li><code>{escape(c)}</code></li>" for c in commands)
            + "</ul>")


# --- the command --------------------------------------------------------------------------------------------


@app.command("report")
def report_command(
    questions: list[Path] = typer.Option([], "--questions", exists=True, help="除 dev.yaml 外还要评测的问题集（可重复）"),
    folds: int = typer.Option(3, min=2, max=10, help="NLU 交叉验证折数（每折训练一次 Rasa）"),
    load_rate: float = typer.Option(1.5, min=0.1, help="负载：目标回合/秒"),
    load_seconds: float = typer.Option(60.0, min=5.0, max=600.0, help="负载：时长（秒）"),
    skip_nlu: bool = typer.Option(False, "--skip-nlu", help="不做 NLU 交叉验证（最慢的一步）"),
    out: Path = typer.Option(VAR_DIR / "eval" / "report.html", "--out", help="HTML 报告；JSON 写在同名 .json"),
) -> None:
    """评测报告：检索（直接与经机器人）、对话测试、NLU 交叉验证、短时负载，写成一个自包含的 HTML 文件和 JSON。"""
    from knowledge_base.search import KnowledgeBase

    settings = get_settings()
    started = time.perf_counter()
    extra = " ".join(f"--questions {p}" for p in questions)
    figures: dict[str, Any] = {"meta": {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
        "commands": [f"hotline eval report {extra} --folds {folds} --load-rate {load_rate:g} "
                     f"--load-seconds {load_seconds:g}".replace("  ", " ")]}}
    with console.status("加载嵌入模型与索引…"):
        kb = KnowledgeBase.load(settings)
    with tempfile.TemporaryDirectory(prefix="hotline-report-") as state, report_stack(settings, Path(state)) as stack:
        figures["retrieval"] = {path.stem: measure_retrieval(kb, stack["gateway"], path)
                                for path in [DEV_QUESTIONS, *questions]}
        figures["dialogue"] = measure_dialogue(stack["action_server"], stack["rasa_env"],
                                               VAR_DIR / "eval" / "report-dialogue")
        figures["load"] = measure_load(stack["gateway"], stack["sink"], load_rate, load_seconds)
    if not skip_nlu:
        figures["nlu"] = measure_nlu(folds)
    figures["meta"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    figures["meta"]["seconds"] = round(time.perf_counter() - started, 1)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(figures, ensure_ascii=False, indent=1), encoding="utf-8")
    out.write_text(render_html(figures), encoding="utf-8")
    console.print(f"已写入 {out} 和 {out.with_suffix('.json')}（用时 {figures['meta']['seconds'] / 60:.1f} 分钟）")
