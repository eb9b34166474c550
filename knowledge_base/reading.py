"""Reading a passage against a question: what the question asks for, and which sentence of a passage says it.

Pure functions over normalised text (``knowledge_base.tokenizer.normalize``), no index or model:
- ``asked_kinds(question) -> frozenset[str]``: the kinds of fact a question asks for — ``number`` (多少/比例/几),
  ``duration`` (多久/几天/时限), ``place`` (哪里/去哪/渠道), ``permission`` (能不能/可以吗), ``phone``
  (电话是多少/哪个号码);
- ``states_kind(text, kind) -> bool``: whether a text holds such a fact (a figure, a time limit, a place or
  channel, a rule that allows or forbids, a phone number);
- ``split_sentences(text) -> list[str]``: a passage's sentences (and list items), as quoted to residents;
- ``WeightedTerms`` + ``coverage(terms, text)``: the IDF-weighted share of a question's words (or their official
  synonyms) a text contains — rare words (慢特病, 长护险) weigh more than common ones (医保, 报销);
- ``answering_span(terms, kinds, sentences) -> (start, end)``: the sentence(s) that carry the asked-for fact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = ("number", "duration", "place", "permission", "phone")

_ASKS: dict[str, re.Pattern[str]] = {
    "number": re.compile(
        r"多少|几[个成年岁次项种类档级%]|百分|比例|比率|多高|多大|标准是|金额|额度|上限|封顶|起付|占比|几成|多少钱|报多少|几个点"
    ),
    "duration": re.compile(r"多久|多长时间|几天|多少天|几个工作日|时限|期限|什么时候|何时|几时|多快|有效期|几年|几个月"),
    "place": re.compile(r"哪里|哪儿|去哪|在哪|什么地方|哪个部门|哪个窗口|找谁|什么渠道|哪些渠道|哪个平台|怎么联系|网上能|线上能|手机上"),
    "permission": re.compile(r"能不能|能否|可不可以|可以吗|能吗|是否可以|行不行|让不让|允许|能报吗|可以报吗|给不给|算不算|管不管"),
    # The number itself, not whether one can phone ("能打电话办吗" is a channel question).
    "phone": re.compile(r"电话号|电话(是|多少|几号)|号码(是|多少)|哪个号码?|打哪个电话|热线号码"),
}
_STATES: dict[str, re.Pattern[str]] = {
    # A figure with its unit; list numbering ("2.建立…") is not a figure.
    "number": re.compile(
        r"\d+(\.\d+)?\s*(%|％|元|万|亿|倍|个百分点|人|家|个|项|种|类|档|级|岁|年|月|天|日|次|张|家|所|条|小时|分钟)"
        r"|百分之|[一二三四五六七八九十两百千万]+(元|倍|个百分点|万人|项|个|类|种|档|级|岁|年|次)"
    ),
    "duration": re.compile(
        r"\d+\s*个?(工作日|日|天|小时|分钟|个月|月|年)|[一二三四五六七八九十两]+个?(工作日|日|天|小时|个月|年)|当日|当天|即时|实时|立即|随时"
    ),
    "place": re.compile(
        r"窗口|大厅|网上|线上|网办|掌上|app|小程序|公众号|热线|12393|医院|药店|医疗机构|经办机构|服务站|服务点|服务中心|平台|村|社区|乡镇|街道"
        r"|赣服通|豫事办|粤医保|一网通办|政务服务"
    ),
    "permission": re.compile(r"可以|可|允许|不得|不予|纳入|支付|报销|享受|禁止|不能|应当|按规定|范围"),
    # A service number (12393), a landline or a mobile number; not an amount such as 18845万元.
    "phone": re.compile(r"(?<![\d.])(\d{5}|\d{3,4}-\d{7,8}|1\d{10})(?![\d.万亿元人%％])"),
}
_SENTENCE_BREAK = re.compile(r"(?<=[。！？；!?;])|\n")
# A lead sentence this short ("（二）提高保障水平。") says little alone: quote the next one with it.
MIN_LEAD_CHARS = 30
MAX_LEAD_CHARS = 160


def asked_kinds(question: str) -> frozenset[str]:
    return frozenset(kind for kind, pattern in _ASKS.items() if pattern.search(question))


def states_kind(text: str, kind: str) -> bool:
    return bool(_STATES[kind].search(text))


def unmet_kinds(kinds: frozenset[str], text: str) -> int:
    """How many of the asked-for kinds the text does not state (0 when the question asks for none)."""
    return sum(1 for kind in kinds if not states_kind(text, kind))


def split_sentences(text: str) -> list[str]:
    return [sentence.strip() for sentence in _SENTENCE_BREAK.split(text) if sentence and sentence.strip()]


@dataclass(frozen=True)
class WeightedTerms:
    """A question's content words, each with the words that stand for it in the documents and its IDF weight."""

    groups: tuple[tuple[str, ...], ...]  # (the resident's word, its official synonyms …)
    weights: tuple[float, ...]

    @property
    def total(self) -> float:
        return sum(self.weights)


def found(group: tuple[str, ...], text: str) -> bool:
    return any(member in text for member in group)


def coverage(terms: WeightedTerms, text: str) -> float:
    """IDF-weighted share of the question's words that ``text`` (normalised) contains; 0 for a question of none."""
    total = terms.total
    if not total:
        return 0.0
    return sum(w for group, w in zip(terms.groups, terms.weights, strict=True) if found(group, text)) / total


def rarest_missing(terms: WeightedTerms, text: str) -> float:
    """The weight of the rarest question word the text lacks (0 when it has them all)."""
    return max((w for group, w in zip(terms.groups, terms.weights, strict=True) if not found(group, text)), default=0.0)


def answering_span(terms: WeightedTerms, kinds: frozenset[str], sentences: list[str]) -> tuple[int, int]:
    """Sentences ``[start, end)`` that best answer: most of the question's weighted words, and the asked-for fact.

    A sentence stating what is asked (a figure for 多少, a time for 多久) is preferred over one that only repeats
    the question's words; the sentence before counts at half weight, since a figure often follows the sentence
    that names its subject ("…普通门诊统筹覆盖全体职工。支付比例从50%起步"). Ties go to the earlier sentence. A very
    short lead takes the next sentence with it.
    """
    if not sentences:
        return 0, 0
    best, best_score = 0, -1.0
    for position, sentence in enumerate(sentences):
        context = sentences[position - 1] if position else ""
        score = (coverage(terms, sentence) + 0.5 * coverage(terms, context + sentence)
                 + sum(1 for kind in kinds if states_kind(sentence, kind)))
        if score > best_score + 1e-9:
            best, best_score = position, score
    end = best + 1
    while (
        end < len(sentences)
        and sum(map(len, sentences[best:end])) < MIN_LEAD_CHARS
        and sum(map(len, sentences[best:end + 1])) <= MAX_LEAD_CHARS
    ):
        end += 1
    return best, end
