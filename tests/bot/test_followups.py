"""Follow-up questions are rewritten with the previous question's topic and region before retrieval."""

from __future__ import annotations

import pytest

from actions.domain.followups import FollowUp, looks_like_follow_up, rewrite_follow_up
from knowledge_base.regions import detect_region, names_other_place


def rewrite(text: str, topic: str | None, region: str | None):  # type: ignore[no-untyped-def]
    return rewrite_follow_up(text, previous_topic=topic, previous_region=region, detect_region=detect_region,
                             names_other_place=names_other_place)


def test_population_follow_up_swaps_residents_for_employees() -> None:
    result = rewrite("那职工呢？", "周口居民医保住院报销比例是多少", "周口")
    assert result.is_follow_up
    assert result.question == "周口职工医保住院报销比例是多少"
    assert result.region == "周口"


def test_region_follow_up_asks_the_same_question_elsewhere() -> None:
    result = rewrite("南昌呢？", "河南省周口市居民医保住院报销比例是多少", "周口")
    assert result.question == "南昌居民医保住院报销比例是多少"
    assert result.region == "南昌"
    assert "周口" not in result.question and "河南" not in result.question


def test_province_name_follow_up_maps_to_its_document_region() -> None:
    result = rewrite("那江西的呢", "周口门诊慢特病怎么申请", "周口")
    assert result.region == "南昌" and "周口" not in result.question


def test_aspect_follow_up_keeps_the_topic() -> None:
    result = rewrite("这个要多久？", "异地就医备案怎么办理？", None)
    assert result.question == "异地就医备案要多久"
    assert result.region is None


def test_care_setting_follow_up_swaps_inpatient_for_outpatient() -> None:
    result = rewrite("那门诊呢", "周口职工医保住院报销比例是多少", "周口")
    assert result.question == "周口职工医保门诊报销比例是多少"


def test_counterpart_missing_from_the_topic_is_added() -> None:
    result = rewrite("那职工呢", "门诊慢特病怎么申请", None)
    assert result.question == "职工门诊慢特病怎么申请"


def test_a_full_new_question_is_left_alone_and_not_narrowed_to_the_old_region() -> None:
    result = rewrite("异地就医直接结算需要备案吗？", "周口居民医保住院报销比例是多少", "周口")
    assert not result.is_follow_up
    assert result.question == "异地就医直接结算需要备案吗？"
    assert result.region is None


def test_nothing_to_follow_means_no_rewrite() -> None:
    result = rewrite("那职工呢？", None, None)
    assert not result.is_follow_up and result.question == "那职工呢？"


@pytest.mark.parametrize("text", ["那职工呢？", "周口呢", "这个要多久？", "那门诊呢", "需要什么材料"])
def test_short_leaning_messages_are_follow_ups(text: str) -> None:
    assert looks_like_follow_up(text)


@pytest.mark.parametrize("text", ["在外地住院能直接结算吗，需要先办理异地就医备案吗", "医保电子凭证怎么激活"])
def test_full_questions_are_not_follow_ups(text: str) -> None:
    assert not looks_like_follow_up(text)


def test_a_longer_question_that_leans_on_the_previous_one_keeps_its_region() -> None:
    # given a 周口 question, when the resident narrows it in a full sentence of their own
    follow_up = rewrite("那退休的人个人账户每个月划多少", "周口职工医保个人账户怎么划入", "周口")
    # then it is searched as written, in 周口
    assert (follow_up.question, follow_up.region, follow_up.is_follow_up) == ("那退休的人个人账户每个月划多少", "周口", True)
    # and a full question naming its own place is not narrowed to the old one
    own = rewrite("那南昌退休人员个人账户每个月划多少", "周口职工医保个人账户怎么划入", "周口")
    assert own.region == "南昌"


def test_a_short_question_naming_no_topic_of_its_own_is_searched_with_the_previous_one() -> None:
    follow_up = rewrite("每年救助的限额会不会提高", "南昌医疗救助标准全市统一吗", "南昌")
    assert follow_up == FollowUp("南昌医疗救助标准全市统一，每年救助的限额会不会提高", "南昌", True)


def test_a_follow_up_no_rule_can_splice_in_is_searched_beside_the_previous_topic() -> None:
    follow_up = rewrite("那产检呢", "南昌生小孩医保怎么报", "南昌")
    assert follow_up == FollowUp("南昌生小孩医保，那产检呢", "南昌", True)
    # one that names topics of its own stands alone, and is not narrowed to the old region
    own = rewrite("异地就医能直接结算吗", "南昌生小孩医保怎么报", "南昌")
    assert own == FollowUp("异地就医能直接结算吗", None, False)


@pytest.mark.parametrize("text", ["那北京呢", "浙江可以吗", "要是在上海看病呢"])
def test_a_follow_up_about_a_place_with_no_document_keeps_the_topic_but_not_the_region(text: str) -> None:
    # given a 南昌 question, when the resident asks the same of a place the documents do not cover
    follow_up = rewrite(text, "南昌职工住院能报多少", "南昌")
    # then the topic carries over without 南昌, so the search reads the other place, not 南昌's rule
    assert follow_up.is_follow_up and follow_up.region is None
    assert follow_up.question.startswith("职工住院能报") and text in follow_up.question
    assert detect_region(follow_up.question) is None and names_other_place(follow_up.question)
