"""The dev question set is a specification: every evidence string must be findable in what the index holds."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from eval.question_set import QuestionSetError, is_relevant, load_questions, without_whitespace
from hotline.settings import PROJECT_ROOT, get_settings

DEV = PROJECT_ROOT / "eval" / "questions" / "dev.yaml"
HELD_OUT = PROJECT_ROOT / "eval" / "questions" / "test.yaml"
CORPUS = PROJECT_ROOT / "knowledge_base" / "corpus"
DOCUMENTS = {
    "南昌": "nanchang-2021-medical-security-plan",
    "阳江": "yangjiang-medical-insurance-work-plan",
    "江苏": "jiangsu-2021-convenience-services-opinion",
    "云南": "yunnan-2022-medical-security-plan",
    "周口": "zhoukou-2021-medical-security-plan",
}


@pytest.fixture(scope="module")
def dev_questions():
    return load_questions(DEV)


@pytest.fixture(scope="module", params=[DEV, HELD_OUT], ids=["dev", "held-out"])
def any_set(request):
    return load_questions(request.param)


@pytest.fixture(scope="module")
def raw_corpus() -> dict[str, str]:
    return {path.stem: without_whitespace(path.read_text(encoding="utf-8")) for path in sorted(CORPUS.glob("*.txt"))}


@pytest.fixture(scope="module")
def chunks():
    from knowledge_base.ingest import ingest_corpus

    return ingest_corpus(get_settings()).chunks


def test_dev_set_is_large_enough_and_ids_are_unique(dev_questions) -> None:
    ids = [q.id for q in dev_questions]
    assert len(dev_questions) >= 150
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    assert sum(not q.answerable for q in dev_questions) >= 25


def test_unanswerable_questions_have_no_evidence(any_set) -> None:
    assert all(not q.evidence for q in any_set if not q.answerable)
    assert all(q.evidence for q in any_set if q.answerable)
    assert any(not q.answerable for q in any_set)


def test_held_out_set_shares_no_ids_or_questions_with_dev(dev_questions) -> None:
    held_out = load_questions(HELD_OUT)
    assert {q.id for q in held_out} & {q.id for q in dev_questions} == set()
    assert {q.question for q in held_out} & {q.question for q in dev_questions} == set()
    assert len(held_out) >= 40


def test_every_evidence_string_occurs_in_the_raw_corpus(any_set, raw_corpus) -> None:
    missing = [
        (q.id, e) for q in any_set for e in q.evidence
        if not any(without_whitespace(e) in text for text in raw_corpus.values())
    ]
    assert missing == []


def test_every_evidence_string_survives_cleaning_and_chunking(any_set, chunks) -> None:
    """What retrieval is scored on is chunk text: evidence cut by a chunk boundary or rewritten by cleaning
    would make a question unanswerable by construction."""
    texts = [without_whitespace(chunk.text) for chunk in chunks]
    missing = [(q.id, e) for q in any_set for e in q.evidence if not any(without_whitespace(e) in t for t in texts)]
    assert missing == []


def test_evidence_points_at_few_passages(any_set, chunks) -> None:
    """Evidence that appears in many chunks would count almost any passage as a hit."""
    texts = [without_whitespace(chunk.text) for chunk in chunks]
    vague = [
        (q.id, e, n) for q in any_set for e in q.evidence
        if (n := sum(without_whitespace(e) in t for t in texts)) > 5
    ]
    assert vague == []


def test_every_document_is_covered_by_at_least_ten_questions(dev_questions, raw_corpus) -> None:
    per_document: Counter[str] = Counter()
    for q in dev_questions:
        for stem in {stem for stem, text in raw_corpus.items() for e in q.evidence if without_whitespace(e) in text}:
            per_document[stem] += 1
    assert {stem: per_document[stem] >= 10 for stem in DOCUMENTS.values()} == dict.fromkeys(DOCUMENTS.values(), True)


@pytest.mark.parametrize(
    ("document", "rows"),
    [
        # 南昌 专栏1: 2020 baselines and 2025 targets, ten rows.
        ("nanchang-2021-medical-security-plan", [
            "基本医疗保险参保覆盖率", "职工医保政策范围内住院报销比例", "居民医保政策范围内住院报销比例",
            "重点救助对象门诊慢特病和住院救助比例", "住院费用按病组分值付费覆盖面", "住院费用异地直接结算率",
            "医疗保障政务服务满意率", "线上可办率", "窗口可办率", "电子医保凭证使用率",
        ]),
        # 周口 主要指标与预期目标.
        ("zhoukou-2021-medical-security-plan", [
            "参保率达到97%", "92.47", "85.37", "55.87", "药品集中带量采购品种", "高值医用耗材集中带量采购品种",
            "住院费用跨省直接结算率", "线上可办率（%）", "窗口可办率（%）", "按疾病诊断相关分组付费和按病种付费",
        ]),
    ],
)
def test_indicator_table_rows_are_asked_about(dev_questions, raw_corpus, document: str, rows: list[str]) -> None:
    asked_in_document = {
        e for q in dev_questions for e in q.evidence if without_whitespace(e) in raw_corpus[document]
    }
    uncovered = [row for row in rows if not any(row in e for e in asked_in_document)]
    assert uncovered == []


def test_some_questions_name_no_region(dev_questions) -> None:
    from knowledge_base.regions import detect_region

    answerable = [q for q in dev_questions if q.answerable]
    unnamed = [q for q in answerable if detect_region(q.question) is None]
    assert 20 <= len(unnamed) <= len(answerable) - 100


def test_relevance_ignores_whitespace_and_line_breaks() -> None:
    assert is_relevant("门诊慢\n特病种认定等事项", ["门诊慢特病种认定"])
    assert is_relevant("实现 与 12345 双号并行", ["实现与12345双号并行"])
    assert not is_relevant("门诊慢性病", ["门诊慢特病"])


# --- the loader's errors ------------------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "questions.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(QuestionSetError, match="找不到问题集文件"):
        load_questions(tmp_path / "nope.yaml")


def test_malformed_yaml_is_reported(tmp_path: Path) -> None:
    with pytest.raises(QuestionSetError, match="不是有效的 YAML"):
        load_questions(write(tmp_path, "questions:\n  - id: q1\n    question: [unclosed\n"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- id: q1\n", "顶层应为 `questions:` 列表"),
        ("questions: []\n", "列表为空"),
        ("questions:\n  - id: q1\n    evidence: [x]\n", "缺少问题文本"),
        ("questions:\n  - id: q1\n    question: '   '\n    evidence: [x]\n", "缺少问题文本"),
        ("questions:\n  - question: 问\n    evidence: [x]\n", "缺少 id"),
        ("questions:\n  - id: q1\n    question: 问\n", "需要至少一条 evidence"),
        ("questions:\n  - id: q1\n    question: 问\n    answerable: false\n    evidence: [x]\n", "不应有 evidence"),
        ("questions:\n  - id: q1\n    question: 问\n    evidance: [x]\n", "未知字段"),
        ("questions:\n  - id: q1\n    question: 问\n    answerable: maybe\n", "answerable 应为 true 或 false"),
        ("questions:\n  - id: q1\n    question: 问\n    evidence: [x]\n  - id: q1\n    question: 又\n    evidence: [y]\n", "重复"),
        ("questions:\n  - just a string\n", "应为包含 id/question 的映射"),
    ],
)
def test_malformed_entries_are_explained(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(QuestionSetError, match=re.escape(message)):
        load_questions(write(tmp_path, text))


def test_defaults_and_single_string_evidence(tmp_path: Path) -> None:
    [question] = load_questions(write(tmp_path, "questions:\n  - id: q1\n    question: 问\n    evidence: 异地就医\n"))
    assert question.answerable is True
    assert question.evidence == ("异地就医",)
