"""Rewriting elliptical follow-up questions ("那职工呢？", "周口呢？", "这个要多久？") into full questions.

Retrieval sees one message at a time, so a follow-up only finds the right passage once it carries the previous
question's topic and region. Everything here is a pure function of strings: the region detector and the test for
places with no document are passed in (``knowledge_base.regions.detect_region`` and ``names_other_place`` in
production).

    rewrite_follow_up("那职工呢？", previous_topic="居民医保住院报销比例是多少", previous_region="周口",
                      detect_region=detect_region, names_other_place=names_other_place)
    → FollowUp(question="职工医保住院报销比例是多少", region="周口", is_follow_up=True)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

RegionDetector = Callable[[str], "str | None"]
PlaceTest = Callable[[str], bool]

# Terms that stand in for each other: "那职工呢" after a 居民 question swaps 居民 → 职工 in the old question.
# Longer terms first inside a group so "城乡居民" is replaced whole, not just its "居民".
SUBSTITUTION_GROUPS: tuple[tuple[str, ...], ...] = (
    ("城镇职工", "城乡居民", "职工", "居民", "灵活就业人员", "退休人员", "学生", "儿童", "新生儿", "老人"),
    ("门诊慢特病", "门诊特殊病", "普通门诊", "门诊", "住院", "急诊"),
    ("跨省", "省内", "市内", "异地", "本地"),
    ("个人账户", "统筹基金", "大病保险", "医疗救助", "生育保险", "长期护理保险"),
    ("药品", "耗材", "医疗服务"),
)

# Questions about "it" that only make sense with the previous topic.
_ASPECT_WORDS = ("多久", "多长时间", "几天", "时限", "怎么办", "如何办", "怎么申请", "怎么报", "在哪", "哪里办",
                 "什么材料", "哪些材料", "要带什么", "需要什么", "条件", "多少钱", "比例", "多少", "流程", "能报吗",
                 "可以报吗", "报销", "要钱吗", "收费吗", "截止", "什么时候")
_PRONOUNS = ("这个", "那个", "这项", "这种", "该项", "它", "这")
_LEADING = re.compile(r"^(那么|那如果|那要是|那|还有|另外|如果是|要是|换成|换作)")
_TRAILING = re.compile(r"(的话|呢|吗|啊|呀|嘞)+$")
_PUNCTUATION = re.compile(r"[\s，。？！?!,.、；;：:“”\"'（）()]+")

# A follow-up is short; a full question that merely starts with 那 keeps its own words.
MAX_FOLLOW_UP_CHARS = 12


@dataclass(frozen=True)
class FollowUp:
    question: str  # what retrieval should search for
    region: str | None  # the region to search in (the new one, or carried over from the previous question)
    is_follow_up: bool


def _core(text: str) -> str:
    """The message without punctuation, leading 那/还有 and trailing 呢/吗."""
    core = _PUNCTUATION.sub("", text)
    previous = None
    while previous != core:
        previous = core
        core = _TRAILING.sub("", _LEADING.sub("", core))
    return core


def _swap_term(previous_topic: str, new_term: str) -> str | None:
    """The previous topic with the term of ``new_term``'s group replaced by ``new_term``; None if not in a group."""
    for group in SUBSTITUTION_GROUPS:
        if new_term not in group:
            continue
        for old_term in group:
            if old_term != new_term and old_term in previous_topic:
                return previous_topic.replace(old_term, new_term, 1)
        return f"{new_term}{previous_topic}"
    return None


def _remove_region(topic: str, region: str | None, detect_region: RegionDetector) -> str:
    """The topic without the words that name ``region`` ("河南省周口市居民…" → "居民…")."""
    if not region:
        return topic
    for _ in range(3):  # "河南省周口市" names the same region twice
        piece = _shortest_piece_naming(topic, region, detect_region)
        if piece is None:
            break
        start, end = piece
        end += len(_REGION_SUFFIX.match(topic, end).group(0))
        topic = topic[:start] + topic[end:]
    return topic


_REGION_SUFFIX = re.compile(r"(省|市|地区|州|县|区)?(的)?")


def _shortest_piece_naming(text: str, region: str, detect_region: RegionDetector) -> tuple[int, int] | None:
    for length in range(2, min(len(text), 8) + 1):
        for start in range(0, len(text) - length + 1):
            if detect_region(text[start:start + length]) == region:
                return start, start + length
    return None


def looks_like_follow_up(text: str) -> bool:
    """Short messages that lean on the previous question: "那职工呢？", "周口呢", "这个要多久？"."""
    stripped = _PUNCTUATION.sub("", text)
    if not stripped or len(stripped) > MAX_FOLLOW_UP_CHARS:
        return False
    return bool(
        _LEADING.match(stripped)
        or _TRAILING.search(stripped)
        or stripped.startswith(_PRONOUNS)
        # "需要什么材料", "要多久": an aspect with no subject of its own
        or (len(stripped) <= 8 and stripped.startswith(_ASPECT_OPENERS))
    )


def leans_on_context(text: str) -> bool:
    """A short question that names at most one policy topic ("每年救助的限额会不会提高", "待遇范围是怎么定的") reads
    best with the topic of the one before it; one naming several ("异地就医直接结算需要备案吗") stands on its own."""
    stripped = _PUNCTUATION.sub("", text)
    return len(stripped) <= CONTEXT_CHARS and len(_TOPIC_WORDS.findall(stripped)) < 2


# Up to this long, a question right after another is searched together with the previous topic.
CONTEXT_CHARS = 16
_TOPIC_WORDS = re.compile(
    r"异地|备案|结算|门诊|住院|慢特病|慢性病|个人账户|长护险|长期护理|护理保险|大病|救助|生育|参保|缴费|医保卡|社保卡|电子凭证"
    r"|转移接续|药品|耗材|集采|drg|dip|定点|骗保|举报|热线|12393|灵活就业|职工|居民|报销|起付|封顶|家庭共济|统筹"
)


def narrows_previous(text: str) -> bool:
    """A longer message that opens by leaning on the previous one ("那退休的…", "还有…呢") continues its topic."""
    stripped = _PUNCTUATION.sub("", text)
    return len(stripped) > MAX_FOLLOW_UP_CHARS and bool(_CONTINUING.match(stripped))


_CONTINUING = re.compile(r"^(那么|那如果|那要是|那|还有|另外|再问一下|再问下)")
_ASPECT_OPENERS = ("需要", "要", "得", "多久", "多长", "多少", "在哪", "哪里", "去哪", "怎么办", "什么时候", "有什么")


def rewrite_follow_up(
    text: str,
    *,
    previous_topic: str | None,
    previous_region: str | None,
    detect_region: RegionDetector,
    names_other_place: PlaceTest,
) -> FollowUp:
    """Turn a follow-up into a self-contained question using the previous topic and region.

    A message that is not a follow-up (or has nothing to follow) is returned as it is, with only the region
    it names itself: a new full question must not be narrowed to a place the resident did not mention.
    """
    own_region = detect_region(text)
    leans = looks_like_follow_up(text) or leans_on_context(text)
    if previous_topic and not own_region and names_other_place(text) and leans:
        # "那北京呢" after a 南昌 question: the topic carries over, the region does not, so the search reads a place
        # the documents do not cover instead of passing 南昌's rule off as 北京's.
        topic = _remove_region(previous_topic, previous_region, detect_region)
        return FollowUp(f"{_strip_question_tail(topic)}，{text.strip()}", None, True)
    if previous_topic and not own_region and previous_region and narrows_previous(text):
        # "那退休的人个人账户每个月划多少" after a 周口 question: a full question of its own, in the same place.
        return FollowUp(text.strip(), previous_region, True)
    if previous_topic and not own_region and not looks_like_follow_up(text) and leans_on_context(text):
        return _with_previous_topic(text, _remove_region(previous_topic, previous_region, detect_region),
                                    previous_region)
    if not previous_topic or not looks_like_follow_up(text):
        return FollowUp(text.strip(), own_region, False)

    core = _core(text)
    topic = _remove_region(previous_topic, previous_region, detect_region)
    region = own_region or previous_region
    # The region, if the follow-up names one, travels separately; what is left says what changes.
    change = _remove_region(core, own_region, detect_region) if own_region else core
    prefix = region or ""

    # "周口呢？" — only a region: the same question, asked about another place.
    if own_region and not change:
        return FollowUp(f"{prefix}{topic}", region, True)

    # "那职工呢？", "那门诊呢" — a counterpart term: swap it into the previous question.
    swapped = _swap_term(topic, change)
    if swapped is not None:
        return FollowUp(f"{prefix}{swapped}", region, True)

    # "这个要多久？", "需要什么材料" — an aspect of the previous topic.
    for pronoun in _PRONOUNS:
        if change.startswith(pronoun):
            change = change[len(pronoun):]
            break
    if any(word in change for word in _ASPECT_WORDS):
        return FollowUp(f"{prefix}{_strip_question_tail(topic)}{change}", region, True)

    # "那产检呢", "单位交的那部分呢": a follow-up no rule can splice in is searched beside the previous topic.
    if leans_on_context(text):
        return _with_previous_topic(text, topic, region)
    return FollowUp(text.strip(), own_region, False)


def _with_previous_topic(text: str, topic: str, region: str | None) -> FollowUp:
    """A short question naming no place of its own, searched together with the previous topic and in its region."""
    return FollowUp(f"{region or ''}{_strip_question_tail(topic)}，{text.strip()}", region, True)


_QUESTION_TAIL = re.compile(r"(是多少|有多少|怎么办理?|如何办理|怎么申请|如何申请|怎么报销?|能报销?吗|可以报销?吗|吗|呢|？|\?)+$")


def _strip_question_tail(topic: str) -> str:
    """"异地就医备案怎么办理？" → "异地就医备案", so an aspect can be appended: "异地就医备案要多久"."""
    return _QUESTION_TAIL.sub("", topic.strip()) or topic.strip()
