"""The things that flow through the knowledge base: documents in, chunks indexed, passages and results out.

All are frozen dataclasses so a passage handed to the bot cannot be changed behind the index's back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Document:
    """One policy document as loaded from the corpus folder (``text`` is raw until cleaned)."""

    doc_id: str
    title: str
    text: str
    region: str = ""  # "河南省周口市"; empty when the document applies everywhere or is unknown
    issuer: str = ""
    date: str = ""
    doc_number: str = ""
    doc_type: str = ""
    source_path: Path | None = None


@dataclass(frozen=True)
class Chunk:
    """A retrievable piece of one document, with the heading path it sits under."""

    chunk_id: str
    doc_id: str
    doc_title: str
    section: str  # "第三章 … > 一、…"
    region: str
    text: str
    position: int = 0  # order within its document

    @property
    def index_text(self) -> str:
        """What BM25 sees: title and headings give short passages their context."""
        return f"{self.doc_title}\n{self.section}\n{self.text}"

    @property
    def embedding_text(self) -> str:
        """What the embedding model sees: the region leads, because residents name places, not document titles."""
        return f"{self.region} {self.section}\n{self.text}".strip()


@dataclass(frozen=True)
class LoadError:
    """A corpus file that could not be indexed, and why (resident-agnostic, for operators)."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.path.name}: {self.reason}"


@dataclass(frozen=True)
class Passage:
    chunk_id: str
    doc_id: str
    doc_title: str
    section: str
    region: str
    text: str
    score: float
    lead: str = ""  # the sentence(s) of ``text`` that carry the asked-for fact: what a reply quotes first
    band: str = ""  # the band its own probability falls in (hybrid search); "" when a method gives no probability


@dataclass(frozen=True)
class SearchResult:
    question: str
    passages: list[Passage] = field(default_factory=list)
    abstain: bool = False  # not answered confidently (band "related" or "refused")
    confidence: float = 0.0
    region: str | None = None
    band: str = ""  # "confident" | "related" | "refused" (see knowledge_base.answerability); derived when empty

    def __post_init__(self) -> None:
        if not self.band:
            object.__setattr__(self, "band", "refused" if self.abstain else "confident")
