"""`hotline eval retrieval`, `splits` and `calibrate`: how well the knowledge base finds, answers and refuses.

``retrieval`` runs every question of a question set (``eval/question_set.py``) through the real search path —
``KnowledgeBase.search`` (``--via direct``) or, as a resident, the gateway's ``POST /api/chat`` (``--via bot``:
a new session per question, a follow-up's context turns sent first) — and reports hit@1/3/5 and MRR over
answerable questions, the three reply bands (confident / related / refused) on answerable and unanswerable
questions, confident answers whose first citation is wrong, what replies show (first / any of ≤ 3 citations
relevant), per-tag figures, and warm per-search latency (the model and index are loaded, and one search run,
before the clock starts). ``--compare`` runs bm25, dense, fused and hybrid side by side. ``--via bot`` starts
its own assistant on free ports (or uses ``--gateway-url``), runs the direct path too and reports their parity.

``splits`` runs several question sets (dev, train, validation, test) side by side with the gap.

``calibrate`` reads the candidate passages of every training question, fits ``knowledge_base.answerability``'s
model to them and chooses its two thresholds by k-fold cross-validation; saved to
``settings.answerability_model_file``.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from actions.domain.answers import MAX_RELATED_PASSAGES, compose_policy_answer
from eval.metrics import (
    Parity,
    QuestionOutcome,
    RetrievalMetrics,
    first_relevant_rank,
    hit_at,
    mean_reciprocal_rank,
    parity,
    share,
    summarise,
)
from eval.question_set import Question, QuestionSetError, is_relevant, load_questions
from hotline.settings import PROJECT_ROOT, Settings, get_settings

if TYPE_CHECKING:
    from knowledge_base.answerability import LabelledPassage
    from knowledge_base.search import KnowledgeBase

app = typer.Typer()
console = Console(width=None if sys.stdout.isatty() else 120)  # readable when redirected to a file

METHODS = ("bm25", "dense", "fused", "hybrid")
DEFAULT_QUESTIONS = PROJECT_ROOT / "eval" / "questions" / "dev.yaml"
# What the answerability model is fitted on: never the test split.
DEFAULT_TRAINING = PROJECT_ROOT / "eval" / "questions" / "train.yaml"
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
    band: str = ""  # confident | related | refused
    shown: list[CitedPassage] | None = None  # what the reply shows (answer and further sources, or related); None: all


Asker = Callable[[Question], Answer]


def _context(question: Question) -> tuple[str, ...]:
    """The earlier turns of a follow-up question (question sets may give them as ``context``)."""
    return tuple(getattr(question, "context", ()) or ())


# --- the two paths a question can take ---------------------------------------------------------------------


def search_text(question: Question) -> tuple[str, str | None]:
    """What the direct path searches for: the question, or a follow-up rewritten with its context as the bot does."""
    context = _context(question)
    if not context:
        return question.question, None
    from actions.domain.followups import rewrite_follow_up
    from knowledge_base.regions import detect_region, names_other_place

    rewritten = rewrite_follow_up(question.question, previous_topic=context[-1],
                                  previous_region=detect_region(context[-1]), detect_region=detect_region,
                                  names_other_place=names_other_place)
    return rewritten.question, rewritten.region


def direct_asker(kb: KnowledgeBase, method: str, *, region_aware: bool = True) -> Asker:
    """Ask ``KnowledgeBase.search`` directly (top 5); a follow-up is rewritten with its context as the bot does."""

    def ask(question: Question) -> Answer:
        text, region = search_text(question)
        if not region_aware:
            region = NO_REGION_FILTER
        result = kb.search(text, method=method, k=5, region=region)
        # What the resident would be shown: the reply the policy action composes from this search.
        reply = compose_policy_answer(result)
        return Answer(
            passages=[CitedPassage(p.doc_title, p.section, p.region, p.text) for p in result.passages],
            abstain=result.abstain,
            confidence=result.confidence,
            region=result.region,
            band=result.band,
            shown=[_cited(c) for c in reply.citations],
        )

    return ask


def parse_bot_reply(messages: Sequence[dict[str, Any]]) -> Answer:
    """The chat API's reply (a list of bot messages) in, the band and citations of its policy answer out.

    The policy action attaches ``custom: {"band": …, "citations": [{doc_title, section, region, text, …}],
    "abstain": bool}`` (``actions/domain/answers.py``). A reply without that payload (the bot took the question for
    something else) counts as a refusal with no passages: the resident got no cited answer.
    """
    for message in messages:
        custom = message.get("custom")
        if isinstance(custom, dict) and "citations" in custom:
            passages = [_cited(c) for c in custom.get("citations") or []]
            abstain = bool(custom.get("abstain", not passages))
            band = str(custom.get("band") or ("refused" if abstain else "confident"))
            return Answer(passages=passages, abstain=abstain, band=band)
    said = " / ".join(str(m.get("text", "")) for m in messages if m.get("text"))
    return Answer(passages=[], abstain=True, routed=False, note=f"{NO_POLICY_ANSWER}{said[:60]}", band="refused")


def _cited(citation: dict[str, Any]) -> CitedPassage:
    """One citation of a reply's payload (``actions.domain.answers.citation``)."""
    return CitedPassage(title=str(citation.get("doc_title", "")), section=str(citation.get("section", "")),
                        region=str(citation.get("region", "")), text=str(citation.get("text", "")))


class GatewayAsker:
    """Ask as a resident does: a new session from the gateway (``POST /api/session``) per question, the
    question's context turns first, then the question itself (``POST /api/chat``), and read its reply."""

    def __init__(self, gateway_url: str, timeout: float = 60.0) -> None:
        import httpx

        self.url = gateway_url.rstrip("/")
        self._client = httpx.Client(timeout=timeout)
        self._errors = (httpx.HTTPError,)

    def __call__(self, question: Question) -> Answer:
        try:
            # A fresh session per question: follow-up rewriting and abstention streaks must not leak between them.
            session = self._client.post(f"{self.url}/api/session")
            session.raise_for_status()
            sender = session.json()["sender"]
            for turn in (*_context(question), question.question):
                response = self._client.post(f"{self.url}/api/chat", json={"sender": sender, "message": turn})
                response.raise_for_status()
        except self._errors as error:
            raise BotUnavailableError(
                f"无法通过网关 {self.url} 询问机器人（{error}）。请检查 --gateway-url，或去掉它让评测自己启动助手。"
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
        answer = ask(question)
        latency_ms = (time.perf_counter() - start) * 1000
        texts = [p.text for p in answer.passages]
        top = answer.passages[0] if answer.passages else CitedPassage("", "", "", "")
        band = answer.band or ("refused" if answer.abstain else "confident")
        rank = first_relevant_rank(texts, question.evidence) if question.answerable else None
        shown = answer.passages if answer.shown is None else answer.shown
        shown_rank = first_relevant_rank([p.text for p in shown], question.evidence) if rank is not None else None
        rows.append(
            QuestionOutcome(
                id=question.id,
                question=question.question,
                answerable=question.answerable,
                rank=rank,
                abstained=answer.abstain,
                latency_ms=round(latency_ms, 2),
                top_title=top.title,
                top_section=top.section,
                top_region=top.region,
                confidence=answer.confidence,
                region=answer.region,
                note=answer.note,
                routed=answer.routed,
                band=band,
                shown_rank=shown_rank,
                tags=tuple(getattr(question, "tags", ()) or ()),
            )
        )
    return summarise(method, rows)


def _evaluate_via_bot(settings: Settings, questions: Sequence[Question], gateway_url: str | None) -> RetrievalMetrics:
    if gateway_url:
        return _evaluate_through(gateway_url, questions)
    with assistant_stack(settings) as url:
        return _evaluate_through(url, questions)


def _evaluate_through(gateway_url: str, questions: Sequence[Question]) -> RetrievalMetrics:
    bot = GatewayAsker(gateway_url)
    try:
        bot(questions[0])  # warm-up, and a clear message at once if the bot is not running
        return evaluate(questions, bot, "bot")
    except BotUnavailableError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(code=1) from error
    finally:
        bot.close()


@contextmanager
def assistant_stack(settings: Settings) -> Iterator[str]:
    """Action server, Rasa server and gateway on free ports, rate limits lifted (an evaluation is one client
    asking hundreds of questions); yields the gateway's URL. Tickets it opens go to a throw-away database."""
    from hotline.processes import ServiceGroup, action_server_spec, free_port, gateway_spec, rasa_server_spec

    action_port, rasa_port, gateway_port = free_port(), free_port(), free_port()
    action_url = f"http://127.0.0.1:{action_port}/webhook"
    rasa_url = f"http://127.0.0.1:{rasa_port}"
    specs = [
        action_server_spec(settings, action_port),
        rasa_server_spec(settings, rasa_port, action_server_url=action_url),
        gateway_spec(settings, gateway_port, rasa_url=rasa_url, action_server_url=action_url),
    ]
    unlimited = str(1_000_000)
    with tempfile.TemporaryDirectory(prefix="hotline-eval-") as state_dir:
        database_url = f"sqlite:///{Path(state_dir) / 'eval.db'}"
        from casework.db import upgrade

        upgrade(database_url)
        env = {"GATEWAY_RATE_PER_SENDER": unlimited, "GATEWAY_RATE_PER_IP": unlimited,
               "GATEWAY_SESSIONS_PER_IP": unlimited, "GATEWAY_STATE_DIR": state_dir, "DATABASE_URL": database_url}
        with console.status("启动动作服务器、Rasa 服务器和网关…"), ServiceGroup(
                specs, log_dir=settings.log_dir / "eval", env=env) as group:
            yield group.urls["gateway"]


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
    ("answerable: confident", "confident_rate_answerable", _RATE),
    ("answerable: related", "related_rate_answerable", _RATE),
    ("answerable: refused", "refusal_rate_answerable", _RATE),
    ("answerable: confident, first cited wrong", "confident_wrong_rate_answerable", _RATE),
    ("unanswerable: confident", "confident_rate_unanswerable", _RATE),
    ("unanswerable: related", "related_rate_unanswerable", _RATE),
    ("unanswerable: refused", "refusal_rate_unanswerable", _RATE),
    ("cited hit@1 (confident answers)", "cited_hit_at_1", _RATE),
    ("cited hit@3 (confident answers)", "cited_hit_at_3", _RATE),
    ("shown hit@1 (answer or related)", "shown_hit_at_1", _RATE),
    ("shown hit@3 (answer or related)", "shown_hit_at_3", _RATE),
    ("latency p50 ms", "latency_ms_p50", _MS),
    ("latency p95 ms", "latency_ms_p95", _MS),
    ("n answerable", "n_answerable", _COUNT),
    ("n unanswerable", "n_unanswerable", _COUNT),
)


def metrics_table(results: Sequence[RetrievalMetrics], title: str, columns: Sequence[str] | None = None,
                  gap: bool = False) -> Table:
    """One column per result (``columns`` names them); with ``gap``, the first column minus the last."""
    table = Table(title=title)
    table.add_column("metric")
    for name in columns or [result.method for result in results]:
        table.add_column(name, justify="right")
    if gap:
        table.add_column("gap (first − last)", justify="right")
    for label, name, number_format in _FIGURES:
        values = [getattr(result, name) for result in results]
        cells = [number_format.format(value) for value in values]
        if gap:
            cells.append("" if number_format == _COUNT else number_format.format(values[0] - values[-1]))
        table.add_row(label, *cells)
    return table


def tags_table(result: RetrievalMetrics) -> Table:
    table = Table(title=f"{result.method}: per tag (conf = confident, rel = related, wrong = confident with a wrong "
                        "first citation; u.conf = unanswerable answered confidently)")
    for column in ("tag", "ans", "unans", "hit@1", "MRR", "conf", "rel", "wrong", "shown@3", "u.conf"):
        table.add_column(column, justify="left" if column == "tag" else "right", no_wrap=True)
    for tag, f in result.per_tag.items():
        table.add_row(tag, str(f["n_answerable"]), str(f["n_unanswerable"]), *(f"{f[name]:.2f}" for name in (
            "hit_at_1", "mrr", "confident_rate_answerable", "related_rate_answerable",
            "confident_wrong_rate_answerable", "shown_hit_at_3", "confident_rate_unanswerable")))
    return table


def misses_table(result: RetrievalMetrics, limit: int = 15) -> Table:
    """Answerable questions with no relevant passage in the top 5 or answered wrongly; unanswerable ones answered."""
    misses = [r for r in result.rows if _is_miss(r)]
    table = Table(title=f"{result.method}: {len(misses)} misses (first {limit})")
    table.add_column("id", min_width=4, no_wrap=True)
    table.add_column("question", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("top passage (region · last heading)", no_wrap=True)
    for row in misses[:limit]:
        kind = ("miss@5" if row.rank is None else "wrong") if row.answerable else "answered"
        last_heading = row.top_section.split(" > ")[-1]
        # Chinese characters take two columns: keep the row within 80 columns.
        table.add_row(row.id, row.question[:12], kind, f"{row.top_region[:6] or '-'} · {last_heading[:10]}")
    console.print("miss@5：可回答但前 5 段都不相关；wrong：确定回答但首条引用不相关；answered：不可回答却确定回答了。")
    return table


def _is_miss(row: QuestionOutcome) -> bool:
    if not row.answerable:
        return row.reply_band == "confident"
    return row.rank is None or (row.reply_band == "confident" and row.shown_rank != 1)


def print_parity(result: Parity) -> None:
    """How far the bot path follows the direct one, and every question where it does not."""
    console.print(
        f"经机器人：{result.routed}/{result.n_answerable} 个可回答问题进入政策解答，"
        f"其中 {result.same} 个与直接检索结果相同（同一档位，且首条引用同一段落）。"
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
    band = {"confident": "", "related": "相关·", "refused": "拒答"}[row.reply_band]
    if row.reply_band == "refused":
        return band
    return f"{band}{row.top_region[:6]} · {row.top_section.split(' > ')[-1][:10]}"


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
    compare: bool = typer.Option(False, "--compare", help="同一次运行中对比 bm25、dense、fused、hybrid"),
    region_aware: bool = typer.Option(True, "--region-aware/--no-region-aware", help="按问题中的地区过滤文档"),
    via: Via = typer.Option(Via.direct, "--via", help="direct：直接调用知识库；bot：经网关 POST /api/chat"),
    gateway_url: str | None = typer.Option(
        None, "--gateway-url", help="--via bot 时使用已运行的网关（须放宽限流）；不给则自动在空闲端口启动助手"),
    method: str = typer.Option("hybrid", "--method", help="不对比时使用的检索方式：hybrid、fused、bm25 或 dense"),
) -> None:
    """检索评测：命中率、MRR、三档回复（确定/可能相关/拒答）比例和检索延迟。"""
    question_set = _questions_or_exit(questions)
    if method not in METHODS:
        raise typer.BadParameter(f"未知的检索方式 {method!r}：请使用 {', '.join(METHODS)}", param_hint="--method")
    if via is Via.bot and compare:
        raise typer.BadParameter("--compare 只能与 --via direct 一起使用：机器人总是用它配置的检索方式。", param_hint="--compare")
    if via is Via.bot and not region_aware:
        raise typer.BadParameter("--no-region-aware 只能与 --via direct 一起使用。", param_hint="--region-aware")

    settings = get_settings()
    bot_result = _evaluate_via_bot(settings, question_set, gateway_url) if via is Via.bot else None
    # The direct path: measured on its own, or as the yardstick the bot path is judged against, question by question.
    kb = _load_knowledge_base(settings)
    results: list[RetrievalMetrics] = []
    for name in METHODS if compare else (method,):
        results.append(_run_direct(kb, question_set, name, region_aware, label=name if bot_result is None else "direct"))
    if bot_result is not None:
        results.append(bot_result)

    title = f"{questions.name} · via {via.value} · region-aware {'on' if region_aware else 'off'}"
    console.print(metrics_table(results, title))
    for result in results:
        if any(_is_miss(r) for r in result.rows):
            console.print(misses_table(result))
        if result.per_tag:
            console.print(tags_table(result))
    bot_parity = parity(results[0].rows, bot_result.rows) if bot_result is not None else None
    if bot_parity is not None:
        print_parity(bot_parity)
    if json_out is not None:
        payload = report_json(results, questions=questions, via=via.value, region_aware=region_aware)
        if bot_parity is not None:
            payload["parity"] = parity_json(bot_parity)
        _write_json(json_out, payload)


def _run_direct(kb: KnowledgeBase, questions: Sequence[Question], method: str, region_aware: bool = True,
                label: str | None = None) -> RetrievalMetrics:
    ask = direct_asker(kb, method, region_aware=region_aware)
    ask(questions[0])  # warm-up: first-call allocations are not what residents wait for
    return evaluate(questions, ask, label or method)


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    console.print(f"已写入 {path}")


@app.command("splits")
def splits_command(
    questions: list[Path] = typer.Option(..., "--questions", help="问题集 YAML，可重复：如 dev、train、validation、test"),
    via: Via = typer.Option(Via.direct, "--via", help="direct：直接调用知识库；bot：经网关 POST /api/chat"),
    gateway_url: str | None = typer.Option(None, "--gateway-url", help="--via bot 时使用已运行的网关"),
    json_out: Path | None = typer.Option(None, "--json", help="把各问题集的指标写入此 JSON 文件"),
) -> None:
    """多个问题集并排评测（同一次运行、同一模型），最后一列是第一个与最后一个问题集之差。"""
    sets = [(path, _questions_or_exit(path)) for path in questions]
    settings = get_settings()
    if via is Via.bot:
        if gateway_url:
            results = [_evaluate_through(gateway_url, qs) for _, qs in sets]
        else:
            with assistant_stack(settings) as url:
                results = [_evaluate_through(url, qs) for _, qs in sets]
    else:
        kb = _load_knowledge_base(settings)
        results = [_run_direct(kb, qs, "hybrid") for _, qs in sets]
    names = [path.stem for path, _ in sets]
    console.print(metrics_table(results, f"via {via.value}", columns=names, gap=len(results) > 1))
    for name, result in zip(names, results, strict=True):
        if result.per_tag:
            console.print(tags_table(replace(result, method=name)))
    if json_out is not None:
        payload = {"via": via.value, "splits": {
            name: {**{k: v for k, v in asdict(result).items() if k != "rows"}, "questions_file": str(path)}
            for name, result, (path, _) in zip(names, results, sets, strict=True)}}
        _write_json(json_out, payload)


FUSION_GRID = (0.0, 0.25, 0.5, 1.0, 2.0)


@app.command("fusion")
def fusion_command(
    questions: list[Path] = typer.Option([DEFAULT_TRAINING], "--questions", help="训练用问题集 YAML（可重复；绝不能用测试集）"),
    top: int = typer.Option(8, "--top", min=1, help="显示前几组权重"),
) -> None:
    """选择融合权重：在训练问题上对字二元组 BM25、段落向量、句子向量、相似问四路的 RRF 权重做网格搜索（词 BM25 为 1），按 MRR 排序。"""
    import itertools

    from knowledge_base.search import _reciprocal_rank_fusion

    question_set = [q for path in questions for q in _questions_or_exit(path) if q.answerable]
    settings = get_settings()
    kb = _load_for_features(settings)
    with console.status(f"检索 {len(question_set)} 个问题…"):
        lists = []
        for question in question_set:
            text, region = search_text(question)
            lists.append((question, {name: np.asarray(ids) for name, ids in kb.rankings(text, region=region).items()}))
    results = []
    channels = ("bigram", "dense", "sentence", "paraphrase")
    for weights in itertools.product(FUSION_GRID, repeat=len(channels)):
        ranks = []
        for question, ranking in lists:
            fused, _ = _reciprocal_rank_fusion(
                [(ranking["bm25"], 1.0), *((ranking[c], w) for c, w in zip(channels, weights, strict=True))],
                settings.rrf_k)
            ranks.append(first_relevant_rank([kb.index.chunks[p].text for p in fused], question.evidence, depth=10))
        results.append((mean_reciprocal_rank(ranks), hit_at(ranks, 1), hit_at(ranks, 10), *weights))
    results.sort(reverse=True)
    table = Table(title=f"RRF 权重（{', '.join(p.name for p in questions)}，{len(question_set)} 个可回答问题；MRR@10）")
    for column in (*channels, "MRR", "hit@1", "hit@10"):
        table.add_column(column, justify="right")
    current = tuple(getattr(settings, f"rrf_{c}_weight") for c in channels)
    for mrr, h1, h10, *weights in results[:top] + [r for r in results if r[3:] == current]:
        table.add_row(*(f"{w}" for w in weights), f"{mrr:.3f}", f"{h1:.3f}", f"{h10:.3f}")
    console.print(table)
    console.print("最后一行是当前设置（RRF_BIGRAM_WEIGHT / RRF_DENSE_WEIGHT / RRF_SENTENCE_WEIGHT / RRF_PARAPHRASE_WEIGHT）。")


@app.command("calibrate")
def calibrate_command(
    questions: list[Path] = typer.Option(
        [DEFAULT_TRAINING], "--questions", help="训练用问题集 YAML（可重复；绝不能用测试集）"),
    folds: int = typer.Option(5, "--folds", min=2, help="选阈值用的交叉验证折数"),
    l2: float = typer.Option(1.0, "--l2", min=0.0, help="逻辑回归的 L2 正则强度"),
    output: Path | None = typer.Option(None, "--output", help="默认写入 settings.answerability_model_file"),
    json_out: Path | None = typer.Option(None, "--json", help="把交叉验证结果写入此 JSON 文件"),
) -> None:
    """拟合可答性模型（候选段落是否回答问题），用 k 折交叉验证的样本外结果选定“确定/可能相关”两个阈值，并保存。"""
    from knowledge_base.answerability import fit_model, save_model, with_thresholds

    question_set = [q for path in questions for q in _questions_or_exit(path)]
    if len(question_set) < folds:
        raise typer.BadParameter(f"问题太少（{len(question_set)} 个），不够分成 {folds} 折", param_hint="--questions")
    settings = get_settings()
    target = output or Path(settings.answerability_model_file)
    kb = _load_for_features(settings)
    with console.status(f"读取 {len(question_set)} 个问题的候选段落…"):
        rows = labelled_candidates(kb, question_set)
    try:
        validation = cross_validate(rows, question_set, folds=folds, l2=l2)
        model = fit_model([row for group in rows.values() for row in group], l2=l2)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--questions") from error
    files = ", ".join(path.name for path in questions)
    model = with_thresholds(model, *validation.thresholds,
                            note=f"fitted on {files}; thresholds from {folds}-fold cross-validation")
    target.parent.mkdir(parents=True, exist_ok=True)
    save_model(model, target)

    table = Table(title=f"可答性模型：{files}，{folds} 折交叉验证（样本外）")
    table.add_column("item")
    table.add_column("value", justify="right")
    for name, value in asdict(validation).items():
        table.add_row(name, f"{value:.3f}" if isinstance(value, float) else str(value))
    table.add_row("saved to", str(target))
    console.print(table)
    if json_out is not None:
        _write_json(json_out, {"questions": [str(p) for p in questions], "folds": folds, "l2": l2,
                               **asdict(validation), "weights": dict(zip(model.feature_names, model.weights))})



def labelled_candidates(kb: KnowledgeBase, questions: Sequence[Question]) -> dict[str, list[LabelledPassage]]:
    """Per question id, its candidate passages (retrieval order) with features and relevance labels."""
    from knowledge_base.answerability import LabelledPassage

    rows: dict[str, list[LabelledPassage]] = {}
    for question in questions:
        text, region = search_text(question)
        rows[question.id] = [
            LabelledPassage(question.id, features, question.answerable and is_relevant(passage.text, question.evidence))
            for passage, features in kb.candidate_features(text, region=region)
        ]
    return rows


@dataclass(frozen=True)
class CrossValidation:
    """Out-of-fold figures of the answerability model on the training questions, and the thresholds chosen."""

    questions: int
    retrieval_mrr_in_candidates: float  # MRR over the candidates in retrieval (fusion) order
    reranked_mrr_in_candidates: float  # the same after the model re-ranks them
    confident_threshold: float
    related_threshold: float
    confident_rate_answerable: float
    shown_rate_answerable: float  # confident or related
    confident_wrong_rate_answerable: float
    confident_rate_unanswerable: float
    related_rate_unanswerable: float

    @property
    def thresholds(self) -> tuple[float, float]:
        return self.confident_threshold, self.related_threshold


def cross_validate(rows: dict[str, list[LabelledPassage]], questions: Sequence[Question], *, folds: int,
                   l2: float, seed: int = 12393) -> CrossValidation:
    """Fit on k−1 folds, read the held-out fold; thresholds are chosen on the pooled held-out outcomes."""
    import random

    from knowledge_base.answerability import TopOutcome, choose_thresholds, fit_model

    ids = [q.id for q in questions]
    random.Random(seed).shuffle(ids)
    fold_of = {qid: position % folds for position, qid in enumerate(ids)}
    answerable = {q.id: q.answerable for q in questions}
    outcomes: list[TopOutcome] = []
    retrieval_ranks: list[int | None] = []
    reranked_ranks: list[int | None] = []
    for fold in range(folds):
        model = fit_model([row for qid, group in rows.items() if fold_of[qid] != fold for row in group], l2=l2)
        for qid in (qid for qid in ids if fold_of[qid] == fold):
            group = rows[qid]
            ranked = sorted(group, key=lambda row: -model.rank_score(row.features))
            confidence = model.probability(ranked[0].features) if ranked else 0.0
            outcomes.append(TopOutcome(confidence, answerable[qid], bool(ranked) and ranked[0].relevant,
                                       any(row.relevant for row in ranked[:MAX_RELATED_PASSAGES])))
            if answerable[qid]:
                retrieval_ranks.append(_first_relevant(group))
                reranked_ranks.append(_first_relevant(ranked))
    confident, related = choose_thresholds(outcomes)
    ans = [o for o in outcomes if o.answerable]
    unans = [o for o in outcomes if not o.answerable]
    return CrossValidation(
        questions=len(outcomes),
        retrieval_mrr_in_candidates=round(mean_reciprocal_rank(retrieval_ranks), 4),
        reranked_mrr_in_candidates=round(mean_reciprocal_rank(reranked_ranks), 4),
        confident_threshold=round(confident, 4),
        related_threshold=round(related, 4),
        confident_rate_answerable=round(share([o.confidence >= confident for o in ans]), 4),
        shown_rate_answerable=round(share([o.confidence >= related for o in ans]), 4),
        confident_wrong_rate_answerable=round(share([o.confidence >= confident and not o.top_relevant for o in ans]), 4),
        confident_rate_unanswerable=round(share([o.confidence >= confident for o in unans]), 4),
        related_rate_unanswerable=round(share([related <= o.confidence < confident for o in unans]), 4),
    )


def _first_relevant(rows: Sequence[LabelledPassage]) -> int | None:
    return next((rank for rank, row in enumerate(rows, start=1) if row.relevant), None)


def _load_for_features(settings: Settings) -> KnowledgeBase:
    """The knowledge base for feature collection, whatever model file exists (none, or one fitted on other
    features): features do not depend on the model, but ``KnowledgeBase.load`` reads one, so a neutral model
    from a temporary file stands in.
    """
    from knowledge_base.answerability import neutral_model, save_model

    placeholder = Path(tempfile.mkdtemp(prefix="hotline-answerability-")) / "neutral.json"
    save_model(neutral_model(), placeholder)
    return _load_knowledge_base(settings.model_copy(update={"answerability_model_file": placeholder}))
