"""Words for search: ``load_lexicon(lexicon_dir) -> Lexicon`` with ``tokenize(text)`` and ``expand(text)``.

The one place the shared lexicon is loaded:
- ``lexicon/jieba/*.txt``: jieba user dictionaries (``词 词频 词性`` per line), the same files Rasa's
  JiebaTokenizer loads, so the bot and the retriever cut 异地就医 or 门诊慢特病 the same way;
- ``lexicon/synonyms.yaml``: colloquial → official expansions (外地 → 异地, 长护险 → 长期护理保险).

jieba is initialised once per lexicon folder, under a lock, on a private ``jieba.Tokenizer`` so other users of
jieba in the process are not affected. Text is NFKC-normalised and lower-cased before cutting, so full-width
digits (１２３９３) and Latin letters (DRG/drg) match.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

_STOPWORDS = frozenset(
    """的 了 和 与 及 或 是 在 有 我 你 他 她 它 我们 你们 他们 这 那 这个 那个 哪 哪个 哪些 什么 怎么 怎样 怎么样 如何 吗 呢 吧 啊 呀
    么 嘛 哦 请问 请 问 一下 想 想问 知道 能 能不能 可以 可不可以 会 要 需要 应该 该 都 也 还 就 又 被 把 给 对 从 向 到 为 为了
    以 以及 等 等等 其 之 中 上 下 里 个 些 多少 几 是否 是不是 有没有 没有 不 没 现在 目前 今年 去年 时候 时 后 前 再 更 最 很
    太 比较 一个 一些 自己 咱 您 您好 你好 谢谢 麻烦 帮 帮忙 告诉 说 讲 规定 政策 相关 有关 情况 方面 问题 工作 进行 开展 推进
    加强 完善 健全 提高 提升 实现 建立 推动 全面 进一步 坚持 按照 根据 通过 关于 为主 之间 以上 以下 其中 并 且 而 但 如果 因为""".split()
)
_SKIP_CATEGORIES = ("P", "Z", "S", "C")  # punctuation, separators, symbols, control


@dataclass(frozen=True)
class Lexicon:
    jieba: object  # a private, initialised jieba.Tokenizer
    synonyms: dict[str, tuple[str, ...]]
    fingerprint: str  # what the index records to notice a changed dictionary
    official_terms: tuple[str, ...] = ()  # longest first

    def tokenize(self, text: str) -> list[str]:
        """Search tokens of ``text``: jieba's search-mode cut (whole terms and their sub-words), no stopwords."""
        normalized = normalize(text)
        return [
            token
            for token in self.jieba.cut_for_search(normalized, HMM=True)  # type: ignore[attr-defined]
            if _is_content(token)
        ]

    def expand(self, text: str) -> list[str]:
        """Official terms for the colloquial words in ``text`` (not those it already contains), in a stable order."""
        normalized = normalize(text)
        # "特病" inside "门诊慢特病" is not colloquial: look for keys only outside the official terms present.
        outside_official = normalized
        for term in self.official_terms:
            outside_official = outside_official.replace(term, " ")
        expansions: list[str] = []
        for colloquial, official in self.synonyms.items():
            if colloquial in outside_official:
                expansions.extend(term for term in official if term not in normalized and term not in expansions)
        return expansions


def char_bigrams(text: str) -> list[str]:
    """Overlapping pairs of letters, digits and CJK characters (punctuation and spaces break a run)."""
    bigrams: list[str] = []
    for run in _WORD_RUNS.findall(normalize(text)):
        bigrams.extend(run[i:i + 2] for i in range(len(run) - 1))
    return bigrams


_WORD_RUNS = re.compile(r"[^\W_]+")


def normalize(text: str) -> str:
    """NFKC (full-width digits and letters to half-width) and lower case: the form every match is made in."""
    return unicodedata.normalize("NFKC", text).lower()


def _is_content(token: str) -> bool:
    token = token.strip()
    if not token or token in _STOPWORDS:
        return False
    return not all(unicodedata.category(ch)[0] in _SKIP_CATEGORIES for ch in token)


_cache: dict[Path, Lexicon] = {}
_lock = threading.Lock()


def load_lexicon(lexicon_dir: Path) -> Lexicon:
    """The lexicon of ``lexicon_dir`` (``jieba/*.txt`` and ``synonyms.yaml``), loaded once per process."""
    key = Path(lexicon_dir).resolve()
    with _lock:
        if key not in _cache:
            _cache[key] = _build(key)
        return _cache[key]


def _build(lexicon_dir: Path) -> Lexicon:
    import hashlib
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    digest = hashlib.sha256()
    for path in sorted((lexicon_dir / "jieba").glob("*.txt")):
        digest.update(path.read_bytes())
        tokenizer.load_userdict(str(path))
    synonyms_path = lexicon_dir / "synonyms.yaml"
    raw = synonyms_path.read_text(encoding="utf-8") if synonyms_path.exists() else ""
    digest.update(raw.encode())
    loaded = yaml.safe_load(raw) or {}
    if not isinstance(loaded, dict):
        raise ValueError(f"{synonyms_path} 应为“口语词: [规范词, …]”的映射")
    synonyms = {
        normalize(str(key)): tuple(normalize(str(term)) for term in (value if isinstance(value, list) else [value]))
        for key, value in loaded.items()
    }
    for word in {*synonyms, *(term for terms in synonyms.values() for term in terms)}:
        tokenizer.add_word(word, freq=20000)
    official = tuple(sorted({t for terms in synonyms.values() for t in terms}, key=len, reverse=True))
    return Lexicon(jieba=tokenizer, synonyms=synonyms, fingerprint=digest.hexdigest(), official_terms=official)
