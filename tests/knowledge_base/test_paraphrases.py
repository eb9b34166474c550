"""Residents' phrasings of passages (相似问): attached to the chunk holding their anchor, indexed, searched."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from hotline.settings import Settings
from knowledge_base.ingest import build_chunks, corpus_fingerprint
from knowledge_base.loaders import corpus_files
from knowledge_base.paraphrases import attach_paraphrases, paraphrase_path_for
from knowledge_base.search import KnowledgeBase
from tests.knowledge_base.conftest import CORPUS_DIR


def _entries(path: Path) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["passages"]


def test_every_shipped_phrasing_lands_on_the_chunk_that_holds_its_anchor() -> None:
    chunks = build_chunks(Settings())
    phrasings = attach_paraphrases(corpus_files(CORPUS_DIR), chunks)
    assert phrasings.errors == []
    assert phrasings.chunk_positions == sorted(phrasings.chunk_positions)
    shipped = {q for path in CORPUS_DIR.glob("*.questions.yaml") for e in _entries(path) for q in e["questions"]}
    assert set(phrasings.texts) == shipped
    for path in CORPUS_DIR.glob("*.questions.yaml"):
        entry = _entries(path)[0]
        holders = {chunks[p].chunk_id for p, text in zip(phrasings.chunk_positions, phrasings.texts, strict=True)
                   if text == entry["questions"][0]}
        assert holders and all(_compact(entry["anchor"]) in _compact(chunks[p].text)
                               for p, c in enumerate(chunks) if c.chunk_id in holders)


def test_an_anchor_not_in_the_document_is_reported_and_the_rest_kept(small_corpus: Path) -> None:
    document = small_corpus / "yangjiang-medical-insurance-work-plan.txt"
    paraphrase_path_for(document).write_text(yaml.safe_dump({"passages": [
        {"anchor": "这句话不在文件里", "questions": ["会找到吗"]},
        {"anchor": _first_sentence(document), "questions": ["阳江医保工作总结讲了什么"]},
    ]}, allow_unicode=True), encoding="utf-8")
    chunks = build_chunks(Settings(corpus_dir=small_corpus))
    phrasings = attach_paraphrases(corpus_files(small_corpus), chunks)
    assert phrasings.texts == ["阳江医保工作总结讲了什么"]
    assert [str(e) for e in phrasings.errors] == [
        "yangjiang-medical-insurance-work-plan.questions.yaml: 相似问的锚点在文中找不到：“这句话不在文件里”"]


def test_a_malformed_phrasing_file_is_reported_not_fatal(small_corpus: Path) -> None:
    document = small_corpus / "jiangsu-2021-convenience-services-opinion.txt"
    paraphrase_path_for(document).write_text("passages: [{anchor: 1}", encoding="utf-8")
    phrasings = attach_paraphrases(corpus_files(small_corpus), build_chunks(Settings(corpus_dir=small_corpus)))
    assert phrasings.texts == [] and "无法解析" in str(phrasings.errors[0])
    paraphrase_path_for(document).write_text("passages:\n  - questions: [没有锚点]\n", encoding="utf-8")
    phrasings = attach_paraphrases(corpus_files(small_corpus), build_chunks(Settings(corpus_dir=small_corpus)))
    assert "第 1 项应有文字 anchor" in str(phrasings.errors[0])


def test_editing_phrasings_makes_the_index_stale(small_corpus: Path) -> None:
    before = corpus_fingerprint(small_corpus)
    document = small_corpus / "yangjiang-medical-insurance-work-plan.txt"
    paraphrase_path_for(document).write_text(yaml.safe_dump({"passages": [
        {"anchor": _first_sentence(document), "questions": ["阳江医保工作总结讲了什么"]}]}, allow_unicode=True),
        encoding="utf-8")
    assert corpus_fingerprint(small_corpus) != before


def test_a_phrasing_finds_its_passage_and_is_read_as_close(knowledge_base: KnowledgeBase) -> None:
    vectors = knowledge_base.index.paraphrases
    assert vectors is not None and len(vectors.embeddings) == len(vectors.chunk_positions) > 500
    path = CORPUS_DIR / "zhoukou-2021-medical-security-plan.questions.yaml"
    entry = _entries(path)[3]
    phrasing = entry["questions"][0]
    first = knowledge_base.rankings(phrasing)["paraphrase"][0]
    assert _compact(entry["anchor"]) in _compact(knowledge_base.index.chunks[first].text)
    features = dict((p.chunk_id, f) for p, f in knowledge_base.candidate_features(phrasing))
    chunk_id = knowledge_base.index.chunks[first].chunk_id
    assert chunk_id in features and features[chunk_id].paraphrase_cosine > 0.99


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _first_sentence(document: Path) -> str:
    chunks = [c for c in build_chunks(Settings(corpus_dir=document.parent)) if c.doc_id == document.stem]
    return _compact(chunks[1].text)[:20]
