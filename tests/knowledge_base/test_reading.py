"""Reading a passage against a question: the kind of fact asked for, coverage of rare words, the answering sentence."""

from __future__ import annotations

from knowledge_base.reading import (
    WeightedTerms,
    answering_span,
    asked_kinds,
    coverage,
    rarest_missing,
    split_sentences,
    states_kind,
)

PASSAGE = (
    "坚持基本保障、平稳过渡的原则，将普通门诊统筹覆盖全体职工。支付比例从50%起步，逐步提高待遇保障水平。"
    "实名差评回访率达到100%，原则上应在10个工作日向评价人反馈整改情况。"
)


def test_question_words_say_what_kind_of_fact_is_asked_for() -> None:
    assert asked_kinds("普通门诊能报销多少") == {"number"}
    assert asked_kinds("给了差评多久有人回访") == {"duration"}
    assert asked_kinds("异地就医备案去哪里办") == {"place"}
    assert asked_kinds("个人账户能不能给家里人用") == {"permission"}
    assert asked_kinds("长期护理保险是什么") == frozenset()
    assert asked_kinds("医保中心投诉电话是多少") == {"number", "phone"}
    assert asked_kinds("回访电话是哪个号码打来的") == {"phone"}
    assert asked_kinds("南昌举报可以打电话吗") == frozenset()  # whether one can phone, not the number


def test_passages_are_read_for_figures_time_limits_and_places() -> None:
    assert states_kind("支付比例从50%起步", "number")
    assert states_kind("应在10个工作日向评价人反馈", "duration")
    assert states_kind("可在医保经办窗口或网上办理", "place")
    assert not states_kind("逐步提高待遇保障水平", "number")
    assert states_kind("开通12393医保服务热线", "phone")
    assert states_kind("咨询电话0797-3328888", "phone")
    assert not states_kind("全年支出18845万元，2025年达到95%", "phone")  # amounts and years are no numbers to call


def test_rare_words_weigh_more_than_common_ones() -> None:
    terms = WeightedTerms(groups=(("普通门诊",), ("报销", "支付")), weights=(0.9, 0.1))
    assert coverage(terms, "普通门诊统筹") == 0.9
    assert coverage(terms, "支付比例") == 0.1  # found through its official synonym
    assert rarest_missing(terms, "支付比例") == 0.9
    assert rarest_missing(terms, "普通门诊支付") == 0.0


def test_the_sentence_with_the_asked_for_figure_leads() -> None:
    sentences = split_sentences(PASSAGE)
    terms = WeightedTerms(groups=(("普通门诊",), ("报销", "支付")), weights=(0.8, 0.2))
    start, end = answering_span(terms, asked_kinds("普通门诊能报销多少"), sentences)
    assert "".join(sentences[start:end]).startswith("支付比例从50%起步")

    terms = WeightedTerms(groups=(("差评",), ("回访",)), weights=(0.6, 0.4))
    start, end = answering_span(terms, asked_kinds("给了差评多久有人回访"), sentences)
    assert "10个工作日" in "".join(sentences[start:end])


def test_no_sentences_give_an_empty_span() -> None:
    assert answering_span(WeightedTerms((), ()), frozenset(), []) == (0, 0)
