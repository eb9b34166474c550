"""Retrieval metrics as pure functions over ranks, abstain flags and latencies (no model, no index).

A question's rank is the 1-based position of the first relevant passage among the top ``depth`` (5), or
``None`` when none of them is relevant. Hit@k and MRR are computed over answerable questions only; the band
rates split answerable from unanswerable questions, because answering the first and refusing the second are
different goals. Each reply falls in one band (``knowledge_base.answerability``): ``confident`` (an answer),
``related`` (passages shown as possibly related, not as an answer) or ``refused``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from eval.question_set import is_relevant

RANK_DEPTH = 5


@dataclass(frozen=True)
class QuestionOutcome:
    """What one search did for one question: the row of the per-question report."""

    id: str
    question: str
    answerable: bool
    rank: int | None  # first relevant passage among the top RANK_DEPTH; None: none relevant (or unanswerable)
    abstained: bool
    latency_ms: float
    top_title: str = ""
    top_section: str = ""
    top_region: str = ""
    confidence: float | None = None
    region: str | None = None  # the region the search applied
    note: str = ""  # e.g. what the bot said when it gave no cited policy answer
    routed: bool = True  # the question reached the policy answer (always, directly; via the bot, if NLU sent it)
    band: str = ""  # confident | related | refused ("" → derived from ``abstained``)
    shown_rank: int | None = None  # first relevant passage among the ≤ 3 a reply shows (answer or related)
    tags: tuple[str, ...] = ()

    @property
    def reply_band(self) -> str:
        return self.band or ("refused" if self.abstained else "confident")


@dataclass(frozen=True)
class RetrievalMetrics:
    method: str
    n_answerable: int
    n_unanswerable: int
    hit_at_1: float
    hit_at_3: float
    hit_at_5: float
    mrr: float
    answer_rate_answerable: float
    abstain_rate_unanswerable: float
    # What a resident sees: a relevant passage among the citations of an answer that was given (an abstention
    # cites nothing). The bot cites at most three passages, so these are the figures to compare with it.
    cited_hit_at_1: float
    cited_hit_at_3: float
    latency_ms_p50: float
    latency_ms_p95: float
    # Bands: confident = answered; related = shown as possibly related; refusal = neither.
    confident_rate_answerable: float = 0.0
    related_rate_answerable: float = 0.0
    refusal_rate_answerable: float = 0.0
    confident_rate_unanswerable: float = 0.0
    related_rate_unanswerable: float = 0.0
    refusal_rate_unanswerable: float = 0.0
    # Answerable questions answered confidently with a first citation that is not relevant: wrong answers.
    confident_wrong_rate_answerable: float = 0.0
    # What a reply shows, answer or possibly related passages: first shown relevant, any of the ≤ 3 relevant.
    shown_hit_at_1: float = 0.0
    shown_hit_at_3: float = 0.0
    per_tag: dict[str, dict[str, float]] = field(default_factory=dict)
    rows: list[QuestionOutcome] = field(default_factory=list)


def first_relevant_rank(passage_texts: Sequence[str], evidence: Sequence[str], depth: int = RANK_DEPTH) -> int | None:
    """1-based rank of the first passage (of the top ``depth``) containing any evidence string."""
    for rank, text in enumerate(passage_texts[:depth], start=1):
        if is_relevant(text, evidence):
            return rank
    return None


def hit_at(ranks: Sequence[int | None], k: int) -> float:
    """Share of questions whose first relevant passage is within the top ``k``."""
    if not ranks:
        return 0.0
    return sum(1 for rank in ranks if rank is not None and rank <= k) / len(ranks)


def mean_reciprocal_rank(ranks: Sequence[int | None]) -> float:
    """Mean of 1/rank, a miss counting 0."""
    if not ranks:
        return 0.0
    return sum(1.0 / rank for rank in ranks if rank is not None) / len(ranks)


def share(flags: Sequence[bool]) -> float:
    """Share of true flags; 0.0 for no flags (a rate over nothing is reported as 0, with its n beside it)."""
    return sum(1 for flag in flags if flag) / len(flags) if flags else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0–100): always one of the measured values, never an interpolation."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile q must be within 0..100, got {q}")
    ordered = sorted(values)
    rank = max(1, math.ceil(len(ordered) * q / 100))
    return ordered[rank - 1]


def summarise(method: str, rows: Sequence[QuestionOutcome]) -> RetrievalMetrics:
    """Per-question outcomes in, the figures of one retrieval method out."""
    return _summarise(method, rows, per_tag=_per_tag(rows))


def _summarise(method: str, rows: Sequence[QuestionOutcome], per_tag: dict[str, dict[str, float]]) -> RetrievalMetrics:
    answerable = [row for row in rows if row.answerable]
    unanswerable = [row for row in rows if not row.answerable]
    ranks = [row.rank for row in answerable]
    confident = [row.reply_band == "confident" for row in answerable]
    cited_ranks = [row.rank if answered else None for row, answered in zip(answerable, confident, strict=True)]
    shown_ranks = [row.shown_rank for row in answerable]
    latencies = [row.latency_ms for row in rows]

    def band_rate(group: Sequence[QuestionOutcome], band: str) -> float:
        return round(share([row.reply_band == band for row in group]), 4)

    return RetrievalMetrics(
        method=method,
        n_answerable=len(answerable),
        n_unanswerable=len(unanswerable),
        hit_at_1=round(hit_at(ranks, 1), 4),
        hit_at_3=round(hit_at(ranks, 3), 4),
        hit_at_5=round(hit_at(ranks, 5), 4),
        mrr=round(mean_reciprocal_rank(ranks), 4),
        answer_rate_answerable=band_rate(answerable, "confident"),
        abstain_rate_unanswerable=round(share([row.reply_band != "confident" for row in unanswerable]), 4),
        cited_hit_at_1=round(hit_at(cited_ranks, 1), 4),
        cited_hit_at_3=round(hit_at(cited_ranks, 3), 4),
        latency_ms_p50=round(percentile(latencies, 50), 1) if latencies else 0.0,
        latency_ms_p95=round(percentile(latencies, 95), 1) if latencies else 0.0,
        confident_rate_answerable=band_rate(answerable, "confident"),
        related_rate_answerable=band_rate(answerable, "related"),
        refusal_rate_answerable=band_rate(answerable, "refused"),
        confident_rate_unanswerable=band_rate(unanswerable, "confident"),
        related_rate_unanswerable=band_rate(unanswerable, "related"),
        refusal_rate_unanswerable=band_rate(unanswerable, "refused"),
        confident_wrong_rate_answerable=round(
            share([answered and row.shown_rank != 1 for row, answered in zip(answerable, confident, strict=True)]), 4),
        shown_hit_at_1=round(hit_at(shown_ranks, 1), 4),
        shown_hit_at_3=round(hit_at(shown_ranks, 3), 4),
        per_tag=per_tag,
        rows=list(rows),
    )


# The figures given per tag (a tag's questions alone), with the tag's question counts.
TAG_FIGURES = ("hit_at_1", "hit_at_5", "mrr", "confident_rate_answerable", "related_rate_answerable",
               "confident_wrong_rate_answerable", "shown_hit_at_1", "shown_hit_at_3", "confident_rate_unanswerable")


def _per_tag(rows: Sequence[QuestionOutcome]) -> dict[str, dict[str, float]]:
    tags = sorted({tag for row in rows for tag in row.tags})
    figures: dict[str, dict[str, float]] = {}
    for tag in tags:
        group = [row for row in rows if tag in row.tags]
        metrics = _summarise(tag, group, per_tag={})
        figures[tag] = {"n_answerable": metrics.n_answerable, "n_unanswerable": metrics.n_unanswerable,
                        **{name: getattr(metrics, name) for name in TAG_FIGURES}}
    return figures


@dataclass(frozen=True)
class Parity:
    """The bot path against the direct path, question by question.

    ``routed``: answerable questions the bot's NLU sent to the policy answer. ``same``: of those, the ones whose
    outcome matches the direct search — both abstain, or both quote the same passage first. What is left over is
    the dialogue's doing (a question taken for a lookup, a report, small talk), not the search's.
    """

    n_answerable: int
    routed: int
    same: int
    misrouted: list[QuestionOutcome]
    differing: list[tuple[QuestionOutcome, QuestionOutcome]]  # (direct, bot), routed but not the same


def parity(direct: Sequence[QuestionOutcome], bot: Sequence[QuestionOutcome]) -> Parity:
    """Pair the two runs of one question set by question id (answerable questions only)."""
    by_id = {row.id: row for row in direct}
    routed = [row for row in bot if row.answerable and row.routed]
    differing = [(by_id[row.id], row) for row in routed if _outcome(by_id[row.id]) != _outcome(row)]
    return Parity(
        n_answerable=sum(1 for row in bot if row.answerable),
        routed=len(routed),
        same=len(routed) - len(differing),
        misrouted=[row for row in bot if row.answerable and not row.routed],
        differing=differing,
    )


def _outcome(row: QuestionOutcome) -> tuple[str, ...]:
    if row.reply_band == "refused":
        return ("refused",)
    return (row.reply_band, row.top_title, row.top_section, row.top_region)
