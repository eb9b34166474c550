"""Errors the knowledge base raises on purpose, each saying what is wrong and what to do."""

from __future__ import annotations

from pathlib import Path


class EmptyQuestionError(ValueError):
    """The question is empty or only whitespace."""

    def __init__(self) -> None:
        super().__init__("问题不能为空，请输入您想咨询的医保政策问题。")


class UnknownSearchMethodError(ValueError):
    def __init__(self, method: str) -> None:
        super().__init__(f"未知的检索方式 {method!r}：请使用 hybrid、fused、bm25 或 dense。")


class DocumentLoadError(Exception):
    """One corpus file cannot be read or holds no text; the other files are still indexed."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path.name}: {reason}")
        self.path = path
        self.reason = reason


class IndexUnavailableError(RuntimeError):
    """The index is missing or stale and cannot be (re)built; the message says why."""
