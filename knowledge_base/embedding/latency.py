"""Warm single-question encode latency: `measure_query_latency(encoder, questions) -> LatencyReport`.

One question per call, as the action server encodes them; the first calls warm up and are not counted.
Wall time is what a resident waits; CPU time shows the cost when the 2 cores are shared with other work.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from knowledge_base.embedding.encoder import Encoder

WARMUP_CALLS = 5


@dataclass(frozen=True)
class LatencyReport:
    count: int
    wall_p50_ms: float
    wall_p95_ms: float
    cpu_p50_ms: float
    cpu_p95_ms: float

    def summary(self) -> str:
        return (
            f"单条问题编码（预热后 {self.count} 次）：墙钟 p50 {self.wall_p50_ms:.1f} ms / p95 "
            f"{self.wall_p95_ms:.1f} ms；CPU p50 {self.cpu_p50_ms:.1f} ms / p95 {self.cpu_p95_ms:.1f} ms"
        )


def measure_query_latency(encoder: Encoder, questions: Sequence[str], calls: int = 100) -> LatencyReport:
    if not questions:
        raise ValueError("没有用于测量的问题")
    for question in list(questions)[:WARMUP_CALLS]:
        encoder.encode_queries([question])
    wall, cpu = [], []
    for i in range(calls):
        question = questions[i % len(questions)]
        started_wall, started_cpu = time.perf_counter(), time.process_time()
        encoder.encode_queries([question])
        wall.append((time.perf_counter() - started_wall) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return LatencyReport(
        calls, *np.percentile(wall, [50, 95]).tolist(), *np.percentile(cpu, [50, 95]).tolist()
    )
