"""Recognising the headings of Chinese policy documents: ``parse_heading(line) -> Heading | None``.

Ranks nest the way these documents do: 第X章 (1) › 第X节 (2) › 一、(3) › （一）(4) › 1. (5) › （1）(6). A
document without chapters simply starts at a lower rank; only the relative order matters. ``专栏`` boxes and
table captions (``表：…``) are ``box`` headings: they sit under the current section and end at the next
heading of rank ≤ 4 or at the first paragraph that is not one of their numbered items.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CN_NUMBER = "一二三四五六七八九十百零〇两"
MAX_HEADING_CHARS = 40

_PATTERNS: list[tuple[int, re.Pattern[str]]] = [
    (1, re.compile(rf"^第[{_CN_NUMBER}\d]+章\s*(?P<title>.*)$")),
    (2, re.compile(rf"^第[{_CN_NUMBER}\d]+节\s*(?P<title>.*)$")),
    (3, re.compile(rf"^[{_CN_NUMBER}]+、\s*(?P<title>.*)$")),
    (4, re.compile(rf"^[（(][{_CN_NUMBER}]+[)）]\s*(?P<title>.*)$")),
    (5, re.compile(r"^\d{1,2}[.．、](?!\d)\s*(?P<title>.*)$")),
    (6, re.compile(r"^[（(]\d{1,2}[)）]\s*(?P<title>.*)$")),
]
_BOX = re.compile(r"^(专栏\s*\d*[：:]?|表[：:])\s*(?P<title>.*)$")
_CLAUSE_PUNCTUATION = re.compile(r"[，,；;：:！!？?。]")
BOX_RANK = 0  # boxes are not ranked against sections; see ``Heading.is_box``


@dataclass(frozen=True)
class Heading:
    rank: int
    text: str  # the heading as it should be shown: "第一章 规划背景和总体目标"
    is_box: bool = False
    inline: bool = False  # the heading is the lead sentence of a paragraph, which stays body text too


def parse_heading(line: str) -> Heading | None:
    """One stripped line in, the heading it is (rank, display text) or ``None`` for body text.

    A numbered line that goes on past a short lead sentence (``（一）提升服务水平。根据…``) is an inline
    heading: the lead names the section and the whole line remains part of the body.
    """
    line = line.strip()
    box = _BOX.match(line)
    if box and len(line) <= MAX_HEADING_CHARS and not _CLAUSE_PUNCTUATION.search(box.group("title")):
        return Heading(rank=BOX_RANK, text=_display(line), is_box=True)
    for rank, pattern in _PATTERNS:
        match = pattern.match(line)
        if not match:
            continue
        title = match.group("title")
        if not title:
            return None
        if len(line) <= MAX_HEADING_CHARS and not _CLAUSE_PUNCTUATION.search(title.rstrip("。")):
            return Heading(rank=rank, text=_display(line.rstrip("。")))
        lead, stop, _rest = line.partition("。")
        if stop and 4 <= len(lead) <= MAX_HEADING_CHARS and rank >= 3:
            return Heading(rank=rank, text=_display(lead), inline=True)
        return None
    return None


def is_numbered_item(line: str) -> bool:
    """``1.`` / ``1、`` items: inside a 专栏 box they are its entries, not headings."""
    return bool(_PATTERNS[4][1].match(line.strip()))


def _display(text: str) -> str:
    # "第一章  规划背景" and "专栏1  “十四五”…" keep one space after the marker, none inside Chinese words.
    text = re.sub(r"\s+", " ", text.strip())
    text = re.sub(r"^(第\S+?[章节]|专栏\s*\d*)\s*(?![：:])", lambda m: m.group(1).replace(" ", "") + " ", text)
    return re.sub(r"^(专栏\s*\d*|表)\s*([：:])\s*", lambda m: m.group(1).replace(" ", "") + "：", text).strip()
