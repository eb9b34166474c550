"""Hybrid retrieval over the policy corpus: ``KnowledgeBase.load(settings)`` then ``.search(question, …)``.

``search(question, *, region=None, k=None, method="hybrid" | "bm25" | "dense") -> SearchResult``:
- BM25 (bm25s scores, jieba tokens, colloquial words expanded to official terms at a lower weight) and dense
  (faiss inner product of E5 embeddings) each return ``settings.retrieval_candidates`` candidates, which
  reciprocal-rank fusion (``settings.rrf_k``) merges for ``hybrid``;
- when the question (or ``region=``) names a region that has documents, only that region's documents and
  documents without a region are searched; otherwise everything is, and each passage reports its region;
- every search also decides whether to **abstain** (the corpus cannot answer) with a calibrated ``confidence``
  (see ``knowledge_base.abstain``), the same way whatever ``method`` ranks the passages.
Extractive only: passages are the corpus's own text. Everything heavy is loaded once; a query allocates only
its score vectors.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from hotline.settings import Settings, get_settings
from knowledge_base.abstain import AbstainFeatures, Calibration, load_calibration
from knowledge_base.errors import EmptyQuestionError, UnknownSearchMethodError
from knowledge_base.index import RetrievalIndex, ensure_index
from knowledge_base.regions import detect_region, names_other_place, region_matches
from knowledge_base.tokenizer import Lexicon, load_lexicon, normalize
from knowledge_base.types import Passage, SearchResult

log = logging.getLogger(__name__)

METHODS = ("hybrid", "bm25", "dense")
EXPANSION_WEIGHT = 0.4  # official terms added for colloquial words count less than the resident's own words
COVERAGE_PASSAGES = 3
AGREEMENT_DEPTH = 5


@dataclass
class _Retrieval:
    """One question's candidate lists, best first (chunk positions and scores)."""

    bm25_ids: np.ndarray
    bm25_scores: np.ndarray
    dense_ids: np.ndarray
    dense_scores: np.ndarray
    fused_ids: list[int]
    fused_scores: list[float]
    tokens: list[str]
    region: str | None


class KnowledgeBase:
    def __init__(
        self, index: RetrievalIndex, encoder: object, lexicon: Lexicon, calibration: Calibration, settings: Settings
    ) -> None:
        self.index = index
        self.encoder = encoder
        self.lexicon = lexicon
        self.calibration = calibration
        self.settings = settings
        scores = index.bm25.scores
        self._data: np.ndarray = scores["data"]
        self._indices: np.ndarray = scores["indices"]
        self._indptr: np.ndarray = scores["indptr"]
        self._vocab: dict[str, int] = index.bm25.vocab_dict
        count = len(index.chunks)
        document_frequency = np.diff(self._indptr).astype(np.float64)
        self._idf = np.log1p((count - document_frequency + 0.5) / (document_frequency + 0.5))
        self._max_idf = math.log1p((count + 0.5) / 0.5)
        self._best_token_score = np.zeros(len(document_frequency), dtype=np.float64)
        nonempty = document_frequency > 0
        self._best_token_score[nonempty] = np.maximum.reduceat(self._data, self._indptr[:-1][nonempty])
        self._normalized_texts = [normalize(chunk.index_text) for chunk in index.chunks]
        self._region_filters: dict[str, tuple[np.ndarray, object] | None] = {}

    @classmethod
    def load(cls, settings: Settings | None = None) -> KnowledgeBase:
        """Load model, lexicon, calibration and index once (rebuilding a missing or stale index)."""
        from knowledge_base.embedding import ensure_model, load_encoder

        settings = settings or get_settings()
        ensure_model(settings)
        encoder = load_encoder(settings)
        report = ensure_index(settings, encoder=encoder)
        if report.rebuilt:
            log.info("索引已重建（%s）：%d 个文本块", report.reason, report.index.manifest.chunk_count)
        return cls(report.index, encoder, load_lexicon(settings.lexicon_dir), load_calibration(
            settings.abstain_calibration_file), settings)

    def search(
        self, question: str, *, region: str | None = None, k: int | None = None, method: str = "hybrid"
    ) -> SearchResult:
        """A resident's question in, the best ``k`` passages, the region applied and the abstain decision out."""
        if method not in METHODS:
            raise UnknownSearchMethodError(method)
        k = self.settings.retrieval_top_k if k is None else k
        if k < 1:
            raise ValueError(f"k 必须是正整数，收到 {k}")
        question = _checked_question(question)
        retrieval = self._retrieve(question, region)
        features = self._features(question, retrieval)
        confidence = self.calibration.confidence(features)
        if method == "hybrid":
            ranked = list(zip(retrieval.fused_ids, retrieval.fused_scores))
        elif method == "bm25":
            ranked = list(zip(retrieval.bm25_ids.tolist(), retrieval.bm25_scores.tolist()))
        else:
            ranked = list(zip(retrieval.dense_ids.tolist(), retrieval.dense_scores.tolist()))
        return SearchResult(
            question=question,
            passages=[self._passage(position, score) for position, score in ranked[:k]],
            abstain=self.calibration.abstains(confidence),
            confidence=round(confidence, 4),
            region=retrieval.region,
        )

    def abstain_features(self, question: str, *, region: str | None = None) -> AbstainFeatures:
        """The features the abstain decision is made from (what ``fit_calibration`` is trained on)."""
        question = _checked_question(question)
        return self._features(question, self._retrieve(question, region))

    # --- retrieval -------------------------------------------------------------------------------------

    def _retrieve(self, question: str, region: str | None) -> _Retrieval:
        text = question[: self.settings.max_question_chars]
        region_name, region_filter = self._region_filter(region if region else text)
        candidates = self.settings.retrieval_candidates
        tokens = list(dict.fromkeys(self.lexicon.tokenize(text)))
        expansions = self.lexicon.expand(text)
        expansion_tokens = [t for t in dict.fromkeys(self.lexicon.tokenize(" ".join(expansions))) if t not in tokens]
        bm25_ids, bm25_scores = self._bm25(tokens, expansion_tokens, region_filter, candidates)
        # The embedding model understands colloquial wording itself; appending official terms measured worse.
        dense_ids, dense_scores = self._dense(text, region_filter, candidates)
        fused_ids, fused_scores = _reciprocal_rank_fusion(
            [(bm25_ids, 1.0), (dense_ids, self.settings.rrf_dense_weight)], self.settings.rrf_k
        )
        return _Retrieval(bm25_ids, bm25_scores, dense_ids, dense_scores, fused_ids, fused_scores, tokens, region_name)

    def _region_filter(self, text: str) -> tuple[str | None, tuple[np.ndarray, object] | None]:
        """The region named and, when the corpus has documents for it, the chunks to search (mask, faiss selector)."""
        name = detect_region(text)
        if name is None:
            return None, None
        if name not in self._region_filters:
            import faiss

            regions = [chunk.region for chunk in self.index.chunks]
            matching = {r for r in set(regions) if region_matches(r, name)}  # per distinct region: 100k chunks stay cheap
            own = np.array([r in matching for r in regions])
            if not own.any():
                self._region_filters[name] = None  # a region the corpus has no document for: search everything
            else:
                allowed = own | np.array([not r for r in regions])
                ids = np.flatnonzero(allowed).astype(np.int64)
                self._region_filters[name] = (allowed, faiss.IDSelectorBatch(ids))
        region_filter = self._region_filters[name]
        return (name if region_filter is not None else None), region_filter

    def _bm25(
        self, tokens: list[str], expansion_tokens: list[str], region_filter: tuple[np.ndarray, object] | None,
        candidates: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        scores = np.zeros(len(self.index.chunks), dtype=np.float32)
        for weight, group in ((1.0, tokens), (EXPANSION_WEIGHT, expansion_tokens)):
            for token in group:
                token_id = self._vocab.get(token)
                if token_id is None:
                    continue
                start, end = self._indptr[token_id], self._indptr[token_id + 1]
                # Within one token's column each chunk appears once, so plain fancy-index addition is exact.
                scores[self._indices[start:end]] += weight * self._data[start:end]
        if region_filter is not None:
            scores[~region_filter[0]] = 0.0
        return _top(scores, candidates)

    def _dense(
        self, query: str, region_filter: tuple[np.ndarray, object] | None, candidates: int
    ) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        vector = np.ascontiguousarray(self.encoder.encode_queries([query]), dtype=np.float32)  # type: ignore[attr-defined]
        limit = min(candidates, self.index.dense.ntotal)
        if region_filter is None:
            scores, ids = self.index.dense.search(vector, limit)
        else:
            params_class = (
                faiss.SearchParametersHNSW if self.index.manifest.faiss_index_type == "hnsw" else faiss.SearchParameters
            )
            scores, ids = self.index.dense.search(vector, limit, params=params_class(sel=region_filter[1]))
        keep = ids[0] >= 0
        return ids[0][keep].astype(np.int64), scores[0][keep]

    # --- abstain features ------------------------------------------------------------------------------

    def _features(self, question: str, retrieval: _Retrieval) -> AbstainFeatures:
        top_texts = [self._normalized_texts[i] for i in retrieval.fused_ids[:COVERAGE_PASSAGES]]
        idf_values, covered_flags, known_flags = [], [], []
        for token in retrieval.tokens:
            # A colloquial word (长护险) counts as found when its official term (长期护理保险) is.
            group = [token, *self.lexicon.synonyms.get(token, ())]
            ids = [self._vocab.get(member) for member in group]
            known_ids = [t for t in ids if t is not None]
            idf_values.append(max((self._idf[t] for t in known_ids), default=self._max_idf))
            known_flags.append(bool(known_ids))
            covered_flags.append(any(member in text for member in group for text in top_texts))
        idf = np.array(idf_values, dtype=np.float64)
        total_idf = float(idf.sum())
        covered = np.array(covered_flags, dtype=bool)
        known = np.array(known_flags, dtype=bool)
        token_ids = [self._vocab.get(token) for token in retrieval.tokens]
        best_possible = float(sum(self._best_token_score[t] for t in token_ids if t is not None))
        dense = retrieval.dense_scores
        bm25_top = set(retrieval.bm25_ids[:AGREEMENT_DEPTH].tolist())
        dense_top = set(retrieval.dense_ids[:AGREEMENT_DEPTH].tolist())
        return AbstainFeatures(
            dense_top=float(dense[0]) if len(dense) else 0.0,
            dense_gap=float(dense[0] - np.median(dense)) if len(dense) else 0.0,
            bm25_strength=float(retrieval.bm25_scores[0]) / best_possible if best_possible and len(retrieval.bm25_scores) else 0.0,
            term_coverage=float(idf[covered].sum() / total_idf) if total_idf else 0.0,
            oov_rate=float(idf[~known].sum() / total_idf) if total_idf else 1.0,
            agreement=len(bm25_top & dense_top) / AGREEMENT_DEPTH,
            other_place=1.0 if retrieval.region is None and names_other_place(question) else 0.0,
        )

    def _passage(self, position: int, score: float) -> Passage:
        chunk = self.index.chunks[position]
        return Passage(
            chunk_id=chunk.chunk_id,
            doc_id=chunk.doc_id,
            doc_title=chunk.doc_title,
            section=chunk.section,
            region=chunk.region,
            text=chunk.text,
            score=round(float(score), 6),
        )


def _checked_question(question: str) -> str:
    if not isinstance(question, str):
        raise TypeError(f"问题应为文字（str），收到 {type(question).__name__}")
    question = question.strip()
    if not question:
        raise EmptyQuestionError()
    return question


def _top(scores: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    positive = int(np.count_nonzero(scores > 0))
    limit = min(limit, positive)
    if limit == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
    best = np.argpartition(-scores, limit - 1)[:limit]
    best = best[np.argsort(-scores[best], kind="stable")]
    return best.astype(np.int64), scores[best]


def _reciprocal_rank_fusion(rankings: list[tuple[np.ndarray, float]], rrf_k: int) -> tuple[list[int], list[float]]:
    """Σ weight/(rrf_k + rank) over the (ranking, weight) lists a chunk appears in; ties keep first-seen order."""
    fused: dict[int, float] = {}
    for ranking, weight in rankings:
        for rank, position in enumerate(ranking.tolist(), start=1):
            fused[position] = fused.get(position, 0.0) + weight / (rrf_k + rank)
    ordered = sorted(fused.items(), key=lambda item: -item[1])
    return [position for position, _ in ordered], [score for _, score in ordered]
