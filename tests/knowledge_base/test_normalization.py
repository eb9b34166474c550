"""The one normaliser both the NLU and the search read through: traditional, full-width, dialect, typos."""

from __future__ import annotations

import pytest

from knowledge_base.normalization import normalize_question, normalize_with_offsets


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("異地就醫可以直接結算嗎", "异地就医可以直接结算吗"),
        ("俺娘在乡下住院了，新农合能报多少", "我娘在乡下住院了,城乡居民医保能报多少"),
        ("合疗咋报销", "城乡居民医保怎么报销"),
        ("娃的医保本丢了咋个整", "孩子的医保卡丢了怎么办"),
        ("ＤＲＧ是啥？打１２３９３", "DRG是什么?打12393"),
        ("异地就医被案要带撒", "异地就医备案要带撒"),
        ("住院报消比例", "住院报销比例"),
    ],
)
def test_resident_forms_become_the_documents_words(typed: str, read: str) -> None:
    assert normalize_question(typed) == read


def test_normalising_twice_changes_nothing() -> None:
    once = normalize_question("俺娘在鄉下住院了，新農合能報多少？")
    assert normalize_question(once) == once


def test_plain_simplified_text_is_left_as_it_is() -> None:
    text = "职工医保个人账户能给家里人用吗"
    assert normalize_question(text) == text


def test_phrase_rules_keep_words_that_are_not_traditional() -> None:
    assert normalize_question("干部医疗保障") == "干部医疗保障"


def test_offsets_follow_the_text_so_labelled_spans_stay_on_their_words() -> None:
    # "咋" (1 character) becomes "怎么" (2): a span after it moves one to the right
    text = "咋办理，我叫陳小明"
    normalized, offsets = normalize_with_offsets(text)
    start, end = text.index("陳小明"), text.index("陳小明") + 3
    assert normalized[offsets[start]:offsets[end]] == "陈小明"
    assert len(offsets) == len(text) + 1 and offsets[-1] == len(normalized)
