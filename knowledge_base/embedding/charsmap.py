"""Compile a character normalisation map into SentencePiece's `precompiled_charsmap` blob.

In: {source text: replacement text}. Out: the bytes the `tokenizers` `Precompiled` normaliser reads:
a little-endian u32 trie size, a Darts-clone double-array trie over the UTF-8 keys whose leaves hold
offsets into the replacement blob, then the NUL-separated replacements.
This is how the original XLM-R tokenizer ships its normaliser, so the converted `tokenizer.json` has the
same shape as Hugging Face's own and normalises in one pass instead of thousands of `Replace` steps.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

_MAX_OFFSET = 1 << 21  # offsets above this need the shifted encoding; a map this size never does
_IS_LEAF = 1 << 31
_HAS_LEAF = 1 << 8


@dataclass
class _Node:
    children: dict[int, _Node] = field(default_factory=dict)
    value: int | None = None  # offset of the replacement when a key ends here


def compile_charsmap(mapping: dict[str, str]) -> bytes:
    if not mapping:
        raise ValueError("normalisation map is empty")
    replacements, offsets = _replacement_blob(mapping)
    root = _Node()
    for key in mapping:
        if not key:
            raise ValueError("normalisation keys must be non-empty")
        node = root
        for byte in key.encode("utf-8"):
            node = node.children.setdefault(byte, _Node())
        node.value = offsets[mapping[key]]
    units = _DoubleArray().build(root)
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + replacements


def _replacement_blob(mapping: dict[str, str]) -> tuple[bytes, dict[str, int]]:
    blob, offsets = bytearray(), {}
    for replacement in sorted(set(mapping.values())):
        offsets[replacement] = len(blob)
        blob += replacement.encode("utf-8") + b"\0"
    return bytes(blob), offsets


class _DoubleArray:
    """Each node sits at a position p with unit = offset<<10 | has_leaf<<8 | label, where
    base = p ^ offset; the child for byte c lives at base ^ c and the leaf value at base itself.
    Bases are unique so that a lookup can never land on another node's child with the same label."""

    def __init__(self) -> None:
        self.units: list[int] = [0]
        self.used = bytearray(b"\1")  # position 0 is the root
        self.used_bases: set[int] = set()
        self.search_from = 1

    def build(self, root: _Node) -> list[int]:
        queue: list[tuple[_Node, int, int]] = [(root, 0, 0)]  # node, position, label
        while queue:
            node, position, label = queue.pop()
            labels = sorted(node.children)
            base = self._find_base(labels, node.value is not None)
            offset = position ^ base
            if offset >= _MAX_OFFSET:
                raise ValueError("normalisation map too large for the double array")
            self.units[position] = (offset << 10) | label | (_HAS_LEAF if node.value is not None else 0)
            if node.value is not None:
                self.units[base] = _IS_LEAF | node.value
            for byte in labels:
                queue.append((node.children[byte], base ^ byte, byte))
        return self.units

    def _find_base(self, labels: list[int], has_leaf: bool) -> int:
        slots = ([0] if has_leaf else []) + labels
        first = slots[0]
        candidate = self.search_from
        while True:
            base = candidate ^ first
            if base not in self.used_bases and all(not self._is_used(base ^ s) for s in slots):
                break
            candidate += 1
        self.used_bases.add(base)
        for s in slots:
            self._mark(base ^ s)
        while self._is_used(self.search_from):
            self.search_from += 1
        return base

    def _is_used(self, position: int) -> bool:
        return position < len(self.used) and bool(self.used[position])

    def _mark(self, position: int) -> None:
        if position >= len(self.used):
            grow = position + 1 - len(self.used)
            self.used.extend(b"\0" * grow)
            self.units.extend([0] * grow)
        self.used[position] = 1
