"""The abstain calibration: fitting, thresholds, saving and loading."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from hotline.settings import PROJECT_ROOT
from knowledge_base.abstain import (
    AbstainFeatures,
    CalibrationRow,
    fit_calibration,
    load_calibration,
    save_calibration,
)

ANSWERABLE = AbstainFeatures(0.90, 0.05, 0.8, 0.9, 0.0, 0.6, 0.0)
UNANSWERABLE = AbstainFeatures(0.84, 0.01, 0.4, 0.3, 0.6, 0.0, 0.0)


def rows(seed: int = 0) -> list[CalibrationRow]:
    rng = np.random.default_rng(seed)
    out = []
    for base, label in ((ANSWERABLE, True), (UNANSWERABLE, False)):
        for _ in range(30):
            noise = rng.normal(0, 0.03, 7)
            values = [max(0.0, v + n) for v, n in zip(base.vector(), noise)]
            out.append(CalibrationRow(AbstainFeatures(*values), label))
    return out


def test_fitted_calibration_answers_answerable_and_refuses_unanswerable() -> None:
    calibration = fit_calibration(rows())
    assert not calibration.abstains(calibration.confidence(ANSWERABLE))
    assert calibration.abstains(calibration.confidence(UNANSWERABLE))
    assert calibration.fitted_on == 60


def test_threshold_keeps_the_answer_rate_floor() -> None:
    training = rows(1)
    calibration = fit_calibration(training, min_answer_rate=0.95)
    answered = [calibration.confidence(r.features) >= calibration.threshold for r in training if r.answerable]
    assert sum(answered) / len(answered) >= 0.95


def test_a_place_without_documents_lowers_confidence() -> None:
    calibration = load_calibration(PROJECT_ROOT / "knowledge_base" / "abstain_calibration.json")
    assert calibration.confidence(replace(ANSWERABLE, other_place=1.0)) < calibration.confidence(ANSWERABLE)


def test_calibration_round_trips_through_json(tmp_path: Path) -> None:
    calibration = fit_calibration(rows())
    save_calibration(calibration, tmp_path / "calibration.json")
    assert load_calibration(tmp_path / "calibration.json") == calibration


def test_one_class_rows_are_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="同时包含可回答和不可回答"):
        fit_calibration([r for r in rows() if r.answerable])


def test_a_missing_calibration_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="hotline eval calibrate"):
        load_calibration(tmp_path / "missing.json")
