"""What a resident typed → the text the NLU and the search read: ``normalize_question(text) -> str``.

One normaliser for both, so "異地就醫可以直接結算嗎" or "俺娘住院了新农合能报多少" is understood the same way
by the intent classifier and by retrieval:
1. full-width forms to half-width (NFKC per character: "１２３９３" → "12393", "？" → "?"),
2. traditional characters to simplified (OpenCC ``t2s``),
3. dialect, colloquial and outdated words to the words the documents use (俺 → 我, 咋 → 怎么, 新农合 →
   城乡居民医保), and frequent typos (报消 → 报销, 被案 → 备案).

``normalize_with_offsets(text)`` also returns where each original character went, so labelled spans (NLU
entities) can follow the text. Pure Python plus OpenCC: the Rasa component (``bot/components/``) loads this very
file in Rasa's own environment, so nothing here may import the rest of the project.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Longest first within the pattern. Only whole words that cannot mean anything else in a 医保 question: "好多"
# ("many") is left alone, "好多钱" ("how much", south-western usage) is not.
REPLACEMENTS: dict[str, str] = {
    # the scheme residents still call by its old names (merged into 城乡居民基本医疗保险 in 2016–2019)
    "新型农村合作医疗": "城乡居民医保",
    "新农合": "城乡居民医保",
    "农合": "城乡居民医保",
    "合疗": "城乡居民医保",
    "城镇居民医保": "城乡居民医保",
    "医保本": "医保卡",
    "医疗本": "医保卡",
    # dialect and colloquial words
    "俺们": "我们",
    "俺": "我",
    "咱家": "我家",
    "咋个整": "怎么办",
    "咋整": "怎么办",
    "咋个": "怎么",
    "咋": "怎么",
    "啥子": "什么",
    "啥": "什么",
    "娃娃": "孩子",
    "娃儿": "孩子",
    "娃": "孩子",
    "有木有": "有没有",
    "木有": "没有",
    "几多钱": "多少钱",
    "几多": "多少",
    "好多钱": "多少钱",
    "是好多": "是多少",
    "报账": "报销",
    "看大夫": "看病",
    "瞧病": "看病",
    # frequent typos (homophones on a phone keyboard)
    "报消": "报销",
    "抱销": "报销",
    "医宝": "医保",
    "医报": "医保",
    "被案": "备案",
    "备按": "备案",
    "凭正": "凭证",
    "门珍": "门诊",
    "住园": "住院",
    "慢特并": "慢特病",
    "异的就医": "异地就医",
    "起付钱": "起付线",
    "交费": "缴费",
}
_REPLACEMENT_PATTERN = re.compile("|".join(map(re.escape, sorted(REPLACEMENTS, key=len, reverse=True))))


@lru_cache(maxsize=1)
def _converter():  # type: ignore[no-untyped-def]
    import opencc

    return opencc.OpenCC("t2s")


def normalize_question(text: str) -> str:
    """The resident's text in, the normalised text the NLU and the search work on out (idempotent)."""
    return normalize_with_offsets(text)[0]


def normalize_with_offsets(text: str) -> tuple[str, list[int]]:
    """The normalised text and, for each position 0…len(text) of the original, its position in the new text."""
    pieces = [_half_width(ch) for ch in text]
    pieces = _to_simplified(pieces)
    joined = "".join(pieces)
    offsets = [0]
    for piece in pieces:
        offsets.append(offsets[-1] + len(piece))
    return _replace_words(joined, offsets)


def _half_width(ch: str) -> str:
    if ch.isascii():
        return ch
    # NFKC of one character: full-width Latin letters, digits and punctuation become their ASCII forms; a few
    # characters expand (㈠ → (一)), which the offsets record.
    return unicodedata.normalize("NFKC", ch) or ch


def _to_simplified(pieces: list[str]) -> list[str]:
    """Per original character, its simplified form: OpenCC on the whole text keeps phrase rules (乾隆 stays)."""
    joined = "".join(pieces)
    if joined.isascii():
        return pieces
    converted = _converter().convert(joined)
    if len(converted) == len(joined) and all(len(p) == 1 for p in pieces):
        return list(converted)
    return [_converter().convert(piece) for piece in pieces]  # lengths differ: fall back to character by character


def _replace_words(text: str, offsets: list[int]) -> tuple[str, list[int]]:
    out: list[str] = []
    new_at: list[int] = []  # new_at[i]: where position i of ``text`` lands in the output
    length = position = 0
    for match in _REPLACEMENT_PATTERN.finditer(text):
        for i in range(position, match.start()):
            new_at.append(length)
            out.append(text[i])
            length += 1
        replacement = REPLACEMENTS[match.group(0)]
        new_at.extend([length] * (match.end() - match.start()))
        out.append(replacement)
        length += len(replacement)
        position = match.end()
    for i in range(position, len(text)):
        new_at.append(length)
        out.append(text[i])
        length += 1
    new_at.append(length)
    return "".join(out), [new_at[o] for o in offsets]
