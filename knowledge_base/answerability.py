"""Does this passage answer this question? Features of one (question, passage) pair → P(relevant) → a band.

The search reads each of its best candidates against the question (``PassageFeatures``: how retrieval ranked it,
and what the passage says — the question's rare words, the sentence that covers them best, the kind of fact
asked for). A listwise model (a softmax over each question's candidates) re-ranks them, and a logistic model
turns the features into the probability that a passage answers the question: the first passage's probability is
the answer's **confidence**, which falls in one of three bands:

- ``confident`` (≥ ``confident_threshold``): answer, quoting the passage and its source;
- ``related`` (≥ ``related_threshold``): say no exact rule was found and show the best passages as possibly
  related, with 转人工;
- ``refused``: nothing relevant; say so and offer 转人工.

The model is committed JSON (``settings.answerability_model_file``) written by ``hotline eval calibrate``, which
fits it on the training questions and chooses both thresholds out of sample (k-fold cross-validation).

``fit_model(rows, *, l2) -> AnswerabilityModel`` fits both on standardised features, numpy only: the
probability by L2-regularised logistic regression (Newton's method), the ranking by L2-regularised softmax
regression over each question's candidates (gradient descent). The ranking is fitted apart because choosing the
best of a question's candidates is a different task from judging each alone: in grouped 5-fold cross-validation
over train and validation it put the right passage first for 0.800 of the answerable questions against 0.760
when ranked by the probability. ``choose_thresholds(outcomes, …)`` places the thresholds.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

import numpy as np

BANDS = ("confident", "related", "refused")


@dataclass(frozen=True)
class PassageFeatures:
    reciprocal_rank: float  # 1 / the passage's rank in the fused retrieval list
    bm25_strength: float  # its BM25 score / the best this question could score (0–1)
    bm25_relative: float  # its BM25 score / the best chunk's
    bigram_relative: float  # its character-bigram BM25 score / the best chunk's
    dense_cosine: float  # cosine of its embedding to the question's
    dense_margin: float  # how far that cosine stands above the median of the candidates
    sentence_cosine: float  # cosine of its closest sentence to the question
    paraphrase_cosine: float  # cosine of its closest resident phrasing (相似问); its sentence_cosine if it has none
    term_coverage: float  # IDF-weighted share of the question's words (or synonyms) in it
    sentence_coverage: float  # the same share in its best single sentence
    section_coverage: float  # the same share in its headings (第三章 … > 四、稳步建立长期护理保险制度)
    rarest_missing: float  # weight (IDF / max IDF) of the rarest question word it lacks
    unmet_kinds: float  # asked-for kinds of fact (a figure, a time limit, a place) it does not state
    oov_rate: float  # IDF-weighted share of the question's words the corpus never uses
    other_place: float  # 1 when the question names a place the corpus has no document for

    def vector(self) -> np.ndarray:
        return np.array([getattr(self, f.name) for f in fields(self)], dtype=np.float64)


FEATURE_NAMES = tuple(f.name for f in fields(PassageFeatures))


@dataclass(frozen=True)
class LabelledPassage:
    """One training row: a question's candidate passage and whether it answers the question."""

    question_id: str
    features: PassageFeatures
    relevant: bool


@dataclass(frozen=True)
class AnswerabilityModel:
    feature_names: tuple[str, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    confident_threshold: float
    related_threshold: float
    fitted_on: int = 0  # questions
    note: str = ""
    rank_weights: tuple[float, ...] = ()  # the listwise ranking; without it candidates are ranked by probability

    def probability(self, features: PassageFeatures) -> float:
        """P(the passage answers the question), 0–1."""
        return float(1.0 / (1.0 + math.exp(-(float(self._standardised(features) @ np.asarray(self.weights)) + self.bias))))

    def rank_score(self, features: PassageFeatures) -> float:
        """How strongly to prefer this passage over the question's other candidates (higher first)."""
        if not self.rank_weights:
            return self.probability(features)
        return float(self._standardised(features) @ np.asarray(self.rank_weights))

    def _standardised(self, features: PassageFeatures) -> np.ndarray:
        return (features.vector() - np.asarray(self.means)) / np.asarray(self.scales)

    def band(self, confidence: float) -> str:
        if confidence >= self.confident_threshold:
            return "confident"
        return "related" if confidence >= self.related_threshold else "refused"


def fit_model(rows: Sequence[LabelledPassage], *, l2: float = 1.0, rank_l2: float = 1.0) -> AnswerabilityModel:
    """Labelled passages in (both classes needed), a model with placeholder thresholds (0.5 / 0.25) out."""
    labels = np.array([row.relevant for row in rows], dtype=np.float64)
    if len(rows) < 4 or labels.min() == labels.max():
        raise ValueError("拟合至少需要 4 个候选段落，且要同时包含相关和不相关的段落。")
    x = np.stack([row.features.vector() for row in rows])
    means = x.mean(axis=0)
    scales = np.where(x.std(axis=0) > 1e-9, x.std(axis=0), 1.0)
    z = np.hstack([(x - means) / scales, np.ones((len(rows), 1))])
    beta = np.zeros(z.shape[1])
    penalty = np.eye(z.shape[1]) * l2
    penalty[-1, -1] = 0.0  # the bias is not shrunk
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(z @ beta)))
        gradient = z.T @ (p - labels) + penalty @ beta
        hessian = (z * (p * (1 - p))[:, None]).T @ z + penalty
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return AnswerabilityModel(
        feature_names=FEATURE_NAMES,
        means=tuple(float(v) for v in means),
        scales=tuple(float(v) for v in scales),
        weights=tuple(float(v) for v in beta[:-1]),
        bias=float(beta[-1]),
        confident_threshold=0.5,
        related_threshold=0.25,
        fitted_on=len({row.question_id for row in rows}),
        note=f"logistic regression over candidate passages, l2={l2}; listwise ranking, l2={rank_l2}",
        rank_weights=tuple(float(v) for v in _fit_ranking(z[:, :-1], labels, [row.question_id for row in rows], rank_l2)),
    )


def _fit_ranking(z: np.ndarray, labels: np.ndarray, questions: Sequence[str], l2: float,
                 *, steps: int = 300, rate: float = 0.5) -> np.ndarray:
    """Softmax regression over each question's candidates towards its relevant ones (questions with none add
    nothing): the weights that put a relevant passage first."""
    order = {qid: i for i, qid in enumerate(dict.fromkeys(questions))}
    group = np.array([order[qid] for qid in questions])
    groups = [rows for rows in (np.flatnonzero(group == g) for g in range(len(order))) if labels[rows].any()]
    weights = np.zeros(z.shape[1])
    for _ in range(steps):
        gradient = l2 * weights
        for rows in groups:
            scores = z[rows] @ weights
            p = np.exp(scores - scores.max())
            p /= p.sum()
            gradient += z[rows].T @ (p - labels[rows] / labels[rows].sum())
        weights -= rate * gradient / max(len(groups), 1)
    return weights


@dataclass(frozen=True)
class TopOutcome:
    """What the re-ranked search gave one question: the best passage's probability and whether it was right."""

    confidence: float
    answerable: bool
    top_relevant: bool  # the first passage answers the question
    shown_relevant: bool  # one of the passages a "related" reply shows answers it


@dataclass(frozen=True)
class ThresholdTargets:
    max_confident_unanswerable: float = 0.03  # unanswerable questions answered confidently
    max_confident_wrong: float = 0.05  # answerable questions confidently answered with a wrong first passage
    min_shown_answerable: float = 0.95  # answerable questions answered or shown possibly related passages


def choose_thresholds(
    outcomes: Sequence[TopOutcome], targets: ThresholdTargets = ThresholdTargets()
) -> tuple[float, float]:
    """(confident, related) thresholds from out-of-sample outcomes.

    Confident: the lowest threshold (so the most answers) at which confidently answered unanswerable questions
    and confidently wrong answers both stay within their limits. Related: the highest threshold below it at which
    at least ``min_shown_answerable`` of the answerable questions still get an answer or related passages
    (so residents whose question the corpus does not touch get a plain refusal), else the lowest candidate.
    """
    confidences = sorted({o.confidence for o in outcomes})
    candidates = [0.0] + [(a + b) / 2 for a, b in zip(confidences[:-1], confidences[1:])] + [1.0]
    answerable = [o for o in outcomes if o.answerable]
    unanswerable = [o for o in outcomes if not o.answerable]

    def confident_ok(t: float) -> bool:
        unanswered_ok = _share([o.confidence >= t for o in unanswerable]) <= targets.max_confident_unanswerable
        wrong_ok = _share([o.confidence >= t and not o.top_relevant for o in answerable]) <= targets.max_confident_wrong
        return unanswered_ok and wrong_ok

    confident = next((t for t in candidates if confident_ok(t)), 1.0)
    related = next(
        (t for t in reversed(candidates) if t <= confident
         and _share([o.confidence >= t for o in answerable]) >= targets.min_shown_answerable),
        0.0,
    )
    return confident, related


def _share(flags: Sequence[bool]) -> float:
    return sum(flags) / len(flags) if flags else 0.0


def with_thresholds(model: AnswerabilityModel, confident: float, related: float, note: str = "") -> AnswerabilityModel:
    return replace(model, confident_threshold=float(confident), related_threshold=float(min(related, confident)),
                   note=f"{model.note}; {note}" if note else model.note)


def save_model(model: AnswerabilityModel, path: Path) -> None:
    Path(path).write_text(json.dumps(asdict(model), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def load_model(path: Path) -> AnswerabilityModel:
    """The model JSON in, an ``AnswerabilityModel`` out; a clear error when it is missing or for other features."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"找不到可答性模型文件 {path}：请运行 `hotline eval calibrate`。")
    data = json.loads(path.read_text(encoding="utf-8"))
    tuples = ("feature_names", "means", "scales", "weights", "rank_weights")
    model = AnswerabilityModel(**{**data, **{k: tuple(data[k]) for k in tuples if k in data}})
    if model.feature_names != FEATURE_NAMES:
        raise ValueError(f"{path.name} 是按另一组特征拟合的（{model.feature_names}），请重新运行 `hotline eval calibrate`。")
    return model


def neutral_model() -> AnswerabilityModel:
    """A model that trusts the retrieval order and answers nothing confidently: for fitting the first real one."""
    n = len(FEATURE_NAMES)
    return AnswerabilityModel(FEATURE_NAMES, (0.0,) * n, (1.0,) * n, (0.0,) * n, 0.0, 1.01, 1.01, note="placeholder")
