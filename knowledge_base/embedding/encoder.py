"""The loaded embedding model: `load_encoder(settings) -> Encoder`.

In: settings (model, prompts, max tokens, batch size, torch threads). Out: an `Encoder` whose
`encode_queries` / `encode_passages` return float32, L2-normalised rows, one per text. Texts longer than
the model's token limit are truncated, never rejected. Loading is offline: the model directory comes from
`ensure_model`, and the Hugging Face libraries are told not to reach the network.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hotline.settings import Settings
from knowledge_base.embedding.model_dir import ensure_model
from knowledge_base.embedding.onnx_query import OnnxQueryEncoder

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

# Read once when torch / huggingface_hub are first imported, so they are set as early as this package is.
# Offline: the model directory is always local and nothing may be fetched at run time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# On 2 cores shared with Rasa and the gateway, spinning OpenMP workers starve each other: a 2-thread
# matmul measured 20× slower than 1 thread under load, and on par with it once waiting threads sleep.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


@dataclass
class Encoder:
    model: SentenceTransformer
    name: str
    query_prompt: str
    passage_prompt: str
    batch_size: int
    # Linear weights are stored in bf16 and products run under autocast; LayerNorm and pooling stay fp32.
    bfloat16: bool = False
    # Questions through ONNX Runtime instead (EMBEDDING_QUERY_BACKEND, knowledge_base/embedding/onnx_query.py).
    onnx_queries: OnnxQueryEncoder | None = None

    @property
    def dimension(self) -> int:
        # renamed in sentence-transformers 6; the old name still serves 5.x
        dimension = (
            getattr(self.model, "get_embedding_dimension", None)
            or self.model.get_sentence_embedding_dimension
        )
        return int(dimension())

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        if self.onnx_queries is not None and texts and not isinstance(texts, str) and all(
                isinstance(t, str) for t in texts):
            return self.onnx_queries.encode(list(texts))
        return self._encode(texts, self.query_prompt)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.passage_prompt)

    def _encode(self, texts: Sequence[str], prompt: str) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError(
                "encode_queries / encode_passages 需要文本列表，例如 [question]，而不是单个字符串"
            )
        texts = list(texts)
        if not all(isinstance(t, str) for t in texts):
            raise TypeError("待编码的每一项都必须是字符串")
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        import torch

        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bfloat16):
            vectors = self.model.encode(
                texts,
                prompt=prompt,
                batch_size=self.batch_size,
                convert_to_tensor=True,
                normalize_embeddings=True,  # idempotent for e5 (Normalize module); needed for models without one
                show_progress_bar=False,
            )
        vectors = torch.nn.functional.normalize(vectors.float(), dim=-1)  # exact unit length after bf16
        return np.ascontiguousarray(vectors.numpy(), dtype=np.float32)


def load_encoder(settings: Settings) -> Encoder:
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(max(1, settings.torch_threads))
    directory = ensure_model(settings)
    model = _load_quietly(SentenceTransformer, directory)
    model.eval()
    bfloat16 = _use_bfloat16(settings.embedding_precision)
    if bfloat16:
        for module in model.modules():
            if isinstance(module, torch.nn.Linear):
                module.to(torch.bfloat16)
    model.max_seq_length = min(
        int(model.max_seq_length or settings.embedding_max_tokens), settings.embedding_max_tokens
    )
    query_prompt = _model_prompt(model, ("query",)) or settings.embedding_query_prompt
    return Encoder(
        model=model,
        name=model_display_name(settings.embedding_model),
        query_prompt=query_prompt,
        passage_prompt=_model_prompt(model, ("passage", "document")) or settings.embedding_passage_prompt,
        batch_size=settings.embedding_batch_size,
        bfloat16=bfloat16,
        onnx_queries=None if settings.embedding_query_backend == "torch" else OnnxQueryEncoder(
            directory, settings.embedding_query_backend, query_prompt, model.max_seq_length, settings.torch_threads),
    )


def _use_bfloat16(precision: str) -> bool:
    """bf16 pays off only with native instructions; emulated bf16 is slower than float32."""
    import torch

    match precision.strip().lower():
        case "float32" | "fp32":
            return False
        case "bfloat16" | "bf16":
            return True
        case "auto":
            return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    raise ValueError(f"EMBEDDING_PRECISION 只能是 auto、float32 或 bfloat16，而不是 {precision!r}")


def _load_quietly(loader: type[SentenceTransformer], directory: Path) -> SentenceTransformer:
    """A per-tensor "Loading weights" bar is noise in server logs and the CLI; restore the setting afterwards."""
    from transformers.utils import logging as transformers_logging

    was_enabled = transformers_logging.is_progress_bar_enabled()
    transformers_logging.disable_progress_bar()
    try:
        return loader(str(directory), device="cpu", local_files_only=True)
    finally:
        if was_enabled:
            transformers_logging.enable_progress_bar()


def model_display_name(configured: str) -> str:
    """A hub name stays as is; a directory is named by its last component (stable when the repo moves)."""
    path = Path(configured)
    return path.name if path.is_absolute() or path.exists() else configured


def _model_prompt(model: SentenceTransformer, names: tuple[str, ...]) -> str:
    """The model's own prompt under one of `names`; empty ones do not count (recent sentence-transformers
    fills in "" defaults for models that declare none)."""
    prompts = getattr(model, "prompts", None) or {}
    return next((prompts[n] for n in names if prompts.get(n)), "")
