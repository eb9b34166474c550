"""`hotline eval retrieval` and `hotline eval calibrate`: how well the knowledge base finds and refuses.

``retrieval`` runs every question of a question set (``eval/question_set.py``) through the real search path —
``KnowledgeBase.search`` (``--via direct``) or the bot's REST webhook (``--via bot``) — and reports hit@1/3/5 and
MRR over answerable questions, the answer rate on answerable and the abstain rate on unanswerable questions,
and warm per-search latency (the model and index are loaded, and one search run, before the clock starts).
``--compare`` runs bm25, dense and hybrid side by side. ``--via bot`` runs the direct path too and reports their
parity: how many answerable questions the bot's NLU sent to the policy answer, how many of those came out as
the direct search did, and each question where the two differ.

``calibrate`` collects the abstain features of every question and fits ``knowledge_base.abstain``'s
calibration to them, saved to ``settings.abstain_calibration_file``.
"""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

from eval.metrics import (
    Parity,
    QuestionOutcome,
    RetrievalMetrics,
    first_relevant_rank,
    parity,
    share,
    summarise,
)
from eval.question_set import Question, QuestionSetError, load_questions
from hotline.settings import PROJECT_ROOT, Settings, get_settings

if TYPE_CHECKING:
    from knowledge_base.search import KnowledgeBase

app = typer.Typer()
console = Console()

METHODS = ("bm25", "dense", "hybrid")
DEFAULT_QUESTIONS = PROJECT_ROOT / "eval" / "questions" / "dev.yaml"
# `KnowledgeBase.search` filters by the region it detects in `region or question`; a region argument that names
# no corpus region therefore turns the filter off without touching the question text.
NO_REGION_FILTER = "全国"
# How a bot reply without a policy answer is noted in the per-question report, before what the bot said instead.
NO_POLICY_ANSWER = "no citation payload; bot said: "


class Via(str, Enum):
    direct = "direct"
    bot = "bot"


@dataclass(frozen=True)
class CitedPassage:
    title: str
    section: str
    region: str
    text: str


@dataclass(frozen=True)
class Answer:
    """What one question got back, whichever path it took."""

    passages: list[CitedPassage]
    abstain: bool
    confidence: float | None = None
    region: str | None = None
    routed: bool = True  # False: the bot gave no policy answer at all (its NLU took the question for something else)
    note: str = ""


Asker = Callable[[str], Answer]


# --- the two paths a question can take ---------------------------------------------------------------------


def direct_asker(kb: KnowledgeBase, method: str, *, region_aware: bool = True) -> Asker:
    """Ask ``KnowledgeBase.search`` directly (top 5)."""

    def ask(question: str) -> Answer:
        region = None if region_aware else NO_REGION_FILTER
        result = kb.search(question, method=method, k=5, region=region)
        return Answer(
            passages=[CitedPassage(p.doc_title, p.section, p.region, p.text) for p in result.passages],
            abstain=result.abstain,
            confidence=result.confidence,
            region=result.region,
        )

    return ask


def parse_bot_reply(messages: Sequence[dict[str, Any]]) -> Answer:
    """The REST webhook's reply (a list of bot messages) in, the citations of its policy answer out.

    The policy action attaches ``custom: {"citations": [{doc_title, section, region, text, …}], "abstain": bool}``
    (``actions/domain/answers.py``). A reply without that payload (the bot took the question for something else)
    counts as an abstention with no passages: the resident got no cited answer.
    """
    for message in messages:
        custom = message.get("custom")
        if isinstance(custom, dict) and "citations" in custom:
            passages = [
                CitedPassage(
                    title=str(c.get("doc_title", "")),
                    section=str(c.get("section", "")),
                    region=str(c.get("region", "")),
                    text=str(c.get("text", "")),
                )
                for c in custom.get("citations") or []
            ]
            return Answer(passages=passages, abstain=bool(custom.get("abstain", not passages)))
    said = " / ".join(str(m.get("text", "")) for m in messages if m.get("text"))
    return Answer(passages=[], abstain=True, routed=False, note=f"{NO_POLICY_ANSWER}{said[:60]}")


class BotAsker:
    """Send each question, as a new resident, to Rasa's REST webhook and read the citations from its reply."""

    def __init__(self, settings: Settings, timeout: float = 60.0) -> None:
        import httpx

        self.url = settings.rasa_url.rstrip("/") + "/webhooks/rest/webhook"
        self._client = httpx.Client(timeout=timeout)
        self._errors = (httpx.HTTPError,)

    def __call__(self, question: str) -> Answer:
        # A fresh sender per question: follow-up rewriting and abstain streaks must not leak between questions.
        body = {"sender": f"eval-{uuid.uuid4().hex[:12]}", "message": question}
        try:
            response = self._client.post(self.url, json=body)
            response.raise_for_status()
        except self._errors as error:
            raise BotUnavailableError(
                f"无法通过 {self.url} 询问机器人（{error}）。请先启动助手（`hotline run`）或检查 RASA_URL。"
            ) from error
        return parse_bot_reply(response.json())

    def close(self) -> None:
        self._client.close()


class BotUnavailableError(RuntimeError):
    pass


# --- running a question set -------------------------------------------------------------------------------


def evaluate(questions: Sequence[Question], ask: Asker, method: str) -> RetrievalMetrics:
    """Every question through ``ask``, timed one by one; the metrics of ``method`` out."""
    rows = []
    for question in questions:
        start = time.perf_counter()
        answer = ask(question.question)
        latency_ms = (time.perf_counter() - start) * 1000
        texts = [p.text for p in answer.passages]
        top = answer.passages[0] if answer.passages else CitedPassage("", "", "", "")
        rows.append(
            QuestionOutcome(
                id=question.id,
                question=question.question,
                answerable=question.answerable,
                rank=first_relevant_rank(texts, question.evidence) if question.answerable else None,
                abstained=answer.abstain,
                latency_ms=round(latency_ms, 2),
                top_title=top.title,
                top_section=top.section,
                top_region=top.region,
                confidence=answer.confidence,
                region=answer.region,
                note=answer.note,
                routed=answer.routed,
            )
        )
    return summarise(method, rows)


def _evaluate_via_bot(settings: Settings, questions: Sequence[Question]) -> RetrievalMetrics:
    bot = BotAsker(settings)
    try:
        bot(questions[0].question)  # warm-up, and a clear message at once if the bot is not running
        return evaluate(questions, bot, "bot")
    except BotUnavailableError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(code=1) from error
    finally:
        bot.close()


def _load_knowledge_base(settings: Settings) -> KnowledgeBase:
    from knowledge_base.search import KnowledgeBase

    with console.status("加载嵌入模型与索引…"):
        return KnowledgeBase.load(settings)


def _questions_or_exit(path: Path) -> list[Question]:
    try:
        return load_questions(path)
    except QuestionSetError as error:
        raise typer.BadParameter(str(error), param_hint="--questions") from error


# --- output ------------------------------------------------------------------------------------------------

_RATE, _MS, _COUNT = "{:.3f}", "{:.1f}", "{:d}"
_FIGURES = (
    ("hit@1", "hit_at_1", _RATE),
    ("hit@3", "hit_at_3", _RATE),
    ("hit@5", "hit_at_5", _RATE),
    ("MRR", "mrr", _RATE),
    ("answer rate (answerable)", "answer_rate_answerable", _RATE),
    ("abstain rate (unanswerable)", "abstain_rate_unanswerable", _RATE),
    ("cited hit@1 (answers given)", "cited_hit_at_1", _RATE),
    ("cited hit@3 (answers given)", "cited_hit_at_3", _RATE),
    ("latency p50 ms", "latency_ms_p50", _MS),
    ("latency p95 ms", "latency_ms_p95", _MS),
    ("n answerable", "n_answerable", _COUNT),
    ("n unanswerable", "n_unanswerable", _COUNT),
)


def metrics_table(results: Sequence[RetrievalMetrics], title: str) -> Table:
    table = Table(title=title)
    table.add_column("metric")
    for result in results:
        table.add_column(result.method, justify="right")
    for label, name, number_format in _FIGURES:
        table.add_row(label, *[number_format.format(getattr(result, name)) for result in results])
    return table


def misses_table(result: RetrievalMetrics, limit: int = 15) -> Table:
    """The answerable questions with no relevant passage in the top 5, and the unanswerable ones answered."""
    misses = [r for r in result.rows if (r.answerable and r.rank is None) or (not r.answerable and not r.abstained)]
    table = Table(title=f"{result.method}: {len(misses)} misses (first {limit})")
    table.add_column("id", min_width=4, no_wrap=True)
    table.add_column("question", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("top passage (region · last heading)", no_wrap=True)
    for row in misses[:limit]:
        kind = "miss@5" if row.answerable else "answered"
        last_heading = row.top_section.split(" > ")[-1]
        # Chinese characters take two columns: keep the row within 80 columns.
        table.add_row(row.id, row.question[:12], kind, f"{row.top_region[:6] or '-'} · {last_heading[:10]}")
    console.print("miss@5：可回答但前 5 段都不相关；answered：不可回答却给出了答案。")
    return table


def print_parity(result: Parity) -> None:
    """How far the bot path follows the direct one, and every question where it does not."""
    console.print(
        f"经机器人：{result.routed}/{result.n_answerable} 个可回答问题进入政策解答，"
        f"其中 {result.same} 个与直接检索结果相同（同样拒答，或首条引用同一段落）。"
    )
    table = Table(title=f"bot ≠ direct: {len(result.misrouted)} misrouted, {len(result.differing)} answered differently")
    table.add_column("id", no_wrap=True)
    table.add_column("question", no_wrap=True)
    table.add_column("what the bot did")
    for row in result.misrouted:
        table.add_row(row.id, row.question[:16], row.note.removeprefix(NO_POLICY_ANSWER)[:24])
    for direct, bot in result.differing:
        table.add_row(bot.id, bot.question[:16], f"{_shown(bot)} / direct: {_shown(direct)}")
    if result.misrouted or result.differing:
        console.print(table)


def _shown(row: QuestionOutcome) -> str:
    return "拒答" if row.abstained else f"{row.top_region[:6]} · {row.top_section.split(' > ')[-1][:10]}"


def parity_json(result: Parity) -> dict[str, Any]:
    return {
        "n_answerable": result.n_answerable, "routed": result.routed, "same": result.same,
        "misrouted": [{"id": r.id, "question": r.question, "bot_said": r.note.removeprefix(NO_POLICY_ANSWER)}
                      for r in result.misrouted],
        "differing": [{"id": b.id, "question": b.question, "bot": _shown(b), "direct": _shown(d)}
                      for d, b in result.differing],
    }


def report_json(results: Sequence[RetrievalMetrics], *, questions: Path, via: str, region_aware: bool) -> dict[str, Any]:
    meta = {"questions_file": str(questions), "via": via, "region_aware": region_aware, "rank_depth": 5,
            "latency": "warm: model and index loaded and one search run before timing; each search timed alone"}
    if len(results) == 1:
        return {**meta, **asdict(results[0])}
    return {**meta, "methods": {result.method: asdict(result) for result in results}}


# --- commands ---------------------------------------------------------------------------------------------


@app.command("retrieval")
def retrieval_command(
    questions: Path = typer.Option(DEFAULT_QUESTIONS, "--questions", help="问题集 YAML（eval/questions/README.md）"),
    json_out: Path | None = typer.Option(None, "--json", help="把指标和逐题结果写入此 JSON 文件"),
    compare: bool = typer.Option(False, "--compare", help="同一次运行中对比 bm25、dense、hybrid"),
    region_aware: bool = typer.Option(True, "--region-aware/--no-region-aware", help="按问题中的地区过滤文档"),
    via: Via = typer.Option(Via.direct, "--via", help="direct：直接调用知识库；bot：经 Rasa REST 接口"),
    method: str = typer.Option("hybrid", "--method", help="不对比时使用的检索方式：bm25、dense 或 hybrid"),
) -> None:
    """检索评测：命中率、MRR、拒答率和检索延迟。"""
    question_set = _questions_or_exit(questions)
    if method not in METHODS:
        raise typer.BadParameter(f"未知的检索方式 {method!r}：请使用 {', '.join(METHODS)}", param_hint="--method")
    if via is Via.bot and compare:
        raise typer.BadParameter("--compare 只能与 --via direct 一起使用：机器人总是用它配置的检索方式。", param_hint="--compare")
    if via is Via.bot and not region_aware:
        raise typer.BadParameter("--no-region-aware 只能与 --via direct 一起使用。", param_hint="--region-aware")

    settings = get_settings()
    bot_result = _evaluate_via_bot(settings, question_set) if via is Via.bot else None
    # The direct path: measured on its own, or as the yardstick the bot path is judged against, question by question.
    kb = _load_knowledge_base(settings)
    results: list[RetrievalMetrics] = []
    for name in METHODS if compare else (method,):
        ask = direct_asker(kb, name, region_aware=region_aware)
        ask(question_set[0].question)  # warm-up: first-call allocations are not what residents wait for
        results.append(evaluate(question_set, ask, name if bot_result is None else "direct"))
    if bot_result is not None:
        results.append(bot_result)

    title = f"{questions.name} · via {via.value} · region-aware {'on' if region_aware else 'off'}"
    console.print(metrics_table(results, title))
    for result in results:
        if any((r.answerable and r.rank is None) or (not r.answerable and not r.abstained) for r in result.rows):
            console.print(misses_table(result))
    bot_parity = parity(results[0].rows, bot_result.rows) if bot_result is not None else None
    if bot_parity is not None:
        print_parity(bot_parity)
    if json_out is not None:
        payload = report_json(results, questions=questions, via=via.value, region_aware=region_aware)
        if bot_parity is not None:
            payload["parity"] = parity_json(bot_parity)
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        console.print(f"已写入 {json_out}")


@dataclass(frozen=True)
class CalibrationSummary:
    fitted_on: int
    threshold: float
    answer_rate_answerable: float  # in-sample: measured on the questions the calibration was fitted to
    abstain_rate_unanswerable: float
    saved_to: str
    weights: dict[str, float] = field(default_factory=dict)


@app.command("calibrate")
def calibrate_command(
    questions: Path = typer.Option(DEFAULT_QUESTIONS, "--questions", help="带 answerable 标注的问题集 YAML"),
    min_answer_rate: float = typer.Option(0.95, "--min-answer-rate", help="可回答问题中至少要回答的比例"),
    output: Path | None = typer.Option(None, "--output", help="默认写入 settings.abstain_calibration_file"),
) -> None:
    """按问题集拟合拒答校准（何时说“文件里没有”），并保存。"""
    from knowledge_base.abstain import CalibrationRow, fit_calibration, save_calibration

    question_set = _questions_or_exit(questions)
    if not 0.0 < min_answer_rate <= 1.0:
        raise typer.BadParameter("应在 0 到 1 之间", param_hint="--min-answer-rate")
    settings = get_settings()
    target = output or Path(settings.abstain_calibration_file)
    kb = _load_for_features(settings)
    with console.status(f"计算 {len(question_set)} 个问题的拒答特征…"):
        rows = [CalibrationRow(kb.abstain_features(q.question), q.answerable) for q in question_set]
    try:
        calibration = fit_calibration(rows, min_answer_rate=min_answer_rate)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--questions") from error
    target.parent.mkdir(parents=True, exist_ok=True)
    save_calibration(calibration, target)

    abstains = [calibration.abstains(calibration.confidence(row.features)) for row in rows]
    summary = CalibrationSummary(
        fitted_on=calibration.fitted_on,
        threshold=round(calibration.threshold, 4),
        answer_rate_answerable=round(share([not a for a, r in zip(abstains, rows) if r.answerable]), 4),
        abstain_rate_unanswerable=round(share([a for a, r in zip(abstains, rows) if not r.answerable]), 4),
        saved_to=str(target),
        weights=dict(zip(calibration.feature_names, (round(w, 3) for w in calibration.weights))),
    )
    table = Table(title="拒答校准（in-sample：在拟合所用的问题上测得）")
    table.add_column("item")
    table.add_column("value", justify="right")
    for name, value in asdict(summary).items():
        table.add_row(name, json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else str(value))
    console.print(table)


def _load_for_features(settings: Settings) -> KnowledgeBase:
    """The knowledge base for feature collection, even before any calibration file exists.

    Features do not depend on the calibration, but ``KnowledgeBase.load`` reads one; without it, a neutral
    calibration from a temporary file lets the first calibration run.
    """
    from knowledge_base.abstain import FEATURE_NAMES, Calibration, save_calibration

    if Path(settings.abstain_calibration_file).exists():
        return _load_knowledge_base(settings)
    n = len(FEATURE_NAMES)
    neutral = Calibration(FEATURE_NAMES, (0.0,) * n, (1.0,) * n, (0.0,) * n, 0.0, 0.5, note="placeholder")
    placeholder = Path(tempfile.mkdtemp(prefix="hotline-calibration-")) / "neutral.json"
    save_calibration(neutral, placeholder)
    return _load_knowledge_base(settings.model_copy(update={"abstain_calibration_file": placeholder}))

