"""Retrieval question sets: ``load_questions(path) -> list[Question]`` and the relevance rule they define.

A question set is YAML (see ``eval/questions/README.md``)::

    questions:
      - id: q001
        question: 在外地住院能直接结算吗
        evidence: ["异地就医直接结算"]
        answerable: true          # optional, default true
        context: ["前一轮问题"]    # optional: earlier turns of the same conversation, sent first
        tags: [colloquial]        # optional, from ``TAGS``
        source: doc-id:chunk-id   # optional: the passage (or theme) the question was written from

A passage is relevant to a question when its text, with all whitespace removed, contains any of the question's
evidence strings (``is_relevant``). Every problem in the file is reported as a ``QuestionSetError`` naming the
file and the entry, so a typo in a hand-written set fails loudly instead of silently scoring zero.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

_WHITESPACE = re.compile(r"\s+")
_KNOWN_KEYS = {"id", "question", "evidence", "answerable", "context", "tags", "source"}

# The closed vocabulary of question tags: a typo in a tag would silently drop a question from a per-tag figure.
TAGS: dict[str, str] = {
    "colloquial": "spoken, casual wording (啥, 咋, 不, 没, 能不能 …)",
    "dialect": "regional words and old names (俺, 几多, 咋个整, 伐, 喺, 新农合, 合疗, 医保本 …)",
    "elderly": "long, indirect, about a family member",
    "typo": "typos and homophones (凭正, 被案, 报消 …)",
    "traditional": "traditional characters (異地就醫 …)",
    "english_mix": "English words mixed in (DRG, ICU, app, OK …)",
    "follow_up": "only makes sense after the turns in `context`",
    "about_rating": "a policy question about ratings, 差评, 回访 or complaints, not a rating",
    "account_rule": "the rules of the personal account (个人账户), asked generally",
    "other_region": "a place that has no document",
    "absent_detail": "a detail the plans do not state (amount, material list, address, phone, deadline, procedure)",
    "absent_term": "a term or item that appears nowhere in the corpus",
}

# The resident question set's split files (eval/questions/README.md): tune on the first two, report the third.
SPLIT_FILES: dict[str, str] = {"train": "train.yaml", "validation": "validation.yaml", "holdout": "holdout.yaml"}
SPLIT_SHARES: dict[str, float] = {"train": 0.5, "validation": 0.2, "holdout": 0.3}
PASSAGE_WEIGHT = 3  # how much a passage counts against its questions when the split is balanced


class QuestionSetError(ValueError):
    """The question file is missing, not YAML, or one of its entries is malformed."""


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    evidence: tuple[str, ...] = ()
    answerable: bool = True
    context: tuple[str, ...] = ()  # earlier turns of the same conversation; evidence applies to `question`
    tags: tuple[str, ...] = ()
    source: str = ""  # the passage (doc-id:chunk-id when written) or theme the question was written from


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
    context = _string_list(entry.get("context"), "context", where)
    tags = _string_list(entry.get("tags"), "tags", where)
    unknown_tags = sorted(set(tags) - set(TAGS))
    if unknown_tags:
        raise QuestionSetError(f"{where}：未知标签 {unknown_tags}（允许：{sorted(TAGS)}）")
    source = entry.get("source", "")
    if not isinstance(source, str):
        raise QuestionSetError(f"{where}：source 应为字符串，收到 {source!r}")
    return Question(
        id=question_id.strip(), question=text.strip(), evidence=tuple(evidence), answerable=answerable,
        context=tuple(item.strip() for item in context), tags=tuple(tags), source=source.strip(),
    )


def _string_list(value: object, key: str, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise QuestionSetError(f"{where}：{key} 应为非空字符串列表，收到 {value!r}")
    return value


def split_group(question: Question) -> str:
    """Questions written from one passage share a group, so tuning on one cannot leak its sibling into another
    split; an unanswerable question, written from no passage, is a group of its own."""
    return question.source if question.answerable else question.id


def stratified_split(questions: Sequence[Question]) -> dict[str, str]:
    """Group key (``split_group``) -> split name, the rule that made ``SPLIT_FILES``: greedy multi-label
    stratification. Groups are taken in the order of the SHA-256 of their key (fixed, and blind to content); each
    goes to the split furthest below its share (``SPLIT_SHARES``) on the group's features — its document (or
    unanswerable), answerability, tags and the passage itself — weighted by how rare each feature is."""
    groups: dict[str, list[Question]] = {}
    for question in questions:
        groups.setdefault(split_group(question), []).append(question)
    totals = Counter(feature for question in questions for feature in _split_features(question))
    # Each split also gets its share of distinct passages, not only of questions.
    totals["passages"] = sum(question.answerable for question in (qs[0] for qs in groups.values()))
    taken = {split: Counter[str]() for split in SPLIT_SHARES}
    assignment: dict[str, str] = {}
    for key in sorted(groups, key=lambda k: hashlib.sha256(k.encode()).hexdigest()):
        need = Counter(feature for question in groups[key] for feature in _split_features(question))
        if groups[key][0].answerable:
            need["passages"] = 1

        def deficit(split: str, need: Counter[str] = need) -> float:
            return sum(n * (SPLIT_SHARES[split] - taken[split][f] / totals[f]) for f, n in need.items())

        best = max(SPLIT_SHARES, key=deficit)
        assignment[key] = best
        taken[best].update(need)
    return assignment


def _split_features(question: Question) -> list[str]:
    document = question.source.split(":")[0] if question.answerable else "unanswerable"
    return ["all", f"document:{document}", f"answerable:{question.answerable}", *(f"tag:{t}" for t in question.tags)]
