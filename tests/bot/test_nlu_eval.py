"""Specification of `hotline eval nlu`'s report reading (eval/nlu.py), on small reports shaped like Rasa's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eval import nlu as eval_nlu
from hotline.settings import get_settings

# Shaped like Rasa 3.6's intent_report.json after cross-validation: sklearn's classification report plus
# `confused_with`; a label that was predicted but has no test example (here nlu_fallback) has support 0.
INTENT_REPORT = {
    "policy_question": {"precision": 0.9, "recall": 0.95, "f1-score": 0.925, "support": 200,
                        "confused_with": {"check_offsite_filing": 6, "out_of_scope": 3}},
    "check_offsite_filing": {"precision": 0.92, "recall": 0.85, "f1-score": 0.8837, "support": 60,
                             "confused_with": {"policy_question": 8}},
    "greet": {"precision": 1.0, "recall": 1.0, "f1-score": 1.0, "support": 30, "confused_with": {}},
    "nlu_fallback": {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 0, "confused_with": {}},
    "accuracy": 0.93,
    "macro avg": {"precision": 0.705, "recall": 0.7, "f1-score": 0.7022, "support": 290},
    "weighted avg": {"precision": 0.92, "recall": 0.93, "f1-score": 0.925, "support": 290},
}
# DIETClassifier_report.json: entity labels, micro/macro/weighted averages, no accuracy.
ENTITY_REPORT = {
    "region": {"precision": 0.95, "recall": 0.9, "f1-score": 0.9243, "support": 80, "confused_with": {}},
    "id_number": {"precision": 1.0, "recall": 1.0, "f1-score": 1.0, "support": 20, "confused_with": {}},
    "micro avg": {"precision": 0.96, "recall": 0.92, "f1-score": 0.9396, "support": 100},
    "macro avg": {"precision": 0.975, "recall": 0.95, "f1-score": 0.9622, "support": 100},
    "weighted avg": {"precision": 0.96, "recall": 0.92, "f1-score": 0.9394, "support": 100},
}


@pytest.fixture
def report_dir(tmp_path: Path) -> Path:
    (tmp_path / eval_nlu.INTENT_REPORT).write_text(json.dumps(INTENT_REPORT), encoding="utf-8")
    (tmp_path / eval_nlu.ENTITY_REPORT).write_text(json.dumps(ENTITY_REPORT), encoding="utf-8")
    return tmp_path


def test_intent_macro_f1_averages_only_intents_with_examples(report_dir: Path) -> None:
    intents, _ = eval_nlu.read_reports(report_dir)

    assert intents.macro_f1 == pytest.approx((0.925 + 0.8837 + 1.0) / 3, abs=1e-4)
    assert intents.rasa_macro_f1 == pytest.approx(0.7022)
    assert intents.accuracy == pytest.approx(0.93)
    assert intents.weighted_f1 == pytest.approx(0.925)


def test_per_label_scores_are_listed_worst_first(report_dir: Path) -> None:
    intents, _ = eval_nlu.read_reports(report_dir)

    assert [s.label for s in intents.labels] == ["nlu_fallback", "check_offsite_filing", "policy_question", "greet"]
    offsite = intents.labels[1]
    assert (offsite.precision, offsite.recall, offsite.support) == (0.92, 0.85, 60)
    assert offsite.confused_with == {"policy_question": 8}


def test_entity_report_keeps_micro_and_weighted_f1(report_dir: Path) -> None:
    _, entities = eval_nlu.read_reports(report_dir)

    assert entities is not None
    assert entities.macro_f1 == pytest.approx((0.9243 + 1.0) / 2, abs=1e-4)
    assert entities.micro_f1 == pytest.approx(0.9396)
    assert entities.weighted_f1 == pytest.approx(0.9394)
    assert entities.accuracy is None
    assert {s.label for s in entities.labels} == {"region", "id_number"}


def test_missing_entity_report_means_no_entity_figures(report_dir: Path) -> None:
    (report_dir / eval_nlu.ENTITY_REPORT).unlink()

    _, entities = eval_nlu.read_reports(report_dir)

    assert entities is None


def test_missing_intent_report_is_an_error_pointing_at_the_log(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="rasa.log"):
        eval_nlu.read_reports(tmp_path)


def test_confused_pairs_are_sorted_by_count(report_dir: Path) -> None:
    intents, _ = eval_nlu.read_reports(report_dir)

    pairs = eval_nlu.confused_pairs(intents, top=2)

    assert pairs == [
        eval_nlu.ConfusedPair("check_offsite_filing", "policy_question", 8),
        eval_nlu.ConfusedPair("policy_question", "check_offsite_filing", 6),
    ]


def test_examples_are_counted_from_supports(report_dir: Path) -> None:
    intents, _ = eval_nlu.read_reports(report_dir)

    assert eval_nlu.count_examples(intents) == 290


@pytest.fixture
def no_rasa(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RASA_EXECUTABLE", str(tmp_path / "missing" / "rasa"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_missing_rasa_venv_is_explained(no_rasa: None) -> None:
    with pytest.raises(eval_nlu.RasaNotInstalledError, match="make setup"):
        eval_nlu.rasa_executable()


def test_command_exits_with_a_clear_message_without_rasa(no_rasa: None) -> None:
    result = CliRunner().invoke(eval_nlu.app, ["--folds", "3"])

    assert result.exit_code == 2
    message = " ".join(result.output.split())  # rich wraps long lines
    assert "找不到 Rasa" in message
    assert "make setup" in message


def test_low_confidence_share_counts_right_and_wrong_predictions(report_dir: Path) -> None:
    successes = [{"text": "你好", "intent": "greet", "intent_prediction": {"name": "greet", "confidence": 0.98}},
                 {"text": "在", "intent": "greet", "intent_prediction": {"name": "greet", "confidence": 0.35}}]
    errors = [{"text": "那个呢", "intent": "policy_question",
               "intent_prediction": {"name": "chitchat", "confidence": 0.2}},
              {"text": "我的备案", "intent": "check_offsite_filing",
               "intent_prediction": {"name": "policy_question", "confidence": 0.9}}]
    (report_dir / "intent_successes.json").write_text(json.dumps(successes), encoding="utf-8")
    (report_dir / "intent_errors.json").write_text(json.dumps(errors), encoding="utf-8")

    assert eval_nlu.low_confidence_share(report_dir, 0.4) == 0.5


def test_low_confidence_share_is_unknown_without_the_successes_file(report_dir: Path) -> None:
    (report_dir / "intent_errors.json").write_text("[]", encoding="utf-8")

    assert eval_nlu.low_confidence_share(report_dir, 0.4) is None


def test_fallback_threshold_is_read_from_the_pipeline(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text("pipeline:\n  - name: DIETClassifier\n  - name: FallbackClassifier\n    threshold: 0.45\n",
                      encoding="utf-8")

    assert eval_nlu.fallback_threshold(config) == 0.45


def test_project_config_has_a_fallback_threshold() -> None:
    assert eval_nlu.fallback_threshold(eval_nlu.BOT_DIR / "config.yml") == pytest.approx(0.4)


def test_failing_rasa_run_exits_with_the_end_of_its_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_rasa = tmp_path / "rasa"
    fake_rasa.write_text("#!/bin/sh\necho 'YamlValidationException: bad nlu.yml'\nexit 1\n", encoding="utf-8")
    fake_rasa.chmod(0o755)
    monkeypatch.setenv("RASA_EXECUTABLE", str(fake_rasa))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(eval_nlu.app, ["--report-dir", str(tmp_path / "reports")])
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 1
    assert "YamlValidationException" in result.output
    assert (tmp_path / "reports" / "rasa.log").exists()
