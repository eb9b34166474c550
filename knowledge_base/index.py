"""The retrieval index on disk: ``build_index(chunks, embeddings, settings) -> RetrievalIndex``,
``save_index`` / ``load_index``, and ``ensure_index(settings) -> IndexReport`` (build when missing or stale).

Layout of ``settings.index_dir``: ``manifest.json`` (what the index was built from: corpus fingerprint, lexicon
fingerprint, chunker version, embedding model, faiss type, counts, load errors), ``chunks.jsonl``, ``bm25/``
(bm25s over jieba tokens of title + headings + text), ``bm25_bigrams/`` (bm25s over character bigrams of the
same text: a typo or an unseen compound still shares most of its bigrams with the documents' words) and ``dense.faiss`` (inner product over L2-normalised
passage embeddings: exact ``IndexFlatIP``, or ``IndexHNSWFlat`` with ``settings.faiss_index_type = "hnsw"``) and,
for the corpus, ``sentences.npy`` + ``sentence_chunks.npy``: one embedding per sentence of every chunk (with its
region and headings), so a question worded like one sentence of a long passage still finds the passage, and
``paraphrases.npy`` + ``paraphrase_chunks.npy``: residents' phrasings of passages (相似问, ``NAME.questions.yaml``
beside a document; ``knowledge_base.paraphrases``) embedded as questions.
``build_index`` takes precomputed embeddings so a benchmark can index synthetic chunks without the corpus (and
without sentence embeddings).
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hotline.settings import Settings
from knowledge_base.chunking import CHUNKER_VERSION
from knowledge_base.errors import IndexUnavailableError
from knowledge_base.tokenizer import Lexicon, char_bigrams, load_lexicon
from knowledge_base.types import Chunk, LoadError

if TYPE_CHECKING:
    import bm25s
    import faiss

INDEX_FORMAT = "3"
HNSW_NEIGHBOURS = 32
HNSW_EF_SEARCH = 128


@dataclass(frozen=True)
class IndexManifest:
    corpus_hash: str
    lexicon_hash: str
    chunker_version: str
    embedding_model: str
    embedding_dimension: int
    faiss_index_type: str
    chunk_count: int
    document_count: int
    load_errors: list[str] = field(default_factory=list)
    built_at: str = ""
    index_format: str = INDEX_FORMAT


@dataclass(frozen=True)
class SentenceVectors:
    """Texts that stand for chunks (every sentence of every chunk, or residents' phrasings of them): each one's
    embedding (row) and the position of the chunk it belongs to."""

    embeddings: np.ndarray  # sentences × dim, float32, L2-normalised
    chunk_positions: np.ndarray  # sentences, int64, ascending


@dataclass
class RetrievalIndex:
    chunks: list[Chunk]
    bm25: bm25s.BM25
    dense: faiss.Index
    manifest: IndexManifest
    sentences: SentenceVectors | None = None
    bigrams: bm25s.BM25 | None = None
    paraphrases: SentenceVectors | None = None


def sentence_texts(chunks: list[Chunk]) -> tuple[list[str], list[int]]:
    """What the embedding model sees for each sentence (region and headings lead), and its chunk's position."""
    from knowledge_base.reading import split_sentences

    texts, positions = [], []
    for position, chunk in enumerate(chunks):
        for sentence in split_sentences(chunk.text):
            texts.append(f"{chunk.region} {chunk.section}\n{sentence}".strip())
            positions.append(position)
    return texts, positions


@dataclass(frozen=True)
class IndexReport:
    index: RetrievalIndex
    rebuilt: bool
    reason: str  # why it was (re)built, or "索引已是最新"
    errors: list[str]


def build_index(
    chunks: list[Chunk],
    embeddings: np.ndarray,
    settings: Settings,
    *,
    lexicon: Lexicon | None = None,
    corpus_hash: str = "",
    embedding_model: str | None = None,
    load_errors: list[LoadError] | None = None,
    sentences: SentenceVectors | None = None,
    paraphrases: SentenceVectors | None = None,
) -> RetrievalIndex:
    """Chunks and their passage embeddings (``len(chunks) × dim`` float32, L2-normalised) in, an index out."""
    import bm25s

    if not chunks:
        raise IndexUnavailableError("没有可索引的文本块：语料目录为空或所有文件都无法读取。")
    embeddings = np.ascontiguousarray(embeddings, dtype=np.float32)
    if embeddings.ndim != 2 or embeddings.shape[0] != len(chunks):
        raise ValueError(f"embeddings 形状 {embeddings.shape} 与文本块数 {len(chunks)} 不一致")
    lexicon = lexicon or load_lexicon(settings.lexicon_dir)
    retriever = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
    retriever.index([lexicon.tokenize(chunk.index_text) or [""] for chunk in chunks], show_progress=False)
    bigrams = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
    bigrams.index([char_bigrams(chunk.index_text) or [""] for chunk in chunks], show_progress=False)
    manifest = IndexManifest(
        corpus_hash=corpus_hash,
        lexicon_hash=lexicon.fingerprint,
        chunker_version=CHUNKER_VERSION,
        embedding_model=embedding_model or settings.embedding_model,
        embedding_dimension=int(embeddings.shape[1]),
        faiss_index_type=settings.faiss_index_type,
        chunk_count=len(chunks),
        document_count=len({chunk.doc_id for chunk in chunks}),
        load_errors=[str(error) for error in load_errors or []],
        built_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    )
    return RetrievalIndex(chunks=chunks, bm25=retriever, dense=_dense_index(embeddings, settings), manifest=manifest,
                          sentences=sentences, bigrams=bigrams, paraphrases=paraphrases)


def _dense_index(embeddings: np.ndarray, settings: Settings) -> faiss.Index:
    import faiss

    dimension = embeddings.shape[1]
    if settings.faiss_index_type == "flat":
        index = faiss.IndexFlatIP(dimension)
    elif settings.faiss_index_type == "hnsw":
        index = faiss.IndexHNSWFlat(dimension, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = HNSW_EF_SEARCH
    else:
        raise ValueError(f"未知的 faiss_index_type {settings.faiss_index_type!r}：请使用 flat 或 hnsw。")
    index.add(embeddings)
    return index


def save_index(index: RetrievalIndex, directory: Path) -> None:
    """Write the index to ``directory`` atomically: a half-written index is never mistaken for a fresh one."""
    import faiss

    directory = Path(directory)
    staging = directory.with_name(directory.name + ".building")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with (staging / "chunks.jsonl").open("w", encoding="utf-8") as out:
        for chunk in index.chunks:
            out.write(json.dumps(asdict(chunk), ensure_ascii=False) + "\n")
    index.bm25.save(str(staging / "bm25"))
    if index.bigrams is not None:
        index.bigrams.save(str(staging / "bm25_bigrams"))
    faiss.write_index(index.dense, str(staging / "dense.faiss"))
    for name, vectors in (("sentence", index.sentences), ("paraphrase", index.paraphrases)):
        if vectors is not None:
            np.save(staging / f"{name}s.npy", vectors.embeddings)
            np.save(staging / f"{name}_chunks.npy", vectors.chunk_positions)
    (staging / "manifest.json").write_text(json.dumps(asdict(index.manifest), ensure_ascii=False, indent=2))
    backup = directory.with_name(directory.name + ".old")
    shutil.rmtree(backup, ignore_errors=True)
    if directory.exists():
        directory.rename(backup)
    staging.rename(directory)
    shutil.rmtree(backup, ignore_errors=True)


def read_manifest(directory: Path) -> IndexManifest | None:
    path = Path(directory) / "manifest.json"
    if not path.exists():
        return None
    try:
        return IndexManifest(**json.loads(path.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, TypeError):
        return None


def load_index(directory: Path) -> RetrievalIndex:
    """An index directory written by ``save_index`` in, the index out (``IndexUnavailableError`` if unusable)."""
    import bm25s
    import faiss

    directory = Path(directory)
    manifest = read_manifest(directory)
    if manifest is None:
        raise IndexUnavailableError(f"{directory} 中没有可用的索引，请先运行 `hotline index`。")
    with (directory / "chunks.jsonl").open(encoding="utf-8") as lines:
        chunks = [Chunk(**json.loads(line)) for line in lines if line.strip()]
    retriever = bm25s.BM25.load(str(directory / "bm25"))
    dense = faiss.read_index(str(directory / "dense.faiss"))
    if manifest.faiss_index_type == "hnsw":
        dense.hnsw.efSearch = HNSW_EF_SEARCH
    bigrams = bm25s.BM25.load(str(directory / "bm25_bigrams")) if (directory / "bm25_bigrams").exists() else None
    return RetrievalIndex(chunks=chunks, bm25=retriever, dense=dense, manifest=manifest, bigrams=bigrams,
                          sentences=_load_vectors(directory, "sentence"),
                          paraphrases=_load_vectors(directory, "paraphrase"))


def _load_vectors(directory: Path, name: str) -> SentenceVectors | None:
    if not (directory / f"{name}s.npy").exists():
        return None
    return SentenceVectors(np.load(directory / f"{name}s.npy"), np.load(directory / f"{name}_chunks.npy"))


def stale_reason(settings: Settings, manifest: IndexManifest | None) -> str | None:
    """Why the index in ``settings.index_dir`` no longer matches the corpus and configuration (``None``: fresh)."""
    from knowledge_base.ingest import corpus_fingerprint

    if manifest is None:
        return "还没有索引"
    checks = [
        (manifest.index_format == INDEX_FORMAT, "索引格式已更新"),
        (manifest.corpus_hash == corpus_fingerprint(Path(settings.corpus_dir)), "语料目录中的文件有变化"),
        (manifest.lexicon_hash == load_lexicon(settings.lexicon_dir).fingerprint, "领域词典或同义词表有变化"),
        (manifest.chunker_version == CHUNKER_VERSION, "分块规则版本有变化"),
        (manifest.embedding_model == settings.embedding_model, "嵌入模型有变化"),
        (manifest.faiss_index_type == settings.faiss_index_type, "faiss 索引类型有变化"),
    ]
    return next((reason for ok, reason in checks if not ok), None)


def ensure_index(settings: Settings, *, force: bool = False, encoder: object | None = None) -> IndexReport:
    """Load the index of ``settings.index_dir``, (re)building it from the corpus when missing, stale or forced.

    ``encoder`` is the loaded embedding model when the caller already has one (``KnowledgeBase.load``).
    """
    directory = Path(settings.index_dir)
    manifest = read_manifest(directory)
    reason = "按要求重建" if force else stale_reason(settings, manifest)
    if reason is None:
        index = load_index(directory)
        return IndexReport(index=index, rebuilt=False, reason="索引已是最新", errors=index.manifest.load_errors)
    index = build_corpus_index(settings, encoder=encoder)
    try:
        save_index(index, directory)
    except OSError as error:
        raise IndexUnavailableError(f"索引需要重建（{reason}），但无法写入 {directory}：{error}") from error
    return IndexReport(index=index, rebuilt=True, reason=reason, errors=index.manifest.load_errors)


def build_corpus_index(settings: Settings, *, encoder: object | None = None) -> RetrievalIndex:
    """Ingest ``settings.corpus_dir``, embed every chunk and build the index (not saved)."""
    from knowledge_base.ingest import ingest_corpus
    from knowledge_base.loaders import corpus_files
    from knowledge_base.normalization import normalize_question
    from knowledge_base.paraphrases import attach_paraphrases

    ingestion = ingest_corpus(settings)
    if not ingestion.chunks:
        problems = "；".join(str(e) for e in ingestion.errors) or "目录中没有 .txt/.md/.docx/.pdf 文件"
        raise IndexUnavailableError(f"无法建立索引：{settings.corpus_dir} 中没有可用的文档（{problems}）。")
    if encoder is None:
        from knowledge_base.embedding import load_encoder

        encoder = load_encoder(settings)
    embeddings = encoder.encode_passages([chunk.embedding_text for chunk in ingestion.chunks])  # type: ignore[attr-defined]
    texts, positions = sentence_texts(ingestion.chunks)
    sentences = SentenceVectors(
        encoder.encode_passages(texts),  # type: ignore[attr-defined]
        np.asarray(positions, dtype=np.int64),
    )
    phrasings = attach_paraphrases(corpus_files(Path(settings.corpus_dir)), ingestion.chunks)
    paraphrases = None
    if phrasings.texts:
        paraphrases = SentenceVectors(
            encoder.encode_queries([normalize_question(t) for t in phrasings.texts]),  # type: ignore[attr-defined]
            np.asarray(phrasings.chunk_positions, dtype=np.int64),
        )
    return build_index(
        ingestion.chunks,
        embeddings,
        settings,
        corpus_hash=ingestion.corpus_hash,
        load_errors=[*ingestion.errors, *phrasings.errors],
        sentences=sentences,
        paraphrases=paraphrases,
    )
