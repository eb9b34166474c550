"""Deciding when the corpus cannot answer: features of a retrieval → calibrated confidence → abstain or not.

The decision is a logistic model over ``AbstainFeatures`` whose parameters live in
``settings.abstain_calibration_file`` (committed JSON, so a fresh clone abstains the same way).

Calibrating (what ``hotline eval calibrate`` calls)::

    from knowledge_base.abstain import CalibrationRow, fit_calibration, save_calibration
    kb = KnowledgeBase.load(settings)
    rows = [CalibrationRow(kb.abstain_features(q.question), q.answerable) for q in dev_questions]
    calibration = fit_calibration(rows)          # -> Calibration
    save_calibration(calibration, settings.abstain_calibration_file)

``fit_calibration(rows, *, min_answer_rate=0.95, l2=1.0) -> Calibration`` standardises the features, fits an
L2-regularised logistic regression (Newton's method, numpy only) for P(answerable), then places the threshold
where the most unanswerable questions are refused while at least ``min_answer_rate`` of the answerable ones
are still answered (or, if that is impossible, where balanced accuracy is best).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class AbstainFeatures:
    dense_top: float  # cosine of the best passage to the question
    dense_gap: float  # how far the best cosine stands above the median of the candidates
    bm25_strength: float  # best BM25 score / the best this question could score (0–1)
    term_coverage: float  # IDF-weighted share of the question's words found in the top passages
    oov_rate: float  # IDF-weighted share of the question's words the corpus never uses
    agreement: float  # overlap of the BM25 and dense top-5 lists (0–1)
    other_place: float  # 1 when the question names a place the corpus has no document for

    def vector(self) -> np.ndarray:
        return np.array([getattr(self, f.name) for f in fields(self)], dtype=np.float64)


FEATURE_NAMES = tuple(f.name for f in fields(AbstainFeatures))


@dataclass(frozen=True)
class CalibrationRow:
    features: AbstainFeatures
    answerable: bool


@dataclass(frozen=True)
class Calibration:
    feature_names: tuple[str, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float
    fitted_on: int = 0
    note: str = ""

    def confidence(self, features: AbstainFeatures) -> float:
        """P(the corpus answers this question), 0–1."""
        z = (features.vector() - np.asarray(self.means)) / np.asarray(self.scales)
        return float(1.0 / (1.0 + math.exp(-(float(z @ np.asarray(self.weights)) + self.bias))))

    def abstains(self, confidence: float) -> bool:
        return confidence < self.threshold


def fit_calibration(
    rows: Sequence[CalibrationRow], *, min_answer_rate: float = 0.95, l2: float = 1.0
) -> Calibration:
    """Labelled feature rows in (both classes needed), a fitted ``Calibration`` out."""
    labels = np.array([row.answerable for row in rows], dtype=np.float64)
    if len(rows) < 4 or labels.min() == labels.max():
        raise ValueError("校准至少需要 4 个问题，且要同时包含可回答和不可回答的问题。")
    x = np.stack([row.features.vector() for row in rows])
    means = x.mean(axis=0)
    scales = np.where(x.std(axis=0) > 1e-9, x.std(axis=0), 1.0)
    z = np.hstack([(x - means) / scales, np.ones((len(rows), 1))])
    beta = np.zeros(z.shape[1])
    penalty = np.eye(z.shape[1]) * l2
    penalty[-1, -1] = 0.0  # the bias is not shrunk
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(z @ beta)))
        gradient = z.T @ (p - labels) + penalty @ beta
        hessian = (z * (p * (1 - p))[:, None]).T @ z + penalty
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    probabilities = 1.0 / (1.0 + np.exp(-(z @ beta)))
    threshold = _choose_threshold(probabilities, labels.astype(bool), min_answer_rate)
    return Calibration(
        feature_names=FEATURE_NAMES,
        means=tuple(float(v) for v in means),
        scales=tuple(float(v) for v in scales),
        weights=tuple(float(v) for v in beta[:-1]),
        bias=float(beta[-1]),
        threshold=threshold,
        fitted_on=len(rows),
        note=f"logistic regression, l2={l2}, min_answer_rate={min_answer_rate}",
    )


def _choose_threshold(probabilities: np.ndarray, answerable: np.ndarray, min_answer_rate: float) -> float:
    ordered = np.unique(probabilities)
    candidates = [0.0] + [float((a + b) / 2) for a, b in zip(ordered[:-1], ordered[1:])] + [1.0]
    best: tuple[tuple[int, float, float], float] | None = None
    for threshold in candidates:
        answer_rate = float((probabilities[answerable] >= threshold).mean())
        refuse_rate = float((probabilities[~answerable] < threshold).mean())
        meets_floor = answer_rate >= min_answer_rate
        # Meeting the answer-rate floor comes first, then refusing the most (balanced accuracy if the floor
        # cannot be met), then answering the most.
        key = (int(meets_floor), refuse_rate + (0.0 if meets_floor else answer_rate), answer_rate)
        if best is None or key > best[0]:
            best = (key, threshold)
    assert best is not None
    return best[1]


def save_calibration(calibration: Calibration, path: Path) -> None:
    Path(path).write_text(json.dumps(asdict(calibration), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def load_calibration(path: Path) -> Calibration:
    """The calibration JSON in, a ``Calibration`` out; a clear error when it is missing or for other features."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"找不到拒答校准文件 {path}：请运行 `hotline eval calibrate`。")
    data = json.loads(path.read_text(encoding="utf-8"))
    calibration = Calibration(**{**data, **{k: tuple(data[k]) for k in ("feature_names", "means", "scales", "weights")}})
    if calibration.feature_names != FEATURE_NAMES:
        raise ValueError(f"{path.name} 是按另一组特征校准的（{calibration.feature_names}），请重新运行 `hotline eval calibrate`。")
    return calibration
