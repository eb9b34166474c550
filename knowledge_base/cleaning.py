"""Turning a document captured from a web page into clean paragraphs: ``clean_text(raw, title=...) -> str``.

In: the raw text of one document. Out: one paragraph, heading or table row per line, with
- page noise gone (``您当前所在位置``, ``访问量``, ``扫码浏览``, download disclaimers, legal-database
  property blocks, page numbers, the 目录 and the cover lines before it, repeats of the document title);
- lines broken mid-sentence re-joined (``门诊慢`` / ``特病种认定`` → ``门诊慢特病种认定``);
- tables laid out one cell per line rebuilt as one readable line per row (see ``knowledge_base.tables``),
  preceded by their caption (``专栏1 …``, or ``表：…`` when the source had a bare caption line);
- half-width punctuation next to Chinese made full-width (``，。：；（）``) and stray spaces removed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from knowledge_base.headings import parse_heading
from knowledge_base.tables import render_table

_NOISE_LINE = re.compile(
    r"^(您当前所在位置|当前位置|访问量|浏览次数|扫码浏览|打印本页|关闭窗口|分享到|【打印】|【关闭】|文章属性$|正文$)"
    r"|下载文档前请自行甄别|仅部分预览|如文档侵犯您的权益|人工客服工作时间"
    r"|^•?\s*【(制定机关|公布日期|字号|施行日期|效力等级|时效性|主题分类|发布日期|发文字号)】"
)
_TRAILING_NOISE = re.compile(r"\s*扫码浏览\s*$")
_PAGE_NUMBER = re.compile(r"^([-—–]\s*\d{1,4}\s*[-—–]|第\s*\d{1,4}\s*页(\s*[/，,]?\s*共\s*\d{1,4}\s*页)?|\d{1,4}\s*/\s*\d{1,4})$")
_TOC_MARKER = re.compile(r"^目?\s*录$")
_TOC_PAGE_SUFFIX = re.compile(r"\s*\.{0,}\s*\d{1,3}$")
_LINE_CELL_TABLE_HEADER = re.compile(r"^(主要)?指\s*标$")
_NUMBERED_ROW = re.compile(r"^\d{1,2}[.．、](?!\d)")
_SENTENCE_PUNCTUATION = re.compile(r"[，。；：！？,;:!?]")
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff"
_JOINABLE_END = re.compile(rf"[{_CJK}“《（(、]$")
_JOINABLE_START = re.compile(rf"^[{_CJK}，。、；：）)”》％%]")
# A document number or a date ends its line on purpose, though it ends on a Chinese character. Published copies
# blank out part of a year ("20_年12月30日"): still a date.
_STANDALONE_LINE = re.compile(r"(〔\d{4}〕\d+号|(\d{4}|\d{2}_)年\d{1,2}月(\d{1,2}日)?|\d{4}年)$")
_HALF_TO_FULL = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！"}


@dataclass
class _Line:
    text: str
    is_row: bool = False  # a rebuilt table row or caption: never joined with its neighbours


def clean_text(raw: str, *, title: str = "") -> str:
    """Raw document text (and its title, whose repeats are dropped) in, clean newline-separated paragraphs out."""
    lines = [_strip_invisible(line) for line in raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines = [_TRAILING_NOISE.sub("", line) for line in lines if not _NOISE_LINE.search(line.strip())]
    rebuilt = _rebuild_tables(lines)
    rebuilt = _drop_table_of_contents(rebuilt)
    rebuilt = [
        _Line(re.sub(r"\s+", " ", line.text.strip()) if line.is_row else _collapse_spaces(line.text), line.is_row)
        for line in rebuilt
        if line.text.strip() and not _PAGE_NUMBER.match(line.text.strip())
    ]
    title_key = _comparable(title)
    rebuilt = [line for line in rebuilt if not (title_key and _comparable(line.text) == title_key)]
    joined = _join_broken_lines(rebuilt)
    paragraphs: list[str] = []
    for line in joined:
        text = _full_width_punctuation(line.text)
        if title_key and _comparable(text) == title_key:
            continue
        if paragraphs and paragraphs[-1] == text:
            continue
        paragraphs.append(text)
    return "\n".join(paragraphs)


def _strip_invisible(line: str) -> str:
    line = line.replace("\u3000", " ").replace("\xa0", " ")
    return "".join(ch for ch in line if unicodedata.category(ch) != "Cf")


def _collapse_spaces(text: str) -> str:
    text = re.sub(r"\s+", " ", text.strip())
    # Spaces between Chinese characters are layout ("指   标", "办  理"), except after a heading marker.
    text = re.sub(rf"(?<=[{_CJK}）)%％])\s+(?=[{_CJK}（(“])", "", text)
    text = re.sub(r"(?<=\d)\s+(?=[%％])", "", text)
    heading = parse_heading(text)
    return heading.text if heading and not heading.inline else text


def _comparable(text: str) -> str:
    return re.sub(r"[\s\"“”「」]", "", unicodedata.normalize("NFKC", text))


def _full_width_punctuation(text: str) -> str:
    def paired(match: re.Match[str]) -> str:
        inner = match.group(1)
        around = match.string[max(0, match.start() - 1) : match.end() + 1]
        return f"（{inner}）" if re.search(rf"[{_CJK}]", inner + around) else match.group(0)

    text = re.sub(r"\(([^()]*)\)", paired, text)
    return re.sub(
        rf"(?<=[{_CJK}）”])([,;:?!])|([,;:?!])(?=[{_CJK}（“])",
        lambda m: _HALF_TO_FULL[m.group(1) or m.group(2)],
        text,
    )


def _is_heading_like(text: str) -> bool:
    return bool(parse_heading(text)) or text.startswith("——") or text.startswith("注")


def _join_broken_lines(lines: list[_Line]) -> list[_Line]:
    """Re-join a line cut mid-word: it ends on a character that cannot end a sentence and the next begins mid-phrase."""
    joined: list[_Line] = []
    for line in lines:
        previous = joined[-1] if joined else None
        if (
            previous is not None
            and not previous.is_row
            and not line.is_row
            and _JOINABLE_END.search(previous.text)
            and not _STANDALONE_LINE.search(previous.text)
            and _JOINABLE_START.search(line.text)
            and not (parse_heading(previous.text) and not parse_heading(previous.text).inline)
            and not _is_heading_like(line.text)
        ):
            previous.text += line.text
        else:
            joined.append(_Line(line.text, line.is_row))
    return joined


def _drop_table_of_contents(lines: list[_Line]) -> list[_Line]:
    """Drop a 目录 block: the marker, the cover lines before it and the heading-only lines after it."""
    for index, line in enumerate(lines[:80]):
        if not _TOC_MARKER.match(line.text.strip()):
            continue
        start = index
        while start > 0 and _is_cover_line(lines[start - 1].text):
            start -= 1
        end = index + 1
        while end < len(lines) and (
            not lines[end].text.strip() or parse_heading(_TOC_PAGE_SUFFIX.sub("", lines[end].text.strip()))
        ):
            end += 1
        return lines[:start] + lines[end:]
    return lines


def _is_cover_line(text: str) -> bool:
    text = text.strip()
    return not text or (len(text) <= 30 and not _SENTENCE_PUNCTUATION.search(text))


def _rebuild_tables(lines: list[str]) -> list[_Line]:
    out: list[_Line] = []
    index = 0
    while index < len(lines):
        if lines[index].startswith("\t") and lines[index].strip():
            index = _consume_tab_table(lines, index, out)
        elif _LINE_CELL_TABLE_HEADER.match(lines[index].strip()):
            index = _consume_line_cell_table(lines, index, out)
        else:
            out.append(_Line(lines[index]))
            index += 1
    return out


def _add_caption(out: list[_Line]) -> None:
    """The short line just before a table is its caption; make it a box heading unless it is one already."""
    for line in reversed(out):
        if not line.text.strip():
            continue
        text = line.text.strip()
        heading = parse_heading(text)
        if heading and heading.is_box:
            line.is_row = True
        elif len(text) <= 30 and not _SENTENCE_PUNCTUATION.search(text) and not heading:
            line.text, line.is_row = f"表：{text}", True
        return


def _consume_tab_table(lines: list[str], start: int, out: list[_Line]) -> int:
    """Rows of tab-indented cells separated by blank lines (a cell may wrap onto an unindented line).

    A block of one or two tab lines is a 专栏 box or its first item, not a table: those pass through as text.
    """
    groups: list[list[str]] = [[]]
    index = start
    while index < len(lines):
        line = lines[index]
        if line.startswith("\t"):
            groups[-1].append(line.strip())
        elif not line.strip():
            if groups[-1]:
                groups.append([])
        elif any(groups) and len(line.strip()) <= 10 and _next_nonblank_is_tab(lines, index + 1):
            if not groups[-1]:
                groups.pop()  # the wrapped part of a cell came after a blank line: reopen that row
            groups[-1][-1] += line.strip()  # "住院费用跨省直接结算" / "率④（%）"
        else:
            break
        index += 1
    groups = [group for group in groups if group]
    widths = {len(group) for group in groups}
    if len(groups) < 3 or len(widths) != 1 or widths == {1}:
        for line in lines[start:index]:
            out.append(_Line(line.strip()))
        return index
    header = groups[0]
    rows = [header]
    previous_first = ""
    for group in groups[1:]:
        if group == header:
            continue  # the header repeated where the table broke across pages
        if not group[0]:
            group = [previous_first, *group[1:]]  # a merged cell: the row shares the category above
        previous_first = group[0]
        rows.append(group)
    _add_caption(out)
    out.extend(_Line(text, is_row=True) for text in render_table(rows))
    return index


def _next_nonblank_is_tab(lines: list[str], index: int) -> bool:
    while index < len(lines) and not lines[index].strip():
        index += 1
    return index < len(lines) and lines[index].startswith("\t")


def _consume_line_cell_table(lines: list[str], start: int, out: list[_Line]) -> int:
    """``指标`` / ``2020年基数`` / ``2025年目标`` / ``属性`` then rows ``1.名称`` / value / value / value."""
    cells: list[str] = []
    index = start
    while index < len(lines):
        if lines[index].strip():
            cells.append(lines[index].strip())
        index += 1
        if len(cells) > 1 and _NUMBERED_ROW.match(cells[-1]):
            break
    header, first_label = cells[:-1], cells[-1:]
    width = len(header)
    if width < 2 or not first_label:
        out.extend(_Line(line) for line in lines[start:index])
        return index
    rows = [header]
    row = first_label
    while index < len(lines):
        text = lines[index].strip()
        if not text:
            index += 1
            continue
        if len(row) == width:
            if not _NUMBERED_ROW.match(text):
                break
            rows.append(row)
            row = []
        if len(text) > 40 and _SENTENCE_PUNCTUATION.search(text):
            break
        row.append(text)
        index += 1
    if len(row) == width:
        rows.append(row)
    elif row:
        rows.append(row + [""] * (width - len(row)))
    _add_caption(out)
    out.extend(_Line(text, is_row=True) for text in render_table(rows))
    return index
