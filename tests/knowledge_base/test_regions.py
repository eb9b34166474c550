"""Which region a question names."""

from __future__ import annotations

import pytest

from knowledge_base.regions import detect_region, names_other_place, region_matches


@pytest.mark.parametrize(
    ("question", "region"),
    [
        ("周口市居民医保住院能报多少", "周口"),
        ("河南的门诊慢特病怎么认定", "周口"),
        ("我在项城，医保卡怎么激活", "周口"),
        ("江西省长期护理保险", "南昌"),
        ("广东阳江城乡居民医保交多少钱", "阳江"),
        ("我在苏州，医保关系转移接续要多久", "江苏"),
        ("昆明的异地就医备案", "云南"),
        ("我在郑州上班，回周口看病", "周口"),
        ("１２３９３热线几点上班", None),
        ("北京职工医保报销比例", None),
    ],
)
def test_detect_region(question: str, region: str | None) -> None:
    assert detect_region(question) == region


def test_places_without_a_document_are_told_apart_from_no_place() -> None:
    assert names_other_place("北京职工医保报销比例")
    assert not names_other_place("职工医保报销比例")
    assert not names_other_place("周口职工医保报销比例")


def test_document_regions_match_their_short_name() -> None:
    assert region_matches("河南省周口市", "周口")
    assert region_matches("江西省南昌市", "南昌")
    assert not region_matches("江苏省", "周口")
    assert not region_matches("", "周口")
