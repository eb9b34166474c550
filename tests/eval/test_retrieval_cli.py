"""`hotline eval retrieval` / `calibrate` / `bench`: clear errors on bad input, the bot adapter, a real run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eval.cli import app
from eval.question_set import Question
from eval.retrieval import Answer, CitedPassage, evaluate, parse_bot_reply

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), terminal_width=200)


def test_missing_questions_file_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke("retrieval", "--questions", str(tmp_path / "missing.yaml"))
    assert result.exit_code == 2
    assert "找不到问题集文件" in result.output


def test_malformed_yaml_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("questions:\n  - id: q1\n    question: [unclosed\n", encoding="utf-8")
    result = invoke("retrieval", "--questions", str(path))
    assert result.exit_code == 2
    assert "不是有效的 YAML" in result.output


def test_question_without_text_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("questions:\n  - id: q9\n    evidence: [异地就医]\n", encoding="utf-8")
    result = invoke("calibrate", "--questions", str(path))
    assert result.exit_code == 2
    assert "q9" in result.output and "缺少问题文本" in result.output


def test_compare_through_the_bot_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("questions:\n  - id: q1\n    question: 问\n    evidence: [x]\n", encoding="utf-8")
    result = invoke("retrieval", "--questions", str(path), "--via", "bot", "--compare")
    assert result.exit_code == 2
    assert "--compare" in result.output


def test_bench_rejects_bad_sizes() -> None:
    result = invoke("bench", "--sizes", "10k,abc")
    assert result.exit_code == 2
    assert "--sizes" in result.output


def test_bot_reply_citations_are_read_from_the_custom_payload() -> None:
    reply = [
        {"recipient_id": "r", "text": "根据……"},
        {"recipient_id": "r", "custom": {"band": "confident", "abstain": False, "citations": [
            {"chunk_id": "c1", "doc_title": "周口规划", "section": "第一章", "region": "河南省周口市", "text": "甲"},
            {"chunk_id": "c2", "doc_title": "南昌规划", "section": "第二章", "region": "江西省南昌市", "text": "乙"},
        ]}},
    ]
    answer = parse_bot_reply(reply)
    assert answer.abstain is False and answer.band == "confident"
    assert [(p.title, p.text) for p in answer.passages] == [("周口规划", "甲"), ("南昌规划", "乙")]


def test_a_related_reply_is_read_as_shown_but_not_answered() -> None:
    reply = [{"text": "以下条文可能相关", "custom": {"band": "related", "abstain": True, "citations": [
        {"doc_title": "周口规划", "section": "第一章", "region": "河南省周口市", "text": "甲"}]}}]
    answer = parse_bot_reply(reply)
    assert (answer.band, answer.abstain, len(answer.passages)) == ("related", True, 1)


def test_bot_reply_without_a_policy_payload_counts_as_abstaining() -> None:
    answer = parse_bot_reply([{"text": "您好，请问有什么可以帮您？"}])
    assert (answer.passages, answer.abstain, answer.band) == ([], True, "refused")
    assert "您好，请问有什么可以帮您？" in answer.note  # what the bot did instead, for the per-question report
    assert parse_bot_reply([{"custom": {"citations": [], "abstain": True}}]).band == "refused"  # older payloads


def test_evaluate_ranks_the_passages_it_is_given() -> None:
    def ask(question: Question) -> Answer:
        texts = {"甲": ["无关", "缓缴期间免收滞纳金"], "乙": ["无关"]}[question.question]
        return Answer([CitedPassage("t", "s", "r", text) for text in texts], abstain=question.question == "乙")

    questions = [Question("q1", "甲", ("免收滞纳金",)), Question("u1", "乙", (), answerable=False)]
    metrics = evaluate(questions, ask, "fake")
    assert [row.rank for row in metrics.rows] == [2, None]
    assert (metrics.hit_at_1, metrics.hit_at_3, metrics.mrr) == (0.0, 1.0, 0.5)
    assert (metrics.answer_rate_answerable, metrics.abstain_rate_unanswerable) == (1.0, 1.0)
    # answered confidently with the relevant passage second: a wrong answer for the resident
    assert metrics.confident_wrong_rate_answerable == 1.0


def test_what_a_reply_shows_is_counted_apart_from_what_the_search_ranked() -> None:
    # The relevant passage is second in the search, but the reply shows only the first: ranked, not shown.
    def ask(question: Question) -> Answer:
        passages = [CitedPassage("t", "s", "r", text) for text in ("无关", "缓缴期间免收滞纳金")]
        return Answer(passages, abstain=False, band="confident", shown=passages[:1])

    metrics = evaluate([Question("q1", "甲", ("免收滞纳金",))], ask, "fake")
    assert (metrics.rows[0].rank, metrics.rows[0].shown_rank) == (2, None)
    assert (metrics.hit_at_3, metrics.shown_hit_at_3) == (1.0, 0.0)


def test_a_follow_up_is_searched_with_its_context_on_the_direct_path() -> None:
    from eval.retrieval import search_text

    question = Question("f1", "那职工呢", ("x",), context=("周口居民医保住院报销比例是多少",))
    assert search_text(question) == ("周口职工医保住院报销比例是多少", "周口")
    assert search_text(Question("q1", "异地就医怎么备案", ("x",))) == ("异地就医怎么备案", None)


@pytest.mark.slow
def test_retrieval_runs_end_to_end_through_the_real_knowledge_base(tmp_path: Path) -> None:
    questions = tmp_path / "five.yaml"
    questions.write_text(
        "questions:\n"
        "  - {id: q1, question: 周口那边2025年要达到多少参保率, evidence: [期末基本医疗保险参保率达到97%以上, ≥97①]}\n"
        "  - {id: q2, question: 单位医保缓缴的话要不要交滞纳金, evidence: [缓缴期间免收滞纳金]}\n"
        "  - {id: q3, question: 江苏医保关系转移接续要办多久, evidence: [办理时限不超过20个工作日]}\n"
        "  - {id: u1, question: 住房公积金怎么提取出来, answerable: false}\n"
        "  - {id: u2, question: 明天南昌天气怎么样, answerable: false}\n",
        encoding="utf-8",
    )
    out = tmp_path / "report.json"
    result = invoke("retrieval", "--questions", str(questions), "--json", str(out))
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert (report["n_answerable"], report["n_unanswerable"]) == (3, 2)
    assert report["hit_at_5"] >= 2 / 3  # these three are among the easiest of the dev set
    assert report["latency_ms_p95"] > 0
    assert [row["id"] for row in report["rows"]] == ["q1", "q2", "q3", "u1", "u2"]
    assert all(row["top_title"] for row in report["rows"] if row["answerable"])
    assert {row["band"] for row in report["rows"]} <= {"confident", "related", "refused"}
    assert report["confident_rate_unanswerable"] == 0.0  # 公积金 and the weather are never answered


def test_region_filter_is_switched_off_with_a_region_that_names_no_document() -> None:
    from eval.retrieval import NO_REGION_FILTER, direct_asker
    from knowledge_base.regions import detect_region
    from knowledge_base.types import Passage, SearchResult

    calls: list[str | None] = []

    class FakeKnowledgeBase:
        def search(self, question: str, *, method: str, k: int, region: str | None) -> SearchResult:
            calls.append(region)
            passage = Passage("c", "d", "周口规划", "第一章", "河南省周口市", "正文", 0.5)
            return SearchResult(question, [passage], abstain=False, confidence=0.9, region=None)

    assert detect_region(NO_REGION_FILTER) is None  # else "off" would filter by some region
    question = Question("q1", "周口参保率", ("x",))
    direct_asker(FakeKnowledgeBase(), "hybrid", region_aware=True)(question)
    answer = direct_asker(FakeKnowledgeBase(), "hybrid", region_aware=False)(question)
    assert calls == [None, NO_REGION_FILTER]
    assert answer.passages[0].title == "周口规划" and answer.confidence == 0.9
