"""The query side of the embedding model in ONNX Runtime, optionally with int8 weights: `EMBEDDING_QUERY_BACKEND`.

A policy turn's retrieval time is mostly the query encoder. `export_query_model(settings)` — run offline by
`hotline model export-onnx` (`make model`), never at run time — exports whatever model `EMBEDDING_MODEL` names
(transformer only; pooling and normalisation are done here, as the model's own modules do: mean over the attention
mask, then L2) to `<model>/onnx/query.onnx`, and with `--int8` also `query-int8.onnx` (weights dynamically quantized
to int8). Each file records a fingerprint of the model's weights, so a rebuilt model is exported again.

`OnnxQueryEncoder` encodes questions with that file (the tokenizer is the model's own `tokenizer.json`); passages
stay with the torch model the index was built with, which the tests and `hotline model check-onnx` compare it to.
Backends: "torch" (default), "onnx" (float32 in ONNX Runtime), "onnx-int8".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hotline.settings import Settings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

BACKEND_FILES = {"onnx": "query.onnx", "onnx-int8": "query-int8.onnx"}
MANIFEST = "export.json"
OPSET = 17


class OnnxModelMissingError(RuntimeError):
    """EMBEDDING_QUERY_BACKEND asks for an export that is not there or was made from other weights."""


def onnx_dir(model_dir: Path) -> Path:
    return model_dir / "onnx"


def weights_fingerprint(model_dir: Path) -> str:
    """What the export was made from: name, size and a hash of the start of each weights file (fast, and any
    rebuild of the model changes it)."""
    digest = hashlib.sha256()
    for path in sorted(model_dir.glob("*.safetensors")) + sorted(model_dir.glob("*.bin")):
        digest.update(f"{path.name}:{path.stat().st_size}:".encode())
        with path.open("rb") as handle:
            digest.update(handle.read(1 << 20))
    return digest.hexdigest()


def export_is_current(model_dir: Path, backend: str = "onnx") -> bool:
    manifest = onnx_dir(model_dir) / MANIFEST
    try:
        recorded = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    name = BACKEND_FILES[backend]
    return recorded.get("files", {}).get(name) == weights_fingerprint(model_dir) and (
        onnx_dir(model_dir) / name).exists()


def export_query_model(settings: Settings, *, int8: bool = False, force: bool = False) -> Path:
    """Export the query encoder of the configured model (and with `int8` its quantized copy); nothing to do for
    what is already current."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from sentence_transformers import SentenceTransformer

    from knowledge_base.embedding.model_dir import ensure_model

    model_dir = ensure_model(settings)
    target = onnx_dir(model_dir)
    wanted = ["onnx", "onnx-int8"] if int8 else ["onnx"]
    if not force and all(export_is_current(model_dir, backend) for backend in wanted):
        return target
    target.mkdir(parents=True, exist_ok=True)
    fingerprint = weights_fingerprint(model_dir)
    model: SentenceTransformer = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    model.eval()
    transformer = model[0].auto_model

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.transformer(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    example = model.tokenizer(["query: 异地就医怎么备案"], return_tensors="pt")
    float32 = target / BACKEND_FILES["onnx"]
    axes = {0: "batch", 1: "tokens"}
    with torch.no_grad():
        torch.onnx.export(
            LastHiddenState(), (example["input_ids"], example["attention_mask"]), str(float32),
            input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "last_hidden_state": axes},
            opset_version=OPSET, dynamo=False,  # the TorchScript exporter: no onnxscript needed
        )
    files = {BACKEND_FILES["onnx"]: fingerprint}
    if int8:
        quantize_dynamic(str(float32), str(target / BACKEND_FILES["onnx-int8"]), weight_type=QuantType.QInt8)
        files[BACKEND_FILES["onnx-int8"]] = fingerprint
    (target / MANIFEST).write_text(json.dumps({"opset": OPSET, "files": files}, indent=2), encoding="utf-8")
    return target


class OnnxQueryEncoder:
    """Questions → float32, L2-normalised rows, like `Encoder.encode_queries` with the torch model."""

    def __init__(self, model_dir: Path, backend: str, prompt: str, max_tokens: int, threads: int) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        if backend not in BACKEND_FILES:
            raise ValueError(f"EMBEDDING_QUERY_BACKEND 只能是 torch、{'、'.join(BACKEND_FILES)}，而不是 {backend!r}")
        path = onnx_dir(model_dir) / BACKEND_FILES[backend]
        if not export_is_current(model_dir, backend):
            flag = " --int8" if backend == "onnx-int8" else ""
            raise OnnxModelMissingError(
                f"EMBEDDING_QUERY_BACKEND={backend}，但 {path} 不存在或不是由当前模型导出的：请运行 "
                f"`hotline model export-onnx{flag}`（`make model` 会导出 float32 版本）"
            )
        options = onnxruntime.SessionOptions()
        # One process's share of the cores, as with torch.set_num_threads (settings.torch_threads).
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_tokens)
        self.pad_id = self.tokenizer.token_to_id("<pad>") or 0
        self.prompt = prompt
        self.backend = backend

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch([self.prompt + text for text in texts])
        width = max(len(e.ids) for e in encodings)
        ids = np.full((len(encodings), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        summed = (hidden * mask[..., None]).sum(axis=1)
        vectors = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return np.ascontiguousarray(vectors, dtype=np.float32)
