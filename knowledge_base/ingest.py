"""From the corpus folder to chunks: ``ingest_corpus(settings) -> Ingestion`` and ``build_chunks(settings)``.

In: ``settings.corpus_dir``. Out: the cleaned, chunked documents, the files that could not be loaded (with
why) and a fingerprint of the corpus files that an index records to know when it is stale.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

from hotline.settings import Settings
from knowledge_base.chunking import chunk_document
from knowledge_base.cleaning import clean_text
from knowledge_base.loaders import corpus_files, load_corpus, meta_path_for
from knowledge_base.paraphrases import paraphrase_path_for
from knowledge_base.types import Chunk, Document, LoadError


@dataclass(frozen=True)
class Ingestion:
    documents: list[Document]
    chunks: list[Chunk]
    errors: list[LoadError]
    corpus_hash: str


def ingest_corpus(settings: Settings) -> Ingestion:
    """Load, clean and chunk every document of ``settings.corpus_dir``; unreadable files land in ``errors``."""
    loaded = load_corpus(Path(settings.corpus_dir))
    documents = [replace(doc, text=clean_text(doc.text, title=doc.title)) for doc in loaded.documents]
    chunks = [chunk for doc in documents for chunk in chunk_document(doc)]
    return Ingestion(
        documents=documents,
        chunks=chunks,
        errors=loaded.errors,
        corpus_hash=corpus_fingerprint(Path(settings.corpus_dir)),
    )


def build_chunks(settings: Settings) -> list[Chunk]:
    """The chunks of the corpus (see ``ingest_corpus`` for the load errors that go with them)."""
    return ingest_corpus(settings).chunks


def corpus_fingerprint(corpus_dir: Path) -> str:
    """A hash of every document file, its metadata and its phrasings: names and bytes, so any edit, addition or
    removal shows."""
    digest = hashlib.sha256()
    for path in corpus_files(corpus_dir):
        for part in (path, meta_path_for(path), paraphrase_path_for(path)):
            if part.exists():
                digest.update(part.name.encode())
                digest.update(hashlib.sha256(part.read_bytes()).digest())
    return digest.hexdigest()
