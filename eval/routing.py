"""`hotline eval routing`: does a policy question reach the policy answer through the chat API, whatever its
wording?

Every question asked here is one for the documents (none is a lookup, a report or a rating). It counts as
**routed** when the reply carries the policy action's payload in any band (an answer, possibly related passages,
or the refusal with 转人工, before an identity form included), and as **misrouted** when the bot took it for
something else: the identity form alone, a ticket, a pleasantry. Retrieval quality is `hotline eval retrieval`'s
business; this measures only the classifier and the phrasing cues in front of it.

Sources: plain-text files, one question per line (``#`` starts a comment), such as
``eval/questions/routing_probes.txt``; with ``--phrasings``, the corpus's resident phrasings
(the ``.questions.yaml`` beside each document of ``settings.corpus_dir``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from eval.question_set import Question
from eval.retrieval import NO_POLICY_ANSWER, BotUnavailableError, GatewayAsker, _write_json, assistant_stack
from hotline.settings import PROJECT_ROOT, get_settings
from knowledge_base.loaders import corpus_files
from knowledge_base.paraphrases import paraphrase_path_for, read_phrasings

app = typer.Typer()
console = Console()

DEFAULT_PROBES = PROJECT_ROOT / "eval" / "questions" / "routing_probes.txt"


@dataclass(frozen=True)
class Misrouted:
    question: str
    bot_said: str


@dataclass(frozen=True)
class Routing:
    source: str
    asked: int
    routed: int
    misrouted: list[Misrouted]

    @property
    def routed_share(self) -> float:
        return self.routed / self.asked if self.asked else 0.0


def read_probe_file(path: Path) -> list[str]:
    """One question per line; blank lines and ``#`` comments skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise typer.BadParameter(f"无法读取 {path}：{error}", param_hint="--questions") from error
    questions = [line.split("#", 1)[0].strip() for line in lines]
    if not any(questions):
        raise typer.BadParameter(f"{path} 里没有问题（每行一个，# 后为注释）", param_hint="--questions")
    return [q for q in questions if q]


def corpus_phrasings(corpus_dir: Path) -> list[str]:
    """The phrasings the index attaches: those of each corpus document's ``.questions.yaml``."""
    questions: list[str] = []
    for path in (paraphrase_path_for(document) for document in corpus_files(corpus_dir)):
        if not path.exists():
            continue
        try:
            questions += [q for _, qs in read_phrasings(path) for q in qs]
        except ValueError as error:  # a malformed file: say which, as the index build does
            raise typer.BadParameter(f"{path.name}：{error}", param_hint="--phrasings") from error
    return questions


def route(ask: GatewayAsker, source: str, questions: list[str]) -> Routing:
    misrouted = []
    for number, text in enumerate(questions, start=1):
        answer = ask(Question(id=f"{source}#{number}", question=text))
        if not answer.routed:
            misrouted.append(Misrouted(text, answer.note.removeprefix(NO_POLICY_ANSWER)))
    return Routing(source, len(questions), len(questions) - len(misrouted), misrouted)


@app.command("routing")
def routing_command(
    questions: list[Path] = typer.Option([DEFAULT_PROBES], "--questions", help="问题文件（每行一个政策问题），可重复"),
    phrasings: bool = typer.Option(False, "--phrasings", help="同时询问语料库里的全部相似问（约 1 900 个）"),
    gateway_url: str | None = typer.Option(None, "--gateway-url", help="使用已运行的网关（须放宽限流）；不给则自动启动助手"),
    json_out: Path | None = typer.Option(None, "--json", help="把结果写入此 JSON 文件"),
) -> None:
    """政策问题经 POST /api/chat 是否得到政策回答（任一档）；列出被当成查询、工单或闲聊的问题。"""
    settings = get_settings()
    sources = [(path.name, read_probe_file(path)) for path in questions]
    if phrasings:
        sources.append(("corpus phrasings", corpus_phrasings(Path(settings.corpus_dir))))

    def run(url: str) -> list[Routing]:
        ask = GatewayAsker(url)
        try:
            return [route(ask, name, qs) for name, qs in sources]
        except BotUnavailableError as error:
            console.print(f"[red]{error}[/red]")
            raise typer.Exit(code=1) from error
        finally:
            ask.close()

    if gateway_url:
        results = run(gateway_url)
    else:
        with assistant_stack(settings) as url:
            results = run(url)

    table = Table(title="政策问题的去向（经网关）")
    for column in ("source", "asked", "routed", "share"):
        table.add_column(column, justify="left" if column == "source" else "right")
    for result in results:
        table.add_row(result.source, str(result.asked), str(result.routed), f"{result.routed_share:.3f}")
    console.print(table)
    for result in results:
        for miss in result.misrouted:
            console.print(f"[yellow]未得到政策回答[/yellow] {result.source}：{miss.question} → {miss.bot_said[:50]}")
    if json_out is not None:
        _write_json(json_out, {"sources": [{**asdict(r), "routed_share": round(r.routed_share, 4)} for r in results]})
