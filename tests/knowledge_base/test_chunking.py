"""Chunking the real corpus: heading paths, sizes, stable ids, tables kept together."""

from __future__ import annotations

import pytest

from hotline.settings import Settings
from knowledge_base.chunking import MAX_CHARS, chunk_document
from knowledge_base.ingest import build_chunks, ingest_corpus
from knowledge_base.types import Chunk, Document

from .conftest import CORPUS_DIR


@pytest.fixture(scope="module")
def chunks() -> list[Chunk]:
    return build_chunks(Settings(corpus_dir=CORPUS_DIR))


def test_every_document_is_chunked_and_no_file_fails(chunks: list[Chunk]) -> None:
    ingestion = ingest_corpus(Settings(corpus_dir=CORPUS_DIR))
    assert ingestion.errors == []
    assert {c.doc_id for c in chunks} == {p.stem for p in CORPUS_DIR.glob("*.txt")}


def test_chunks_carry_the_heading_path_document_and_region(chunks: list[Chunk]) -> None:
    ltc = next(c for c in chunks if "上饶长期护理保险试点经验" in c.text)
    assert ltc.section == "第三章 健全多层次医疗保障制度体系 > 四、稳步建立长期护理保险制度"
    assert ltc.doc_title == "南昌市医疗保障事业发展“十四五”规划"
    assert ltc.region == "江西省南昌市"
    hotline = next(c for c in chunks if "实现与12345双号并行，做到医保热线服务一号响应" not in c.text and "设立医保服务专席" in c.text)
    assert hotline.section == "二、主要任务 > （十）建设全省统一的12393医保服务热线"
    yunnan_item = next(c for c in chunks if "将非本地户籍灵活就业人员纳入参保范围" in c.text)
    assert yunnan_item.section.endswith("（一）提升全民医保参保质量 > 1. 依法依规分类参保")


def test_a_box_ends_where_the_section_text_resumes(chunks: list[Chunk]) -> None:
    after_box = next(c for c in chunks if c.text.startswith("优化医疗保障线上服务。"))
    assert "专栏" not in after_box.section


def test_chunk_sizes_stay_within_bounds(chunks: list[Chunk]) -> None:
    sizes = [len(c.text) for c in chunks]
    assert max(sizes) <= MAX_CHARS * 1.2
    assert sum(150 <= s <= MAX_CHARS for s in sizes) / len(sizes) >= 0.75


def test_tables_stay_whole_rows_under_their_caption(chunks: list[Chunk]) -> None:
    table = [c for c in chunks if c.section.endswith("专栏1 “十四五”时期主要指标与预期指标")]
    rows = [line for c in table for line in c.text.split("\n")]
    assert len(rows) == 10
    assert all("：2020年基数" in row and "2025年目标" in row for row in rows)


def test_ids_are_unique_and_stable_across_runs(chunks: list[Chunk]) -> None:
    again = build_chunks(Settings(corpus_dir=CORPUS_DIR))
    assert [c.chunk_id for c in chunks] == [c.chunk_id for c in again]
    assert len({c.chunk_id for c in chunks}) == len(chunks)
    assert all(c.chunk_id.startswith(f"{c.doc_id}:") for c in chunks)


def test_a_long_paragraph_is_split_at_sentences_with_overlap() -> None:
    sentence = "参保人员可以在定点医疗机构直接结算住院费用并享受待遇。"  # 27 characters
    document = Document(doc_id="d", title="测试", text="一、总则\n" + sentence * 40)
    pieces = chunk_document(document)
    assert len(pieces) >= 3
    assert all(len(p.text) <= MAX_CHARS for p in pieces)
    assert all(p.text.endswith("。") and p.text.startswith("参保人员") for p in pieces)
    assert all(p.section == "一、总则" for p in pieces)
    total = sum(len(p.text) for p in pieces)
    assert total > len(sentence) * 40  # overlap repeats a sentence at each cut
