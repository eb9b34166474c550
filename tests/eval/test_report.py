"""The evaluation report's page: made from the JSON figures alone, self-contained (no script, nothing fetched), every
chart drawn, and the intent confusion matrix counted from Rasa's per-example files."""

from __future__ import annotations

import json
import re
from pathlib import Path

from eval.charts import bar_chart, heatmap, line_chart, stacked_bars
from eval.load import TurnResult, summarise
from eval.metrics import QuestionOutcome
from eval.metrics import summarise as summarise_retrieval
from eval.report import _metrics_json, confusion_matrix, render_html


def _retrieval(method: str) -> dict:
    rows = [QuestionOutcome(f"q{i}", f"问题{i}", answerable=i < 8, rank=(1 if i < 5 else 3 if i < 7 else None),
                            abstained=i >= 7, latency_ms=10.0 + i, band="confident" if i < 7 else "refused")
            for i in range(10)]
    return _metrics_json(summarise_retrieval(method, rows))


def _figures() -> dict:
    runs = {method: _retrieval(method) for method in ("bm25", "dense", "fused", "hybrid")}
    load = summarise("1.5 turns/s", 1.5, [TurnResult(0.4, 120.0, "web", "policy"),
                                          TurnResult(1.5, 380.0, "wechat", "lookup"),
                                          TurnResult(2.2, 0.0, "web", "escalation", "http 503")], wall=3.0)
    from dataclasses import asdict

    return {
        "meta": {"generated_at": "2026-12-03T18:00:00+00:00", "machine": {"cpus": 2, "load_average": [0.4],
                 "commit": "abc1234"}, "load_average_end": [0.5], "commands": ["hotline eval report --folds 2"]},
        "retrieval": {"dev": {"questions_file": "eval/questions/dev.yaml", "direct": runs, "bot": _retrieval("bot"),
                              "parity": {"n_answerable": 8, "routed": 7, "same": 6}}},
        "dialogue": {"conversations": 20, "correct": 19, "conversation_accuracy": 0.95, "action_f1_weighted": 0.99,
                     "failed_conversations": ["转人工 <script>"], "seconds": 80.0},
        "nlu": {"folds": 2, "examples": 100, "seconds": 300.0, "intent_macro_f1": 0.91, "intent_accuracy": 0.93,
                "intent_weighted_f1": 0.92, "entity_macro_f1": 0.88, "below_fallback_threshold": 0.05,
                "weakest_intents": [{"label": "chitchat", "precision": 0.7, "recall": 0.6, "f1": 0.65, "support": 9,
                                     "confused_with": {}}],
                "confusion": {"labels": ["greet", "chitchat"], "matrix": [[10, 1], [2, 7]]}},
        "load": asdict(load),
    }


def test_the_page_is_self_contained_and_draws_every_chart() -> None:
    page = render_html(_figures())
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    assert not re.search(r"""(src|href)=["']?https?://""", page)  # nothing fetched: no CDN, no remote font
    # hit@k by method, two band charts, latency distribution, confusion matrix, two load-over-time charts
    assert page.count("<svg") == 7
    for heading in ("检索 · Retrieval: dev", "对话测试", "NLU · Intents", "负载 · Load", "hotline eval report --folds 2"):
        assert heading in page
    assert "转人工 &lt;script&gt;" in page  # labels are escaped


def test_the_page_is_drawn_from_the_json_alone() -> None:
    figures = json.loads(json.dumps(_figures(), ensure_ascii=False))  # as read back from the .json file
    assert render_html(figures) == render_html(_figures())


def test_sections_without_figures_are_left_out() -> None:
    figures = _figures()
    del figures["nlu"], figures["load"]
    page = render_html(figures)
    assert "NLU · Intents" not in page and "负载 · Load" not in page and page.count("<svg") == 4


def test_the_confusion_matrix_counts_true_against_predicted(tmp_path: Path) -> None:
    def example(intent: str, predicted: str) -> dict:
        return {"text": "…", "intent": intent, "intent_prediction": {"name": predicted, "confidence": 0.9}}

    (tmp_path / "intent_successes.json").write_text(json.dumps(
        [example("greet", "greet")] * 3 + [example("bye", "bye")]), encoding="utf-8")
    (tmp_path / "intent_errors.json").write_text(json.dumps([example("bye", "greet")]), encoding="utf-8")
    labels, matrix = confusion_matrix(tmp_path)
    assert labels == ["greet", "bye"]  # by support
    assert matrix == [[3, 0], [1, 1]]


def test_charts_scale_and_label_their_values() -> None:
    bars = bar_chart("hit@k", ["bm25", "hybrid"], {"hit@1": [0.5, 0.75]}, y_max=1.0)
    assert bars.count("<rect") == 2 + 1 and ">0.75<" in bars  # two bars and a legend swatch
    assert 'height="150.0"' in bars  # 0.75 of the 200-pixel plot
    shares = stacked_bars("bands", ["direct"], {"confident": [0.6], "refused": [0.4]})
    assert 'width="252.0"' in shares and 'width="168.0"' in shares
    assert "polyline" in line_chart("load", {"p95": [(0, 100.0), (1, 300.0)]})
    assert ">7<" in heatmap("m", ["a", "b"], [[7, 0], [1, 2]])
