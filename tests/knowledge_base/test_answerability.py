"""The answerability model: fitting, the three bands, thresholds chosen out of sample, saving and loading."""

from __future__ import annotations

import json

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from hotline.settings import PROJECT_ROOT
from knowledge_base.answerability import (
    FEATURE_NAMES,
    LabelledPassage,
    PassageFeatures,
    TopOutcome,
    choose_thresholds,
    fit_model,
    load_model,
    save_model,
    with_thresholds,
)

RELEVANT = PassageFeatures(
    reciprocal_rank=1.0, bm25_strength=0.8, bm25_relative=1.0, bigram_relative=0.9, dense_cosine=0.9,
    dense_margin=0.05, sentence_cosine=0.92, paraphrase_cosine=0.95, term_coverage=0.9, sentence_coverage=0.8, section_coverage=0.7,
    rarest_missing=0.0, unmet_kinds=0.0, oov_rate=0.0, other_place=0.0,
)
UNRELATED = PassageFeatures(
    reciprocal_rank=0.2, bm25_strength=0.3, bm25_relative=0.4, bigram_relative=0.4, dense_cosine=0.84,
    dense_margin=0.01, sentence_cosine=0.85, paraphrase_cosine=0.8, term_coverage=0.3, sentence_coverage=0.2, section_coverage=0.1,
    rarest_missing=0.9, unmet_kinds=1.0, oov_rate=0.5, other_place=0.0,
)


def rows(seed: int = 0) -> list[LabelledPassage]:
    rng = np.random.default_rng(seed)
    out = []
    for base, label in ((RELEVANT, True), (UNRELATED, False)):
        for n in range(30):
            values = [max(0.0, v + e) for v, e in zip(base.vector(), rng.normal(0, 0.03, len(FEATURE_NAMES)))]
            out.append(LabelledPassage(f"{label}{n}", PassageFeatures(*values), label))
    return out


def test_a_fitted_model_tells_a_passage_that_answers_from_one_that_does_not() -> None:
    model = with_thresholds(fit_model(rows()), 0.7, 0.3)
    assert model.band(model.probability(RELEVANT)) == "confident"
    assert model.band(model.probability(UNRELATED)) == "refused"
    assert model.band(0.5) == "related"
    assert model.fitted_on == 60


def test_thresholds_keep_wrong_answers_and_answered_unanswerables_within_their_limits() -> None:
    outcomes = (
        [TopOutcome(0.9, True, True, True)] * 60 + [TopOutcome(0.6, True, True, True)] * 20
        + [TopOutcome(0.8, True, False, True)] * 2 + [TopOutcome(0.55, True, False, False)] * 18
        + [TopOutcome(0.2, False, False, False)] * 45 + [TopOutcome(0.65, False, False, False)] * 5
    )
    confident, related = choose_thresholds(outcomes)
    answerable = [o for o in outcomes if o.answerable]
    unanswerable = [o for o in outcomes if not o.answerable]
    assert sum(o.confidence >= confident for o in unanswerable) / len(unanswerable) <= 0.03
    assert sum(o.confidence >= confident and not o.top_relevant for o in answerable) / len(answerable) <= 0.05
    assert sum(o.confidence >= related for o in answerable) / len(answerable) >= 0.95
    assert related <= confident


def test_the_committed_model_is_readable_and_knows_a_foreign_place_lowers_confidence() -> None:
    model = load_model(PROJECT_ROOT / "knowledge_base" / "answerability.json")
    assert model.related_threshold <= model.confident_threshold
    assert model.probability(replace(RELEVANT, other_place=1.0)) < model.probability(RELEVANT)


def test_model_round_trips_through_json(tmp_path: Path) -> None:
    model = fit_model(rows())
    save_model(model, tmp_path / "model.json")
    assert load_model(tmp_path / "model.json") == model


def test_one_class_rows_are_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="同时包含相关和不相关"):
        fit_model([r for r in rows() if r.relevant])


def test_a_missing_model_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="hotline eval calibrate"):
        load_model(tmp_path / "missing.json")


def test_the_ranking_puts_the_passage_that_answers_before_the_question_s_other_candidates() -> None:
    rng = np.random.default_rng(1)

    def noisy(base: PassageFeatures) -> PassageFeatures:
        return PassageFeatures(*(max(0.0, v + e) for v, e in zip(base.vector(), rng.normal(0, 0.03, len(FEATURE_NAMES)))))

    grouped = [LabelledPassage(f"q{n}", noisy(base), base is RELEVANT)
               for n in range(20) for base in (UNRELATED, RELEVANT, UNRELATED)]
    model = fit_model(grouped)
    assert any(model.rank_weights)
    for _ in range(5):
        assert model.rank_score(noisy(RELEVANT)) > model.rank_score(noisy(UNRELATED))


def test_a_model_saved_before_the_ranking_existed_ranks_by_probability(tmp_path: Path) -> None:
    save_model(fit_model(rows()), tmp_path / "model.json")
    data = json.loads((tmp_path / "model.json").read_text(encoding="utf-8"))
    del data["rank_weights"]
    (tmp_path / "old.json").write_text(json.dumps(data), encoding="utf-8")
    loaded = load_model(tmp_path / "old.json")
    assert loaded.rank_score(RELEVANT) == loaded.probability(RELEVANT)
