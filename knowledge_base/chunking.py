"""Structure-aware chunking: ``chunk_document(document) -> list[Chunk]`` for one cleaned document.

Each chunk holds paragraphs of one section and carries its heading path (``第三章 … > 一、…``), its
document and region. Chunks aim at ``MIN_CHARS``–``MAX_CHARS`` characters: paragraphs are packed whole; a
paragraph longer than ``MAX_CHARS`` is split at sentence ends with the last sentence repeated at the start of
the next piece, so a fact on the cut still has its context. Table rows are single lines, so a row is never
cut. Ids are the document id plus a hash of section and text: stable across rebuilds of an unchanged document.
Bump ``CHUNKER_VERSION`` whenever the output for the same input changes (the index records it).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field

from knowledge_base.headings import Heading, is_numbered_item, parse_heading
from knowledge_base.types import Chunk, Document

CHUNKER_VERSION = "5"  # 5: a date with a blanked-out year (20_年12月30日) ends its line
MIN_CHARS = 150
MAX_CHARS = 500
TINY_SECTION_CHARS = 60  # a signature or a date line alone is not worth a passage: it joins its neighbour
SECTION_SEPARATOR = " > "
_SENTENCE_END = re.compile(r"(?<=[。！？；])")
_PART_HEADING = re.compile(r"^(?P<prefix>\D{2,20}?)\d{1,2}$")


@dataclass
class _Section:
    path: tuple[str, ...]
    paragraphs: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(len(p) for p in self.paragraphs)


def chunk_document(document: Document) -> list[Chunk]:
    """A cleaned document in, its chunks (in reading order, each with heading path and stable id) out."""
    sections = _merge_tiny_sections(_split_sections(document.text.split("\n")))
    chunks: list[Chunk] = []
    seen_ids: Counter[str] = Counter()
    for section in sections:
        for text in _pack(section.paragraphs):
            section_text = SECTION_SEPARATOR.join(section.path)
            digest = hashlib.sha1(f"{section_text}\n{text}".encode()).hexdigest()[:12]
            chunk_id = f"{document.doc_id}:{digest}"
            seen_ids[chunk_id] += 1
            if seen_ids[chunk_id] > 1:
                chunk_id = f"{chunk_id}-{seen_ids[chunk_id]}"
            chunks.append(
                Chunk(
                    chunk_id=chunk_id,
                    doc_id=document.doc_id,
                    doc_title=document.title,
                    section=section_text,
                    region=document.region,
                    text=text,
                    position=len(chunks),
                )
            )
    return chunks


def _split_sections(lines: list[str]) -> list[_Section]:
    lines = [line.strip() for line in lines if line.strip()]
    part_prefixes = _repeated_part_prefixes(lines)
    stack: list[Heading] = []
    box: Heading | None = None
    box_has_items = False
    sections: list[_Section] = []

    def add(paragraph: str) -> None:
        path = tuple(h.text for h in stack) + ((box.text,) if box else ())
        if not sections or sections[-1].path != path:
            sections.append(_Section(path))
        sections[-1].paragraphs.append(paragraph)

    for line in lines:
        part = _PART_HEADING.match(line)
        heading = (
            Heading(rank=0, text=line) if part and part.group("prefix") in part_prefixes else parse_heading(line)
        )
        if box is not None:
            if heading and heading.is_box:
                box = None
            elif is_numbered_item(line):
                box_has_items = True
                add(line)
                continue
            elif heading and heading.rank <= 4:
                box = None
            elif heading is None and box_has_items:
                box = None  # the first plain paragraph after the box's items belongs to the section again
            else:
                add(line)
                continue
        if heading is None:
            add(line)
            continue
        if heading.is_box:
            box, box_has_items = heading, False
            continue
        while stack and stack[-1].rank >= heading.rank:
            stack.pop()
        stack.append(heading)
        if heading.inline:
            add(line)
    return sections


def _repeated_part_prefixes(lines: list[str]) -> set[str]:
    """Numbered part titles (``工作计划1``, ``工作计划2`` …): a short prefix that recurs with different numbers."""
    counts = Counter(m.group("prefix") for line in lines if (m := _PART_HEADING.match(line)))
    return {prefix for prefix, count in counts.items() if count >= 2}


def _merge_tiny_sections(sections: list[_Section]) -> list[_Section]:
    merged: list[_Section] = []
    for section in sections:
        if merged and section.size < TINY_SECTION_CHARS and merged[-1].size + section.size <= MAX_CHARS:
            merged[-1].paragraphs.extend(section.paragraphs)
        elif merged and merged[-1].size < TINY_SECTION_CHARS and merged[-1].size + section.size <= MAX_CHARS:
            section.paragraphs[:0] = merged.pop().paragraphs
            merged.append(section)
        else:
            merged.append(section)
    return merged


def _pack(paragraphs: list[str]) -> list[str]:
    pieces: list[str] = []
    for paragraph in paragraphs:
        pieces.extend(_split_long(paragraph) if len(paragraph) > MAX_CHARS else [paragraph])
    chunks: list[list[str]] = [[]]
    for piece in pieces:
        size = sum(len(p) for p in chunks[-1])
        if chunks[-1] and size + len(piece) > MAX_CHARS:
            chunks.append([])
        chunks[-1].append(piece)
    texts = ["\n".join(chunk) for chunk in chunks if chunk]
    # A short tail reads better with the chunk before it than alone.
    if len(texts) > 1 and len(texts[-1]) < MIN_CHARS and len(texts[-2]) + len(texts[-1]) <= MAX_CHARS * 1.2:
        texts[-2:] = [f"{texts[-2]}\n{texts[-1]}"]
    return texts


def _split_long(paragraph: str) -> list[str]:
    """Sentence-aligned windows of at most ``MAX_CHARS``; each window after the first repeats the last sentence."""
    sentences = [s for s in _SENTENCE_END.split(paragraph) if s]
    sentences = [piece for s in sentences for piece in _hard_split(s)]
    windows: list[list[str]] = [[]]
    for sentence in sentences:
        if windows[-1] and sum(map(len, windows[-1])) + len(sentence) > MAX_CHARS:
            overlap = windows[-1][-1]
            windows.append([overlap] if len(overlap) + len(sentence) <= MAX_CHARS and len(overlap) <= MIN_CHARS else [])
        windows[-1].append(sentence)
    return ["".join(window) for window in windows if window]


def _hard_split(sentence: str) -> list[str]:
    if len(sentence) <= MAX_CHARS:
        return [sentence]
    step = MAX_CHARS - 50
    return [sentence[start : start + MAX_CHARS] for start in range(0, len(sentence), step)]
