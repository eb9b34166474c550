"""Hybrid retrieval over the policy corpus: ``KnowledgeBase.load(settings)`` then ``.search(question, …)``.

``search(question, *, region=None, k=None, method="hybrid" | "fused" | "bm25" | "dense") -> SearchResult``:
- the question is normalised first (``knowledge_base.normalization``: traditional → simplified, full-width,
  dialect words and typos), as the NLU sees it;
- BM25 (bm25s scores, jieba tokens, colloquial words expanded to official terms at a lower weight), dense
  (faiss inner product of E5 passage embeddings) and, when the index has them, sentence embeddings (a passage
  scores as its closest sentence) and residents' phrasings (相似问: as its closest phrasing) each return ``settings.retrieval_candidates`` candidates, which weighted
  reciprocal-rank fusion merges (``fused``);
- ``hybrid`` then **reads** the best ``settings.rerank_candidates`` fused candidates against the question
  (``knowledge_base.answerability``: rare words covered, the best sentence, the kind of fact asked for) and
  re-ranks them by the fitted listwise ranking, and gives each the fitted probability that it answers the question;
- that probability for the first passage is the result's ``confidence`` and sets its ``band``: ``confident``
  (answer), ``related`` (show as possibly related) or ``refused``; ``abstain`` is ``band != "confident"``. The
  decision is the same whatever ``method`` ranks the passages;
- each passage carries ``lead``: the sentence(s) of it that carry the asked-for fact, quoted first to residents;
- when the question (or ``region=``) names a region that has documents, only that region's documents and
  documents without a region are searched.
Extractive only: passages are the corpus's own text. Everything heavy is loaded once.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from hotline.settings import Settings, get_settings
from knowledge_base.answerability import AnswerabilityModel, PassageFeatures, load_model
from knowledge_base.errors import EmptyQuestionError, UnknownSearchMethodError
from knowledge_base.index import RetrievalIndex, SentenceVectors, ensure_index
from knowledge_base.normalization import normalize_question
from knowledge_base.reading import (
    WeightedTerms,
    answering_span,
    asked_kinds,
    coverage,
    rarest_missing,
    split_sentences,
    unmet_kinds,
)
from knowledge_base.regions import detect_region, names_other_place, region_matches
from knowledge_base.tokenizer import Lexicon, char_bigrams, load_lexicon, normalize
from knowledge_base.types import Passage, SearchResult

log = logging.getLogger(__name__)

METHODS = ("hybrid", "fused", "bm25", "dense")
EXPANSION_WEIGHT = 0.4  # official terms added for colloquial words count less than the resident's own words
NEAREST_TEXTS = 200  # sentences (or phrasings) searched to rank passages by their closest one


@dataclass
class _Retrieval:
    """One question's candidate lists, best first (chunk positions and scores)."""

    text: str  # the normalised question
    query_vector: np.ndarray
    bm25_all: np.ndarray  # BM25 score of every chunk
    bigram_all: np.ndarray  # character-bigram BM25 score of every chunk
    bm25_ids: np.ndarray
    bm25_scores: np.ndarray
    bigram_ids: np.ndarray
    dense_ids: np.ndarray
    dense_scores: np.ndarray
    sentence_ids: np.ndarray
    paraphrase_ids: np.ndarray
    fused_ids: list[int]
    fused_scores: list[float]
    terms: WeightedTerms
    kinds: frozenset[str]
    best_possible: float
    oov_rate: float
    other_place: bool  # the question names a place the corpus has no document for
    dense_median: float
    region: str | None


@dataclass(frozen=True)
class _SparseScorer:
    """A bm25s index's score matrix by token column: scores for a bag of weighted tokens in one pass."""

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    vocab: dict[str, int]
    size: int

    @classmethod
    def of(cls, bm25: object, size: int) -> _SparseScorer:
        scores = bm25.scores  # type: ignore[attr-defined]
        return cls(scores["data"], scores["indices"], scores["indptr"], bm25.vocab_dict, size)  # type: ignore[attr-defined]

    def scores(self, weighted: list[tuple[float, list[str]]]) -> np.ndarray:
        out = np.zeros(self.size, dtype=np.float32)
        for weight, tokens in weighted:
            for token in tokens:
                token_id = self.vocab.get(token)
                if token_id is None:
                    continue
                start, end = self.indptr[token_id], self.indptr[token_id + 1]
                # Within one token's column each chunk appears once, so plain fancy-index addition is exact.
                out[self.indices[start:end]] += weight * self.data[start:end]
        return out


@dataclass(frozen=True)
class _ChunkTexts:
    """Texts that stand for chunks (their sentences, or residents' phrasings of them), searchable by cosine."""

    vectors: SentenceVectors
    nearest: object  # faiss.IndexFlatIP over the vectors
    ranges: np.ndarray  # chunk i's rows are ranges[i]:ranges[i + 1]

    @classmethod
    def of(cls, vectors: SentenceVectors | None, chunk_count: int) -> _ChunkTexts | None:
        if vectors is None or not len(vectors.embeddings):
            return None
        import faiss

        nearest = faiss.IndexFlatIP(vectors.embeddings.shape[1])
        nearest.add(np.ascontiguousarray(vectors.embeddings, dtype=np.float32))
        return cls(vectors, nearest, np.searchsorted(vectors.chunk_positions, np.arange(chunk_count + 1), side="left"))

    def ranking(self, vector: np.ndarray, allowed: np.ndarray | None, candidates: int) -> np.ndarray:
        """Chunks ranked by their closest text (``allowed``: the region's chunk mask)."""
        limit = min(NEAREST_TEXTS, self.nearest.ntotal)  # type: ignore[attr-defined]
        _, ids = self.nearest.search(vector, limit)  # type: ignore[attr-defined]
        chunks = self.vectors.chunk_positions[ids[0][ids[0] >= 0]]
        if allowed is not None:
            chunks = chunks[allowed[chunks]]
        return np.asarray(list(dict.fromkeys(chunks.tolist()))[:candidates], dtype=np.int64)

    def closest(self, position: int, vector: np.ndarray) -> float | None:
        """Cosine of the chunk's closest text to ``vector``; ``None`` when the chunk has none."""
        start, end = self.ranges[position], self.ranges[position + 1]
        return float((self.vectors.embeddings[start:end] @ vector).max()) if end > start else None


@dataclass(frozen=True)
class Candidate:
    """One re-ranked candidate: the chunk's position, the answerability features and probability."""

    position: int
    features: PassageFeatures
    probability: float


class KnowledgeBase:
    def __init__(
        self, index: RetrievalIndex, encoder: object, lexicon: Lexicon, model: AnswerabilityModel, settings: Settings
    ) -> None:
        self.index = index
        self.encoder = encoder
        self.lexicon = lexicon
        self.model = model
        self.settings = settings
        count = len(index.chunks)
        self._words = _SparseScorer.of(index.bm25, count)
        self._bigrams = _SparseScorer.of(index.bigrams, count) if index.bigrams is not None else None
        self._vocab = self._words.vocab
        document_frequency = np.diff(self._words.indptr).astype(np.float64)
        self._idf = np.log1p((count - document_frequency + 0.5) / (document_frequency + 0.5))
        self._max_idf = math.log1p((count + 0.5) / 0.5)
        self._best_token_score = np.zeros(len(document_frequency), dtype=np.float64)
        nonempty = document_frequency > 0
        self._best_token_score[nonempty] = np.maximum.reduceat(self._words.data, self._words.indptr[:-1][nonempty])
        self._normalized_texts = [normalize(chunk.index_text) for chunk in index.chunks]
        self._normalized_sections = [normalize(f"{chunk.doc_title} {chunk.section}") for chunk in index.chunks]
        self._sentences = [split_sentences(chunk.text) for chunk in index.chunks]
        self._normalized_sentences = [[normalize(s) for s in sentences] for sentences in self._sentences]
        self._region_filters: dict[str, tuple[np.ndarray, object] | None] = {}
        self._sentence_vectors = _ChunkTexts.of(index.sentences, count)
        self._paraphrase_vectors = _ChunkTexts.of(index.paraphrases, count)

    @classmethod
    def load(cls, settings: Settings | None = None) -> KnowledgeBase:
        """Load model, lexicon, answerability model and index once (rebuilding a missing or stale index)."""
        from knowledge_base.embedding import ensure_model, load_encoder

        settings = settings or get_settings()
        ensure_model(settings)
        encoder = load_encoder(settings)
        report = ensure_index(settings, encoder=encoder)
        if report.rebuilt:
            log.info("索引已重建（%s）：%d 个文本块", report.reason, report.index.manifest.chunk_count)
        return cls(report.index, encoder, load_lexicon(settings.lexicon_dir),
                   load_model(settings.answerability_model_file), settings)

    def search(
        self, question: str, *, region: str | None = None, k: int | None = None, method: str = "hybrid"
    ) -> SearchResult:
        """A resident's question in, the best ``k`` passages, the region applied and the answer band out."""
        if method not in METHODS:
            raise UnknownSearchMethodError(method)
        k = self.settings.retrieval_top_k if k is None else k
        if k < 1:
            raise ValueError(f"k 必须是正整数，收到 {k}")
        question = _checked_question(question)
        retrieval = self._retrieve(question, region)
        candidates = self._read(question, retrieval)
        reranked = [c.position for c in candidates]
        confidence = candidates[0].probability if candidates else 0.0
        if method == "hybrid":
            ranked = reranked + [p for p in retrieval.fused_ids if p not in set(reranked)]
            scores = {c.position: c.probability for c in candidates}
            ranked_scores = [(p, scores.get(p, 0.0)) for p in ranked]
        elif method == "fused":
            ranked_scores = list(zip(retrieval.fused_ids, retrieval.fused_scores))
        elif method == "bm25":
            ranked_scores = list(zip(retrieval.bm25_ids.tolist(), retrieval.bm25_scores.tolist()))
        else:
            ranked_scores = list(zip(retrieval.dense_ids.tolist(), retrieval.dense_scores.tolist()))
        band = self.model.band(confidence)
        return SearchResult(
            question=question,
            passages=[self._passage(position, score, retrieval, self.model.band(score) if method == "hybrid" else "")
                      for position, score in ranked_scores[:k]],
            abstain=band != "confident",
            confidence=round(confidence, 4),
            region=retrieval.region,
            band=band,
        )

    def candidate_features(self, question: str, *, region: str | None = None) -> list[tuple[Passage, PassageFeatures]]:
        """The fused candidates the model reads (in retrieval order) with their features: what it is fitted on."""
        question = _checked_question(question)
        retrieval = self._retrieve(question, region)
        positions = retrieval.fused_ids[: self.settings.rerank_candidates]
        return [(self._passage(p, 0.0, retrieval), self._features(p, rank, retrieval))
                for rank, p in enumerate(positions, start=1)]

    def rankings(self, question: str, *, region: str | None = None) -> dict[str, list[int]]:
        """Each retriever's ranked chunk positions before fusion (``bm25``, ``bigram``, ``dense``, ``sentence``,
        ``paraphrase``):
        what the fusion weights are chosen on."""
        retrieval = self._retrieve(_checked_question(question), region)
        return {"bm25": retrieval.bm25_ids.tolist(), "bigram": retrieval.bigram_ids.tolist(),
                "dense": retrieval.dense_ids.tolist(), "sentence": retrieval.sentence_ids.tolist(),
                "paraphrase": retrieval.paraphrase_ids.tolist()}

    # --- retrieval -------------------------------------------------------------------------------------

    def _retrieve(self, question: str, region: str | None) -> _Retrieval:
        text = normalize_question(question[: self.settings.max_question_chars])
        region_name, region_filter = self._region_filter(region if region else text)
        candidates = self.settings.retrieval_candidates
        tokens = list(dict.fromkeys(self.lexicon.tokenize(text)))
        expansions = self.lexicon.expand(text)
        expansion_tokens = [t for t in dict.fromkeys(self.lexicon.tokenize(" ".join(expansions))) if t not in tokens]
        bm25_all = self._bm25(tokens, expansion_tokens, region_filter)
        bm25_ids, bm25_scores = _top(bm25_all, candidates)
        bigram_all = self._bigram_scores(text, region_filter)
        bigram_ids, _ = _top(bigram_all, candidates)
        vector = np.ascontiguousarray(self.encoder.encode_queries([text]), dtype=np.float32)  # type: ignore[attr-defined]
        # The embedding model understands colloquial wording itself; appending official terms measured worse.
        dense_ids, dense_scores = self._dense(vector, region_filter, candidates)
        sentence_ids = self._nearest_ranking(self._sentence_vectors, vector, region_filter, candidates)
        paraphrase_ids = self._nearest_ranking(self._paraphrase_vectors, vector, region_filter, candidates)
        rankings = [(bm25_ids, 1.0), (bigram_ids, self.settings.rrf_bigram_weight),
                    (dense_ids, self.settings.rrf_dense_weight), (sentence_ids, self.settings.rrf_sentence_weight),
                    (paraphrase_ids, self.settings.rrf_paraphrase_weight)]
        fused_ids, fused_scores = _reciprocal_rank_fusion(rankings, self.settings.rrf_k)
        terms, oov_rate = self._weighted_terms(tokens)
        token_ids = [self._vocab.get(token) for token in tokens]
        best_possible = float(sum(self._best_token_score[t] for t in token_ids if t is not None))
        return _Retrieval(
            text=text, query_vector=vector[0], bm25_all=bm25_all, bigram_all=bigram_all, bigram_ids=bigram_ids, bm25_ids=bm25_ids, bm25_scores=bm25_scores,
            dense_ids=dense_ids, dense_scores=dense_scores, sentence_ids=sentence_ids, paraphrase_ids=paraphrase_ids,
            fused_ids=fused_ids,
            fused_scores=fused_scores, terms=terms, kinds=asked_kinds(text), best_possible=best_possible,
            oov_rate=oov_rate, other_place=region_name is None and names_other_place(text),
            dense_median=float(np.median(dense_scores)) if len(dense_scores) else 0.0, region=region_name,
        )

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
        self, tokens: list[str], expansion_tokens: list[str], region_filter: tuple[np.ndarray, object] | None
    ) -> np.ndarray:
        scores = self._words.scores([(1.0, tokens), (EXPANSION_WEIGHT, expansion_tokens)])
        if region_filter is not None:
            scores[~region_filter[0]] = 0.0
        return scores

    def _bigram_scores(self, text: str, region_filter: tuple[np.ndarray, object] | None) -> np.ndarray:
        if self._bigrams is None:
            return np.zeros(len(self.index.chunks), dtype=np.float32)
        scores = self._bigrams.scores([(1.0, list(dict.fromkeys(char_bigrams(text))))])
        if region_filter is not None:
            scores[~region_filter[0]] = 0.0
        return scores

    def _dense(
        self, vector: np.ndarray, region_filter: tuple[np.ndarray, object] | None, candidates: int
    ) -> tuple[np.ndarray, np.ndarray]:
        import faiss

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

    @staticmethod
    def _nearest_ranking(
        texts: _ChunkTexts | None, vector: np.ndarray, region_filter: tuple[np.ndarray, object] | None, candidates: int
    ) -> np.ndarray:
        """Chunks ranked by their closest sentence or phrasing (empty when the index has none)."""
        if texts is None:
            return np.empty(0, dtype=np.int64)
        return texts.ranking(vector, region_filter[0] if region_filter is not None else None, candidates)

    # --- reading the candidates ------------------------------------------------------------------------

    def _weighted_terms(self, tokens: list[str]) -> tuple[WeightedTerms, float]:
        """The question's words with their synonyms and IDF weights (0–1), and the weight share the corpus lacks."""
        groups, weights, unknown = [], [], []
        for token in tokens:
            # A colloquial word (长护险) counts as found when its official term (长期护理保险) is.
            group = (token, *self.lexicon.synonyms.get(token, ()))
            known = [self._vocab[m] for m in group if m in self._vocab]
            weight = max((self._idf[t] for t in known), default=self._max_idf) / self._max_idf
            groups.append(group)
            weights.append(float(weight))
            unknown.append(not known)
        total = sum(weights)
        oov = sum(w for w, u in zip(weights, unknown, strict=True) if u) / total if total else 1.0
        return WeightedTerms(tuple(groups), tuple(weights)), oov

    def _read(self, question: str, retrieval: _Retrieval) -> list[Candidate]:
        """The best fused candidates, each read against the question, in the model's ranking (stable)."""
        positions = retrieval.fused_ids[: self.settings.rerank_candidates]
        scored = []
        for rank, position in enumerate(positions, start=1):
            features = self._features(position, rank, retrieval)
            candidate = Candidate(position, features, self.model.probability(features))
            scored.append((self.model.rank_score(features), candidate))
        return [candidate for _, candidate in sorted(scored, key=lambda pair: -pair[0])]

    def _features(self, position: int, rank: int, retrieval: _Retrieval) -> PassageFeatures:
        q = retrieval.query_vector
        cosine = float(self.index.dense.reconstruct(int(position)) @ q)
        sentence_cosine = _closest(self._sentence_vectors, position, q, default=cosine)
        # A passage nobody wrote phrasings for is judged by its own sentences.
        paraphrase_cosine = _closest(self._paraphrase_vectors, position, q, default=sentence_cosine)
        text = self._normalized_texts[position]
        best_bm25, best_bigram = retrieval.bm25_all.max(initial=0.0), retrieval.bigram_all.max(initial=0.0)
        sentences = self._normalized_sentences[position]
        return PassageFeatures(
            reciprocal_rank=1.0 / rank,
            bm25_strength=float(retrieval.bm25_all[position]) / retrieval.best_possible if retrieval.best_possible else 0.0,
            bm25_relative=float(retrieval.bm25_all[position] / best_bm25) if best_bm25 > 0 else 0.0,
            bigram_relative=float(retrieval.bigram_all[position] / best_bigram) if best_bigram > 0 else 0.0,
            dense_cosine=cosine,
            dense_margin=cosine - retrieval.dense_median,
            sentence_cosine=sentence_cosine,
            paraphrase_cosine=paraphrase_cosine,
            term_coverage=coverage(retrieval.terms, text),
            sentence_coverage=max((coverage(retrieval.terms, s) for s in sentences), default=0.0),
            section_coverage=coverage(retrieval.terms, self._normalized_sections[position]),
            rarest_missing=rarest_missing(retrieval.terms, text),
            unmet_kinds=float(unmet_kinds(retrieval.kinds, self.index.chunks[position].text)),
            oov_rate=retrieval.oov_rate,
            other_place=float(retrieval.other_place),
        )

    def _passage(self, position: int, score: float, retrieval: _Retrieval, band: str = "") -> Passage:
        chunk = self.index.chunks[position]
        start, end = answering_span(retrieval.terms, retrieval.kinds, self._normalized_sentences[position])
        return Passage(
            chunk_id=chunk.chunk_id,
            doc_id=chunk.doc_id,
            doc_title=chunk.doc_title,
            section=chunk.section,
            region=chunk.region,
            text=chunk.text,
            score=round(float(score), 6),
            lead="".join(self._sentences[position][start:end]),
            band=band,
        )


def _closest(texts: _ChunkTexts | None, position: int, vector: np.ndarray, *, default: float) -> float:
    closest = texts.closest(position, vector) if texts is not None else None
    return default if closest is None else closest


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
        if weight <= 0:
            continue
        for rank, position in enumerate(ranking.tolist(), start=1):
            fused[position] = fused.get(position, 0.0) + weight / (rrf_k + rank)
    ordered = sorted(fused.items(), key=lambda item: -item[1])
    return [position for position, _ in ordered], [score for _, score in ordered]
