"""Topic quality of a partition: how coherent and how distinct its keyword lists are.

Used to choose the number of topics. Silhouette measures the geometry of the embeddings and
tends to favour two or three broad groups; a topic model is judged by its words instead.
Quality = coherence x diversity (Dieng, Ruiz & Blei 2020, "Topic Modeling in Embedding Spaces"),
with a negative coherence counted as 0 (incoherent: less diversity must not then score
higher); when no partition has coherent words the caller decides by other means:

- coherence: mean NPMI (normalised pointwise mutual information, Bouma 2009) over the pairs of
  each topic's top words, from co-occurrence in the documents themselves, averaged over topics.
  NPMI(a, b) = log(p(a, b) / (p(a) p(b))) / -log p(a, b), in [-1, 1]; -1 when never together.
- diversity: the share of distinct words among all topics' top words (1 = no word repeated).

Keywords are the c-TF-IDF top words (``ctfidf``), so the lists scored are the ones reported.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .ctfidf import ctfidf_weights, tokenize
from .vectorizer import Vectorizer

# Co-occurrence is counted on at most this many documents (a seeded sample above it): the
# NPMI of frequent top words is stable well below this size, and memory stays bounded.
COHERENCE_SAMPLE = 20_000
TOP_N = 10


class Corpus:
    """The documents as term ids, built once and scored for many partitions."""

    def __init__(
        self, texts: Sequence[str], *, vectorizer: Vectorizer | None = None, seed: int = 0
    ) -> None:
        vec = vectorizer or Vectorizer()
        tokens = vec.prune(
            [tokenize(t, stop_words=vec.stop_words, ngram_max=vec.ngram_max) for t in texts]
        )
        n = len(tokens)
        self.vocab = sorted({w for doc in tokens for w in doc})
        col = {w: j for j, w in enumerate(self.vocab)}
        docs: list[int] = []
        terms: list[int] = []
        for i, doc in enumerate(tokens):
            ids = [col[w] for w in doc if w in col]
            docs.extend([i] * len(ids))
            terms.extend(ids)
        self.n_docs = n
        self.doc = np.asarray(docs, dtype=np.int64)
        self.term = np.asarray(terms, dtype=np.int64)
        rng = np.random.default_rng(seed)
        self.sample = (
            np.sort(rng.choice(n, COHERENCE_SAMPLE, replace=False))
            if n > COHERENCE_SAMPLE
            else None
        )

    def top_words(self, labels: np.ndarray, k: int, top_n: int = TOP_N) -> list[np.ndarray]:
        """Term ids of each class's ``top_n`` c-TF-IDF words (classes 0..k-1)."""
        v = len(self.vocab)
        if v == 0:
            return [np.zeros(0, dtype=np.int64) for _ in range(k)]
        cls = np.asarray(labels, dtype=np.int64)[self.doc]
        keep = cls >= 0
        counts = np.bincount(cls[keep] * v + self.term[keep], minlength=k * v).reshape(k, v)
        weights = ctfidf_weights(counts.astype(np.float64))
        out = []
        for row in weights:
            order = np.lexsort((np.arange(v), -row))[:top_n]
            out.append(order[row[order] > 0])
        return out

    def coherence(self, topics: list[np.ndarray]) -> float:
        """Mean over topics of the mean NPMI of their word pairs (topics with < 2 words skip)."""
        words = np.unique(np.concatenate(topics)) if topics else np.zeros(0, np.int64)
        if words.size == 0:
            return 0.0
        at = np.full(len(self.vocab), -1, dtype=np.int64)
        at[words] = np.arange(words.size)
        hit = at[self.term] >= 0
        doc, col = self.doc[hit], at[self.term[hit]]
        n = self.n_docs
        if self.sample is not None:
            row_of = np.full(self.n_docs, -1, dtype=np.int64)
            row_of[self.sample] = np.arange(self.sample.size)
            doc = row_of[doc]
            keep = doc >= 0
            doc, col = doc[keep], col[keep]
            n = self.sample.size
        present = np.zeros((n, words.size), dtype=np.float32)
        present[doc, col] = 1.0
        joint = (present.T @ present) / n  # p(a, b); the diagonal is p(a)
        p = np.diag(joint).astype(np.float64)
        scores = []
        for t in topics:
            if t.size < 2:
                continue
            ix = at[t]
            pj = joint[np.ix_(ix, ix)].astype(np.float64)
            pa = p[ix]
            iu = np.triu_indices(ix.size, 1)
            pab, pa_, pb_ = pj[iu], pa[iu[0]], pa[iu[1]]
            with np.errstate(divide="ignore", invalid="ignore"):
                npmi = np.where(
                    pab <= 0,
                    -1.0,
                    np.where(pab >= 1, 1.0, np.log(pab / (pa_ * pb_)) / -np.log(pab)),
                )
            scores.append(float(npmi.mean()))
        return float(np.mean(scores)) if scores else 0.0

    def quality(self, labels: np.ndarray, k: int, top_n: int = TOP_N) -> dict[str, float]:
        """``{"coherence", "diversity", "topic_quality"}`` of the partition ``labels``.

        Quality is max(coherence, 0) x diversity (see the module docstring)."""
        topics = self.top_words(labels, k, top_n)
        listed = sum(t.size for t in topics)
        diversity = float(np.unique(np.concatenate(topics)).size / listed) if listed else 0.0
        coherence = self.coherence(topics)
        return {
            "coherence": round(coherence, 6),
            "diversity": round(diversity, 6),
            "topic_quality": round(max(coherence, 0.0) * diversity, 6),
        }
