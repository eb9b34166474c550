"""Residents' phrasings of a passage (相似问): ``NAME.questions.yaml`` beside a corpus document ``NAME.txt``.

Each entry names a passage by an ``anchor`` (a span copied from the document) and lists questions that the
passage answers, in residents' words. ``attach_paraphrases(corpus_dir, chunks)`` maps every question to the
chunk(s) holding its anchor; the index embeds them as questions (E5's query side, like the resident's own
question), so retrieval can rank a chunk by its closest phrasing and the answerability model can read how close
that phrasing is. An anchor that is in no chunk is reported as a load error, never silently dropped.

The questions are written from the documents, never from the evaluation sets (a test checks the overlap), and each
is answered by its passage itself: a phrasing that only shares the passage's topic would make the search answer
confidently what the documents do not say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from knowledge_base.types import Chunk, LoadError

_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Paraphrases:
    """Every phrasing with the position of the chunk it belongs to (ascending), and the anchors not found."""

    texts: list[str]
    chunk_positions: list[int]
    errors: list[LoadError]


def paraphrase_path_for(document: Path) -> Path:
    return document.with_name(f"{document.stem}.questions.yaml")


def attach_paraphrases(documents: list[Path], chunks: list[Chunk]) -> Paraphrases:
    """The phrasings of every document file that has a ``.questions.yaml``, attached to the chunks holding their
    anchors (a chunk split across an anchor's span cannot hold it: the error says which anchor)."""
    by_doc: dict[str, list[int]] = {}
    for position, chunk in enumerate(chunks):
        by_doc.setdefault(chunk.doc_id, []).append(position)
    pairs: list[tuple[int, str]] = []
    errors: list[LoadError] = []
    for document in documents:
        path = paraphrase_path_for(document)
        if not path.exists():
            continue
        try:
            entries = read_phrasings(path)
        except ValueError as error:
            errors.append(LoadError(path, str(error)))
            continue
        positions = by_doc.get(document.stem, [])
        for anchor, questions in entries:
            holders = [p for p in positions if _compact(anchor) in _compact(chunks[p].text)]
            if not holders:
                errors.append(LoadError(path, f"相似问的锚点在文中找不到：“{anchor}”"))
            pairs.extend((p, q) for p in holders for q in questions)
    pairs.sort(key=lambda pair: pair[0])  # stable: each chunk's phrasings stay in file order
    return Paraphrases([q for _, q in pairs], [p for p, _ in pairs], errors)


def read_phrasings(path: Path) -> list[tuple[str, list[str]]]:
    """(anchor, phrasings) per passage of one ``.questions.yaml``; ValueError says what is malformed."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ValueError(f"相似问文件无法解析：{error}") from error
    entries = data.get("passages") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ValueError("相似问文件应有 passages 列表（每项含 anchor 与 questions）")
    out = []
    for number, entry in enumerate(entries, start=1):
        anchor = entry.get("anchor") if isinstance(entry, dict) else None
        questions = entry.get("questions") if isinstance(entry, dict) else None
        if not isinstance(anchor, str) or not anchor.strip() or not isinstance(questions, list):
            raise ValueError(f"第 {number} 项应有文字 anchor 和 questions 列表")
        out.append((anchor.strip(), [str(q).strip() for q in questions if str(q).strip()]))
    return out


def _compact(text: str) -> str:
    """Whitespace never matters in Chinese text, and cleaning may have moved line breaks."""
    return _SPACE.sub("", text)
