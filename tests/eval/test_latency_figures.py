"""The latency benchmark's arithmetic (the HTTP path itself is exercised by the end-to-end tests)."""

import pytest

from eval.latency import summarise


def test_summary_reports_throughput_over_wall_time() -> None:
    figures = summarise("turn", [100.0, 200.0, 300.0, 400.0], wall_s=2.0, concurrency=2, errors=1)
    assert (figures.p50_ms, figures.p95_ms, figures.max_ms) == (200.0, 400.0, 400.0)
    assert figures.per_second == pytest.approx(2.0)
    assert figures.errors == 1
