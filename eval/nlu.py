"""`hotline eval nlu`: how well the bot understands residents — intent and entity F1 of the Rasa NLU pipeline.

Rasa lives in its own Python 3.10 venv, so this module (Python 3.11) runs `rasa test nlu` as a subprocess
with cwd=bot/ (bot/config.yml names the jieba dictionary relative to bot/) and then reads the JSON reports
Rasa writes:

- `intent_report.json`: per-intent precision/recall/f1/support and `confused_with` counts;
- `DIETClassifier_report.json`: the same per entity.

Two modes:
- default: stratified k-fold cross-validation over all of bot/data (every example is tested once);
- `--quick`: one stratified 80/20 split (`rasa data split nlu`), train on 80 %, test on 20 % — one training
  instead of k, for iterating on the data.

Intent macro-F1 is averaged over the intents that have test examples (support > 0), so a label that is only
ever predicted cannot drag it down or up. Rasa scores the top intent: it undoes the FallbackClassifier's
`nlu_fallback` before comparing. How often the deployed bot would instead ask the resident to rephrase is
reported separately: the share of test examples whose top confidence is below the fallback threshold in
bot/config.yml.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import typer
import yaml
from rich.console import Console
from rich.table import Table

from hotline.settings import PROJECT_ROOT, VAR_DIR, get_settings

app = typer.Typer()
console = Console()

BOT_DIR = PROJECT_ROOT / "bot"
INTENT_REPORT = "intent_report.json"
ENTITY_REPORT = "DIETClassifier_report.json"
# sklearn's summary rows in a classification report; everything else is a label.
SUMMARY_KEYS = frozenset({"accuracy", "micro avg", "macro avg", "weighted avg", "samples avg"})


@dataclass(frozen=True)
class LabelScore:
    """One intent or entity type."""

    label: str
    precision: float
    recall: float
    f1: float
    support: int
    confused_with: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ReportSummary:
    """One Rasa classification report, reduced to the figures we track."""

    macro_f1: float  # over labels with support > 0
    weighted_f1: float
    rasa_macro_f1: float  # Rasa's "macro avg", which would include labels that are only ever predicted
    accuracy: float | None  # intents only; entity reports have micro avg instead
    micro_f1: float | None
    labels: list[LabelScore]


@dataclass(frozen=True)
class ConfusedPair:
    true_label: str
    predicted_label: str
    count: int


@dataclass(frozen=True)
class NluEvaluation:
    mode: str  # "cross-validation" or "split"
    folds: int | None
    examples: int
    seconds: float
    intents: ReportSummary
    entities: ReportSummary | None
    confused_pairs: list[ConfusedPair]
    report_dir: str
    fallback_threshold: float | None = None
    below_fallback_threshold: float | None = None  # share of test examples the bot would ask to rephrase


class RasaNotInstalledError(RuntimeError):
    """The Rasa venv is missing; the message says how to build it."""


def parse_report(report: dict) -> ReportSummary:
    """Reduce a Rasa/sklearn classification report (the dict in `*_report.json`) to a `ReportSummary`."""
    labels = [
        LabelScore(
            label=name,
            precision=float(row["precision"]),
            recall=float(row["recall"]),
            f1=float(row["f1-score"]),
            support=int(row["support"]),
            confused_with={k: int(v) for k, v in (row.get("confused_with") or {}).items()},
        )
        for name, row in report.items()
        if name not in SUMMARY_KEYS and isinstance(row, dict)
    ]
    present = [score for score in labels if score.support > 0]
    macro = sum(s.f1 for s in present) / len(present) if present else 0.0
    accuracy = report.get("accuracy")
    micro = report.get("micro avg", {}).get("f1-score")
    return ReportSummary(
        macro_f1=round(macro, 4),
        weighted_f1=round(float(report.get("weighted avg", {}).get("f1-score", 0.0)), 4),
        rasa_macro_f1=round(float(report.get("macro avg", {}).get("f1-score", 0.0)), 4),
        accuracy=None if accuracy is None else round(float(accuracy), 4),
        micro_f1=None if micro is None else round(float(micro), 4),
        labels=sorted(labels, key=lambda s: (s.f1, s.label)),
    )


def confused_pairs(summary: ReportSummary, top: int = 10) -> list[ConfusedPair]:
    """The most frequent (true → predicted) mistakes, from the reports' `confused_with` counts."""
    pairs = [
        ConfusedPair(score.label, predicted, count)
        for score in summary.labels
        for predicted, count in score.confused_with.items()
        if count > 0
    ]
    return sorted(pairs, key=lambda p: (-p.count, p.true_label, p.predicted_label))[:top]


def read_reports(report_dir: Path) -> tuple[ReportSummary, ReportSummary | None]:
    """Parse the intent report (required) and the DIET entity report (absent if no entity was annotated)."""
    intent_path = report_dir / INTENT_REPORT
    if not intent_path.exists():
        raise FileNotFoundError(f"Rasa did not write {intent_path}; see {report_dir / 'rasa.log'}")
    intents = parse_report(json.loads(intent_path.read_text(encoding="utf-8")))
    entity_path = report_dir / ENTITY_REPORT
    entities = parse_report(json.loads(entity_path.read_text(encoding="utf-8"))) if entity_path.exists() else None
    return intents, entities


def fallback_threshold(config: Path) -> float | None:
    """The FallbackClassifier's threshold in a Rasa config, or None without one."""
    pipeline = (yaml.safe_load(config.read_text(encoding="utf-8")) or {}).get("pipeline") or []
    for component in pipeline:
        if component.get("name") == "FallbackClassifier":
            return float(component.get("threshold", 0.3))  # Rasa's default threshold
    return None


def low_confidence_share(report_dir: Path, threshold: float) -> float | None:
    """Share of test examples whose top intent confidence is below `threshold` (right or wrong).

    Needs both `intent_successes.json` (written with `--successes`) and `intent_errors.json`.
    """
    files = [report_dir / "intent_successes.json", report_dir / "intent_errors.json"]
    if not all(path.exists() for path in files):
        return None
    predictions = [row for path in files for row in json.loads(path.read_text(encoding="utf-8"))]
    if not predictions:
        return None
    low = sum(1 for row in predictions if float(row["intent_prediction"]["confidence"]) < threshold)
    return round(low / len(predictions), 4)


def count_examples(report: ReportSummary) -> int:
    return sum(score.support for score in report.labels)


def rasa_executable() -> Path:
    executable = get_settings().rasa_executable
    if not executable.exists():
        raise RasaNotInstalledError(
            f"找不到 Rasa：{executable} 不存在。请先运行 `make setup`（或 `make .venv-rasa/.installed`）"
            " 建立 Python 3.10 的 Rasa 环境。"
        )
    return executable


def _run_rasa(args: list[str], log_file: Path) -> None:
    """Run one rasa command in bot/ with its output in a log file (it is long, and mostly TensorFlow)."""
    with log_file.open("a", encoding="utf-8") as log:
        log.write(f"$ rasa {' '.join(args)}\n")
        log.flush()
        completed = subprocess.run(
            [str(rasa_executable()), *args], cwd=BOT_DIR, stdout=log, stderr=subprocess.STDOUT, check=False
        )
    if completed.returncode != 0:
        tail = "\n".join(log_file.read_text(encoding="utf-8", errors="replace").splitlines()[-25:])
        raise RuntimeError(f"`rasa {args[0]} {args[1]}` failed (exit {completed.returncode}):\n{tail}")


def run_cross_validation(report_dir: Path, folds: int, nlu_data: Path, config: Path) -> None:
    _run_rasa(
        ["test", "nlu", "--cross-validation", "--folds", str(folds), "--config", str(config),
         "--nlu", str(nlu_data), "--out", str(report_dir), "--no-plot", "--successes"],
        report_dir / "rasa.log",
    )


def run_split(report_dir: Path, nlu_data: Path, config: Path, seed: int = 12393) -> None:
    """Stratified 80/20 split: train on one part, test on the other (one training instead of k)."""
    split_dir = report_dir / "split"
    log_file = report_dir / "rasa.log"
    _run_rasa(["data", "split", "nlu", "--nlu", str(nlu_data), "--training-fraction", "0.8",
               "--random-seed", str(seed), "--out", str(split_dir)], log_file)
    train_file = next(split_dir.glob("training_data.*"))
    test_file = next(split_dir.glob("test_data.*"))
    model_dir = report_dir / "model"
    _run_rasa(["train", "nlu", "--config", str(config), "--nlu", str(train_file), "--out", str(model_dir),
               "--fixed-model-name", "nlu-split"], log_file)
    _run_rasa(["test", "nlu", "--model", str(model_dir / "nlu-split.tar.gz"), "--nlu", str(test_file),
               "--out", str(report_dir), "--no-plot", "--successes"], log_file)


def evaluate(
    *, folds: int = 5, quick: bool = False, report_dir: Path | None = None,
    nlu_data: Path = BOT_DIR / "data", config: Path = BOT_DIR / "config.yml",
) -> NluEvaluation:
    mode = "split" if quick else "cross-validation"
    report_dir = (report_dir or VAR_DIR / "eval" / f"nlu-{mode}").resolve()
    report_dir.mkdir(parents=True, exist_ok=True)
    for stale in (INTENT_REPORT, ENTITY_REPORT, "intent_successes.json", "intent_errors.json", "rasa.log"):
        (report_dir / stale).unlink(missing_ok=True)

    start = time.perf_counter()
    if quick:
        run_split(report_dir, nlu_data.resolve(), config.resolve())
    else:
        run_cross_validation(report_dir, folds, nlu_data.resolve(), config.resolve())
    seconds = time.perf_counter() - start

    intents, entities = read_reports(report_dir)
    threshold = fallback_threshold(config)
    return NluEvaluation(
        mode=mode, folds=None if quick else folds, examples=count_examples(intents), seconds=round(seconds, 1),
        intents=intents, entities=entities, confused_pairs=confused_pairs(intents), report_dir=str(report_dir),
        fallback_threshold=threshold,
        below_fallback_threshold=None if threshold is None else low_confidence_share(report_dir, threshold),
    )


def _scores_table(title: str, summary: ReportSummary) -> Table:
    table = Table(title=title)
    for column in ("label", "precision", "recall", "f1", "support", "confused with"):
        table.add_column(column, justify="left" if column in ("label", "confused with") else "right")
    for score in summary.labels:
        style = "red" if score.support and score.f1 < 0.85 else None
        confused = ", ".join(f"{label}×{count}" for label, count in score.confused_with.items())
        table.add_row(score.label, f"{score.precision:.3f}", f"{score.recall:.3f}", f"{score.f1:.3f}",
                      str(score.support), confused, style=style)
    return table


def print_evaluation(result: NluEvaluation) -> None:
    console.print(_scores_table("intents", result.intents))
    if result.entities:
        console.print(_scores_table("entities (DIETClassifier)", result.entities))
    if result.confused_pairs:
        pairs = Table(title="most confused intent pairs (true → predicted)")
        pairs.add_column("true")
        pairs.add_column("predicted")
        pairs.add_column("count", justify="right")
        for pair in result.confused_pairs:
            pairs.add_row(pair.true_label, pair.predicted_label, str(pair.count))
        console.print(pairs)
    how = f"{result.folds}-fold cross-validation" if result.folds else "80/20 split"
    console.print(
        f"[bold]{how}[/bold], {result.examples} test examples, {result.seconds:.0f} s — "
        f"intent macro-F1 [bold]{result.intents.macro_f1:.3f}[/bold] "
        f"(Rasa macro avg {result.intents.rasa_macro_f1:.3f}), "
        f"accuracy {result.intents.accuracy}, weighted-F1 {result.intents.weighted_f1:.3f}"
    )
    if result.below_fallback_threshold is not None:
        console.print(
            f"{result.below_fallback_threshold:.1%} of test examples are below the fallback threshold "
            f"{result.fallback_threshold} (the bot would ask the resident to rephrase)"
        )
    if result.entities:
        console.print(
            f"entity macro-F1 [bold]{result.entities.macro_f1:.3f}[/bold], "
            f"weighted-F1 {result.entities.weighted_f1:.3f}, micro-F1 {result.entities.micro_f1}"
        )
    console.print(f"reports: {result.report_dir}")


@app.command("nlu")
def nlu_command(
    folds: int = typer.Option(5, min=2, help="交叉验证折数。"),
    quick: bool = typer.Option(False, "--quick", help="只做一次分层 80/20 划分（训练一次，更快）。"),
    json_out: Path | None = typer.Option(None, "--json", help="把结果另存为 JSON 文件。"),
    report_dir: Path | None = typer.Option(None, help="Rasa 报告的输出目录（默认 var/eval/nlu-*）。"),
    min_macro_f1: float = typer.Option(0.0, help="意图宏平均 F1 低于此值时以状态 1 退出。"),
) -> None:
    """NLU 评测：意图宏平均 F1、实体 F1 和最易混淆的意图（交叉验证或 80/20 划分）。"""
    try:
        rasa_executable()
    except RasaNotInstalledError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from error
    how = "an 80/20 split" if quick else f"{folds}-fold cross-validation"
    console.print(f"Evaluating NLU by {how}; Rasa trains {'once' if quick else f'{folds} times'}, please wait …")
    try:
        result = evaluate(folds=folds, quick=quick, report_dir=report_dir)
    except (RuntimeError, FileNotFoundError) as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
    print_evaluation(result)
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(asdict(result), ensure_ascii=False, indent=2), encoding="utf-8")
        console.print(f"wrote {json_out}")
    if result.intents.macro_f1 < min_macro_f1:
        console.print(f"[red]intent macro-F1 {result.intents.macro_f1:.3f} < {min_macro_f1}[/red]")
        raise typer.Exit(1)
