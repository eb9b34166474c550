"""The scale benchmark's parts that need no model: synthetic text, vectors, sizes, memory, growth summary."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
import typer

from eval.bench import (
    BenchRow,
    BigramTextGenerator,
    PeakMemory,
    ReplayingEncoder,
    growth_lines,
    parse_sizes,
    random_unit_vectors,
    synthetic_chunks,
)


def cut(text: str) -> list[str]:
    """One word per character: every bigram the walk may take is easy to list."""
    return list(text)


SOURCE = ["异地就医直接结算。医保电子凭证激活。", "门诊慢特病认定；长期护理保险试点。"]


def test_synthetic_text_only_takes_steps_seen_in_the_corpus() -> None:
    generator = BigramTextGenerator(SOURCE, cut, seed=1)
    seen_pairs = {(a, b) for text in SOURCE for a, b in pairwise(text)}
    for _ in range(20):
        passage = generator.passage()
        assert passage[-1] in "。；！？"
        assert len(passage) >= min(len(text) for text in SOURCE)  # lengths are drawn from the real passages
        assert set(passage) <= set("".join(SOURCE))
        steps = {(a, b) for a, b in pairwise(passage) if a not in "。；"}
        assert steps <= seen_pairs


def test_synthetic_chunks_spread_over_regions_and_documents() -> None:
    chunks = synthetic_chunks(BigramTextGenerator(SOURCE, cut, seed=2), 400)
    assert len(chunks) == len({c.chunk_id for c in chunks}) == 400
    assert {c.region for c in chunks} == {"江西省南昌市", "广东省阳江市", "云南省", "江苏省", "河南省周口市", ""}
    assert len({c.doc_id for c in chunks}) == 10


def test_generator_needs_text() -> None:
    with pytest.raises(ValueError):
        BigramTextGenerator([""], cut)


def test_random_vectors_are_unit_length_and_reproducible() -> None:
    vectors = random_unit_vectors(100, 384, seed=3)
    assert vectors.shape == (100, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(vectors, random_unit_vectors(100, 384, seed=3))


def test_sizes_are_parsed_sorted_and_validated() -> None:
    assert parse_sizes("100000, 1k,10_000") == [1000, 10000, 100000]
    for bad in ("", "abc", "0", "10,-5"):
        with pytest.raises(typer.BadParameter):
            parse_sizes(bad)


def test_peak_memory_sees_an_allocation_that_is_freed_again() -> None:
    with PeakMemory() as memory:
        block = np.ones(64 * 1024 * 1024 // 8)  # 64 MB, touched
        del block
    assert memory.peak_mb >= 50
    assert memory.retained_mb < memory.peak_mb


def test_replaying_encoder_calls_the_model_once_per_question() -> None:
    class CountingEncoder:
        dimension = 2
        calls = 0

        def encode_queries(self, texts: list[str]) -> np.ndarray:
            self.calls += 1
            return np.ones((len(texts), 2), dtype=np.float32)

    inner = CountingEncoder()
    replaying = ReplayingEncoder(inner)
    replaying.encode_queries(["甲"])
    replaying.replay = True
    assert replaying.encode_queries(["甲"]).shape == (1, 2)
    replaying.encode_queries(["乙"])  # unseen: still encoded
    assert inner.calls == 2


def test_growth_is_reported_from_smallest_to_largest() -> None:
    def row(n: int, build: float, p95: float) -> BenchRow:
        return BenchRow(
            chunks=n, index_type="flat", build_s=build, build_peak_rss_mb=10.0 * n / 1000, retained_rss_mb=5.0,
            query_p50_ms=p95 / 2, query_p95_ms=p95, queries=20, encode_p50_ms=3.0, search_p50_ms=1.0,
            search_p95_ms=2.0 * n / 1000,
        )

    [line] = growth_lines([row(100_000, 100.0, 80.0), row(1_000, 1.0, 40.0)])
    assert "1,000 → 100,000 chunks (×100)" in line
    assert "build 1.0s → 100.0s (×100.0)" in line
    assert "query p95 40.0 → 80.0 ms (×2.0)" in line
    assert "search-only p95 2.0 → 200.0 ms (×100.0)" in line
