"""Retrieval question sets: ``load_questions(path) -> list[Question]`` and the relevance rule they define.

A question set is YAML (see ``eval/questions/README.md``)::

    questions:
      - id: q001
        question: 在外地住院能直接结算吗
        evidence: ["异地就医直接结算"]
        answerable: true          # optional, default true

A passage is relevant to a question when its text, with all whitespace removed, contains any of the question's
evidence strings (``is_relevant``). Every problem in the file is reported as a ``QuestionSetError`` naming the
file and the entry, so a typo in a hand-written set fails loudly instead of silently scoring zero.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

_WHITESPACE = re.compile(r"\s+")
_KNOWN_KEYS = {"id", "question", "evidence", "answerable"}


class QuestionSetError(ValueError):
    """The question file is missing, not YAML, or one of its entries is malformed."""


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    evidence: tuple[str, ...] = ()
    answerable: bool = True


def without_whitespace(text: str) -> str:
    """Passages keep the line breaks of their source; evidence is matched with every whitespace removed."""
    return _WHITESPACE.sub("", text)


def is_relevant(passage_text: str, evidence: Iterable[str]) -> bool:
    compact = without_whitespace(passage_text)
    return any(without_whitespace(item) in compact for item in evidence)


def load_questions(path: Path | str) -> list[Question]:
    """A question-set YAML file in, its questions (in file order) out; ``QuestionSetError`` says what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise QuestionSetError(f"找不到问题集文件 {path}（question file not found）")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise QuestionSetError(f"{path} 不是有效的 YAML（malformed YAML）：{error}") from error
    except UnicodeDecodeError as error:
        raise QuestionSetError(f"{path} 不是 UTF-8 文本：{error}") from error
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
        raise QuestionSetError(f"{path}：顶层应为 `questions:` 列表（top level must be a mapping with a `questions` list）")
    if not data["questions"]:
        raise QuestionSetError(f"{path}：`questions` 列表为空")
    questions = [_parse_entry(entry, position, path) for position, entry in enumerate(data["questions"], start=1)]
    seen: set[str] = set()
    for question in questions:
        if question.id in seen:
            raise QuestionSetError(f"{path}：问题编号 {question.id!r} 重复（duplicate id）")
        seen.add(question.id)
    return questions


def _parse_entry(entry: object, position: int, path: Path) -> Question:
    where = f"{path} 第 {position} 个问题"
    if not isinstance(entry, dict):
        raise QuestionSetError(f"{where}：应为包含 id/question 的映射，收到 {type(entry).__name__}")
    unknown = set(entry) - _KNOWN_KEYS
    if unknown:
        # A misspelt key ("evidance") would otherwise leave a question silently without evidence.
        raise QuestionSetError(f"{where}：未知字段 {sorted(unknown)}（允许：{sorted(_KNOWN_KEYS)}）")
    question_id = entry.get("id")
    if not isinstance(question_id, str) or not question_id.strip():
        raise QuestionSetError(f"{where}：缺少 id（missing id）")
    where = f"{path} 问题 {question_id}"
    text = entry.get("question")
    if not isinstance(text, str) or not text.strip():
        raise QuestionSetError(f"{where}：缺少问题文本 question（question without text）")
    answerable = entry.get("answerable", True)
    if not isinstance(answerable, bool):
        raise QuestionSetError(f"{where}：answerable 应为 true 或 false，收到 {answerable!r}")
    evidence = entry.get("evidence") or []
    if isinstance(evidence, str):
        evidence = [evidence]
    if not isinstance(evidence, list) or not all(isinstance(item, str) and item.strip() for item in evidence):
        raise QuestionSetError(f"{where}：evidence 应为非空字符串列表")
    if answerable and not evidence:
        raise QuestionSetError(f"{where}：可回答的问题需要至少一条 evidence（answerable question without evidence）")
    if not answerable and evidence:
        raise QuestionSetError(f"{where}：不可回答的问题不应有 evidence（unanswerable question with evidence）")
    return Question(id=question_id.strip(), question=text.strip(), evidence=tuple(evidence), answerable=answerable)
