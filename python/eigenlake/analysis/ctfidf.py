"""Class-based TF-IDF (c-TF-IDF): the words that distinguish one cluster from the others.

Each cluster's documents are joined into one class document. With ``tf[c, t]`` the count of
term ``t`` in class ``c``:

    weight[c, t] = tf[c, t] / sum_t tf[c, t]  *  log(1 + A / f[t])

where ``A`` is the mean number of terms per class and ``f[t]`` the count of ``t`` over all
classes (the formulation of BERTopic's c-TF-IDF, with L1-normalised term frequencies).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from .stopwords import ENGLISH_STOP_WORDS
from .vectorizer import DEFAULT_MAX_DF, Vectorizer, ngrams

# Words of any script (accented ones included), joined by ' - _ inside.
_WORD = re.compile(r"[^\W_](?:[\w'-]*[^\W_])?")
# A "document" that is one long run of letters is a sequence (protein, DNA): split it into
# overlapping k-mers instead of words, so clusters of sequences still get keywords.
_SEQUENCE = re.compile(r"[A-Za-z]{20,}")
SEQUENCE_KMER = 3
# Terms in more than this share of the documents are boilerplate, not keywords.
MAX_DOC_FREQ = DEFAULT_MAX_DF


def tokenize(
    text: str,
    *,
    bigrams: bool = False,
    stop_words: frozenset[str] | set[str] = ENGLISH_STOP_WORDS,
    ngram_max: int = 1,
) -> list[str]:
    """Lower-cased words of two or more characters, minus stop words and bare numbers.

    ``ngram_max=n`` (or ``bigrams=True``, n = 2) adds the runs of up to n adjacent kept
    words ("interest rates").
    """
    stripped = text.strip()
    if _SEQUENCE.fullmatch(stripped):
        s = stripped.upper()
        return [s[i : i + SEQUENCE_KMER] for i in range(len(s) - SEQUENCE_KMER + 1)]
    words = [
        w
        for w in _WORD.findall(text.lower())
        if len(w) > 1 and w not in stop_words and not w.isdigit()
    ]
    return ngrams(words, max(ngram_max, 2 if bigrams else 1))


def record_text(metadata: dict[str, object], fields: Sequence[str]) -> str:
    """The text of one record: its ``fields`` joined, lists flattened, missing ones skipped."""
    parts: list[str] = []
    for f in fields:
        v = metadata.get(f)
        if v is None:
            continue
        if isinstance(v, (list, tuple)):
            parts.extend(str(x) for x in v)
        else:
            parts.append(str(v))
    return " \n ".join(parts)


def class_term_counts(
    token_lists: Iterable[list[str]], labels: Sequence[int], classes: Sequence[int]
) -> tuple[np.ndarray, list[str]]:
    """(counts (n_classes, n_terms), vocabulary) of the documents whose label is in ``classes``."""
    row_of = {c: i for i, c in enumerate(classes)}
    per_class: list[Counter[str]] = [Counter() for _ in classes]
    for tokens, label in zip(token_lists, labels, strict=True):
        row = row_of.get(int(label))
        if row is not None:
            per_class[row].update(tokens)
    vocab = sorted(set().union(*per_class)) if per_class else []
    col_of = {t: j for j, t in enumerate(vocab)}
    counts = np.zeros((len(classes), len(vocab)), dtype=np.float64)
    for i, counter in enumerate(per_class):
        if counter:
            cols = np.fromiter((col_of[t] for t in counter), dtype=np.int64, count=len(counter))
            counts[i, cols] = np.fromiter(counter.values(), dtype=np.float64, count=len(counter))
    return counts, vocab


def ctfidf_weights(counts: np.ndarray) -> np.ndarray:
    """c-TF-IDF weights of a (classes, terms) count matrix (see the module docstring)."""
    counts = np.asarray(counts, dtype=np.float64)
    if counts.size == 0:
        return counts.copy()
    per_class = counts.sum(axis=1, keepdims=True)
    tf = np.divide(counts, per_class, out=np.zeros_like(counts), where=per_class > 0)
    avg_terms = counts.sum() / counts.shape[0]
    term_total = counts.sum(axis=0)
    idf = np.log1p(
        np.divide(avg_terms, term_total, out=np.zeros_like(term_total), where=term_total > 0)
    )
    return tf * idf


def top_keywords(
    texts: Sequence[str],
    labels: Sequence[int],
    classes: Sequence[int],
    *,
    top_n: int = 10,
    vectorizer: Vectorizer | None = None,
) -> dict[int, list[tuple[str, float]]]:
    """The ``top_n`` (word, weight) pairs of each class, heaviest first (ties: alphabetical).

    Documents whose label is not in ``classes`` (e.g. DBSCAN noise, -1) take no part, so they
    neither count as a class nor dilute the term frequencies. ``vectorizer`` (default: English
    stop words, words only, ``max_df`` 0.9) turns texts into terms and drops those outside its
    document frequencies: boilerplate ("family" in every protein family name, a news wire's
    sign-off) describes no cluster.
    """
    vec = vectorizer or Vectorizer()
    wanted = {int(c) for c in classes}
    tokens = [
        tokenize(t, stop_words=vec.stop_words, ngram_max=vec.ngram_max)
        if int(lab) in wanted
        else []
        for t, lab in zip(texts, labels, strict=True)
    ]
    n_docs = sum(1 for lab in labels if int(lab) in wanted)
    tokens = vec.prune(tokens, n_docs)
    counts, vocab = class_term_counts(tokens, labels, classes)
    weights = ctfidf_weights(counts)
    out: dict[int, list[tuple[str, float]]] = {}
    for i, c in enumerate(classes):
        row = weights[i]
        # Sort by weight desc, then by vocabulary index (alphabetical) for stable ties.
        order = np.lexsort((np.arange(row.size), -row))
        out[int(c)] = [(vocab[j], float(row[j])) for j in order[:top_n] if row[j] > 0]
    return out
