"""Retrieval metrics on hand-made rankings: no model, no index."""

from __future__ import annotations

import pytest

from eval.metrics import (
    QuestionOutcome,
    first_relevant_rank,
    hit_at,
    mean_reciprocal_rank,
    parity,
    percentile,
    share,
    summarise,
)


def outcome(rank: int | None, *, answerable: bool = True, abstained: bool = False, latency: float = 10.0) -> QuestionOutcome:
    return QuestionOutcome(id="q", question="问", answerable=answerable, rank=rank, abstained=abstained, latency_ms=latency)


def test_rank_is_the_first_relevant_passage_within_depth() -> None:
    passages = ["无关", "也无关", "异地就医\n直接结算", "异地就医直接结算更早？不，更晚"]
    assert first_relevant_rank(passages, ["异地就医直接结算"]) == 3
    assert first_relevant_rank(passages, ["不存在"]) is None
    assert first_relevant_rank(["a", "b", "c", "d", "e", "命中"], ["命中"]) is None  # sixth is beyond the top 5
    assert first_relevant_rank(["a", "命中"], ["命中"], depth=1) is None


def test_any_evidence_string_makes_a_passage_relevant() -> None:
    assert first_relevant_rank(["缓缴期间免收滞纳金"], ["不在这里", "免收滞纳金"]) == 1


def test_hit_at_k_counts_ranks_within_k() -> None:
    ranks = [1, 2, 3, None, 5]
    assert hit_at(ranks, 1) == pytest.approx(0.2)
    assert hit_at(ranks, 3) == pytest.approx(0.6)
    assert hit_at(ranks, 5) == pytest.approx(0.8)
    assert hit_at([], 5) == 0.0


def test_mrr_counts_a_miss_as_zero() -> None:
    assert mean_reciprocal_rank([1, 2, None, 4]) == pytest.approx((1 + 0.5 + 0 + 0.25) / 4)
    assert mean_reciprocal_rank([None, None]) == 0.0
    assert mean_reciprocal_rank([]) == 0.0


def test_share_of_flags() -> None:
    assert share([True, False, True, True]) == pytest.approx(0.75)
    assert share([]) == 0.0


def test_nearest_rank_percentile_is_a_measured_value() -> None:
    values = [float(v) for v in range(100, 0, -1)]  # unsorted on purpose
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([7.0], 95) == 7.0
    assert percentile([1.0, 2.0], 100) == 2.0


def test_percentile_rejects_nothing_and_out_of_range() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match="0..100"):
        percentile([1.0], 120)


def test_summary_scores_answerable_and_unanswerable_separately() -> None:
    rows = [
        outcome(1, latency=10),
        outcome(3, latency=20),
        outcome(None, abstained=True, latency=30),
        outcome(2, latency=40),
        outcome(None, answerable=False, abstained=True, latency=50),
        outcome(None, answerable=False, abstained=False, latency=60),
    ]
    metrics = summarise("hybrid", rows)
    assert (metrics.n_answerable, metrics.n_unanswerable) == (4, 2)
    assert metrics.hit_at_1 == 0.25
    assert metrics.hit_at_3 == 0.75
    assert metrics.hit_at_5 == 0.75
    assert metrics.mrr == pytest.approx(round((1 + 1 / 3 + 0 + 0.5) / 4, 4))
    assert metrics.answer_rate_answerable == 0.75  # one answerable question was refused
    assert metrics.abstain_rate_unanswerable == 0.5
    assert metrics.latency_ms_p50 == 30.0  # latency covers every search, answerable or not
    assert metrics.latency_ms_p95 == 60.0
    assert metrics.rows == rows


def test_summary_of_only_unanswerable_questions_has_zero_hits() -> None:
    metrics = summarise("bm25", [outcome(None, answerable=False, abstained=True)])
    assert (metrics.n_answerable, metrics.hit_at_5, metrics.mrr, metrics.abstain_rate_unanswerable) == (0, 0.0, 0.0, 1.0)


def test_cited_hits_count_only_answers_that_were_given() -> None:
    # An abstention cites nothing, whatever rank the search gave the relevant passage.
    metrics = summarise("hybrid", [outcome(1), outcome(1, abstained=True), outcome(3), outcome(None)])
    assert (metrics.hit_at_1, metrics.cited_hit_at_1) == (0.5, 0.25)
    assert (metrics.hit_at_3, metrics.cited_hit_at_3) == (0.75, 0.5)


def _row(id_: str, *, top: str = "周口规划", abstained: bool = False, routed: bool = True,
         answerable: bool = True) -> QuestionOutcome:
    return QuestionOutcome(id=id_, question=id_, answerable=answerable, rank=None if abstained else 1,
                           abstained=abstained, latency_ms=1.0, top_title=top, routed=routed)


def test_parity_separates_misrouted_questions_from_differing_answers() -> None:
    direct = [_row("q1"), _row("q2", abstained=True), _row("q3"), _row("q4"), _row("u1", answerable=False)]
    bot = [
        _row("q1"),                                    # same passage first
        _row("q2", abstained=True, top=""),            # both refuse
        _row("q3", abstained=True, top="", routed=False),  # taken for a lookup: no policy answer at all
        _row("q4", top="南昌规划"),                     # answered, from another passage
        _row("u1", answerable=False, routed=False),    # unanswerable questions are not counted
    ]
    result = parity(direct, bot)
    assert (result.n_answerable, result.routed, result.same) == (4, 3, 2)
    assert [row.id for row in result.misrouted] == ["q3"]
    assert [(d.top_title, b.top_title) for d, b in result.differing] == [("周口规划", "南昌规划")]


def banded(band: str, rank: int | None, *, answerable: bool = True, tags: tuple[str, ...] = ()) -> QuestionOutcome:
    shown = rank if rank is not None and band != "refused" and rank <= 3 else None
    return QuestionOutcome(id="q", question="问", answerable=answerable, rank=rank, abstained=band != "confident",
                           latency_ms=1.0, band=band, shown_rank=shown, tags=tags)


def test_bands_are_counted_separately_for_answerable_and_unanswerable_questions() -> None:
    rows = [
        banded("confident", 1), banded("confident", 2), banded("related", 1), banded("refused", None),
        banded("confident", None, answerable=False), banded("related", None, answerable=False),
        banded("refused", None, answerable=False), banded("refused", None, answerable=False),
    ]
    metrics = summarise("bot", rows)
    assert (metrics.confident_rate_answerable, metrics.related_rate_answerable, metrics.refusal_rate_answerable) == (
        0.5, 0.25, 0.25)
    assert (metrics.confident_rate_unanswerable, metrics.related_rate_unanswerable,
            metrics.refusal_rate_unanswerable) == (0.25, 0.25, 0.5)
    # the keys the issue keeps: confident answers among answerable, not-confidently-answered among unanswerable
    assert (metrics.answer_rate_answerable, metrics.abstain_rate_unanswerable) == (0.5, 0.75)
    # a confident answer whose first citation is not the relevant passage is a wrong answer
    assert metrics.confident_wrong_rate_answerable == 0.25
    # what replies show: the related reply's first passage counts, the confident answer's third one does too
    assert (metrics.cited_hit_at_1, metrics.shown_hit_at_1, metrics.shown_hit_at_3) == (0.25, 0.5, 0.75)


def test_figures_are_given_per_tag() -> None:
    rows = [banded("confident", 1, tags=("dialect",)), banded("related", 2, tags=("dialect", "typo")),
            banded("refused", None, answerable=False, tags=("other_region",))]
    per_tag = summarise("bot", rows).per_tag
    assert set(per_tag) == {"dialect", "typo", "other_region"}
    assert (per_tag["dialect"]["n_answerable"], per_tag["dialect"]["confident_rate_answerable"]) == (2, 0.5)
    assert per_tag["other_region"]["confident_rate_unanswerable"] == 0.0


def test_parity_compares_bands_too() -> None:
    direct = [banded("confident", 1)]
    bot = [banded("related", 1)]
    assert parity(direct, bot).same == 0
