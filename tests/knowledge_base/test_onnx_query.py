"""The query encoder in ONNX Runtime encodes questions as the torch model does, and refuses an export that is missing
or was made from other weights (`make model` exports the float32 file; `hotline model export-onnx`)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hotline.settings import get_settings
from knowledge_base.embedding import Encoder, load_encoder
from knowledge_base.embedding.onnx_query import (
    MANIFEST,
    OnnxModelMissingError,
    OnnxQueryEncoder,
    export_is_current,
    onnx_dir,
)

QUESTIONS = ["异地就医备案需要什么材料？", "俺娘在乡下住院了，新农合能报多少", "職工醫保個人賬戶能給家人用嗎", "DRG是什么意思", "你好"]


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    """One load: the encoder keeps its torch model (passages), so the torch query path is there to compare."""
    return load_encoder(get_settings().model_copy(update={"embedding_query_backend": "onnx"}))


def test_onnx_questions_match_the_torch_model(encoder: Encoder) -> None:
    assert encoder.onnx_queries is not None
    expected = encoder._encode(QUESTIONS, encoder.query_prompt)  # the torch model's own query encoding
    got = encoder.encode_queries(QUESTIONS)
    assert got.shape == expected.shape and got.dtype == np.float32
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    cosines = (got * expected).sum(axis=1)
    assert cosines.min() > 0.999, cosines
    # One question at a time (as a search asks) gives the same vector as in a padded batch.
    assert np.allclose(encoder.encode_queries([QUESTIONS[1]])[0], got[1], atol=1e-4)


def test_empty_and_bad_input_are_handled_as_by_the_torch_path(encoder: Encoder) -> None:
    assert encoder.encode_queries([]).shape == (0, encoder.dimension)
    with pytest.raises(TypeError):
        encoder.encode_queries("一个字符串")
    with pytest.raises(TypeError):
        encoder.encode_queries(["问题", 3])  # type: ignore[list-item]


def test_a_missing_or_stale_export_is_refused_with_the_command_to_run(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.safetensors").write_bytes(b"weights v1")
    with pytest.raises(OnnxModelMissingError, match="export-onnx"):
        OnnxQueryEncoder(model, "onnx", "query: ", 512, 1)
    onnx_dir(model).mkdir()
    (onnx_dir(model) / "query.onnx").write_bytes(b"exported from other weights")
    (onnx_dir(model) / MANIFEST).write_text(json.dumps({"files": {"query.onnx": "another fingerprint"}}))
    assert not export_is_current(model)
    with pytest.raises(OnnxModelMissingError, match="export-onnx"):
        OnnxQueryEncoder(model, "onnx", "query: ", 512, 1)
    with pytest.raises(ValueError, match="EMBEDDING_QUERY_BACKEND"):
        OnnxQueryEncoder(model, "tensorrt", "query: ", 512, 1)
