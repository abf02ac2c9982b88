"""How texts become the terms c-TF-IDF weighs: stop words, n-grams, document frequencies.

``vectorizer={...}`` on ``search.topics`` (and ``cluster``'s keyword summaries) sets it:

- ``stop_words``: ``"english"`` (default), ``"french"``, ``"german"``, ``"spanish"``,
  ``"none"``, or a list of words; ``extra_stop_words``: words dropped besides those (a
  corpus's own boilerplate, e.g. ``["said"]`` in news wires);
- ``ngram_range``: ``[1, n]`` — words, plus runs of up to ``n`` adjacent kept words (n <= 3);
- ``min_df``: a term must occur in at least this many documents (an int), or this share of
  them (a float in (0, 1)); ``max_df``: a term in more than this share (default 0.9) is
  boilerplate, not a keyword.

Plain data, so it travels over the wire as it is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ValidationError
from .stopwords import STOP_WORDS

KEYS = ("stop_words", "extra_stop_words", "ngram_range", "min_df", "max_df")
MAX_NGRAM = 3
DEFAULT_MAX_DF = 0.9


@dataclass(frozen=True)
class Vectorizer:
    stop_words: frozenset[str] = STOP_WORDS["english"]
    ngram_max: int = 1
    min_df: float = 1
    max_df: float = DEFAULT_MAX_DF

    def prune(self, docs: list[list[str]], n_docs: int | None = None) -> list[list[str]]:
        """Drop the terms outside [min_df, max_df] (counted over ``n_docs`` documents,
        default all of ``docs``; empty token lists of excluded documents do not count)."""
        n = len(docs) if n_docs is None else n_docs
        if not n:
            return docs
        low = self.min_df if self.min_df >= 1 else self.min_df * n
        high = self.max_df * n if self.max_df < 1.0 else float("inf")
        if low <= 1 and high == float("inf"):
            return docs
        df = Counter(w for doc in docs for w in set(doc))
        drop = {w for w, c in df.items() if c < low or c > high}
        if not drop:
            return docs
        return [[w for w in doc if w not in drop] for doc in docs]


def make_vectorizer(spec: Any = None, *, bigrams: bool = False) -> Vectorizer:
    """The vectorizer a ``vectorizer={...}`` argument describes (None: the defaults, with
    ``bigrams`` as ``ngram_range=[1, 2]``), checked field by field."""
    if spec is None:
        return Vectorizer(ngram_max=2 if bigrams else 1)
    if isinstance(spec, Vectorizer):
        return spec
    if not isinstance(spec, dict):
        raise ValidationError(
            f"vectorizer must be a dict of {list(KEYS)}, got {type(spec).__name__}"
        )
    unknown = sorted(set(spec) - set(KEYS), key=str)
    if unknown:
        raise ValidationError(f"vectorizer: unknown keys {unknown}; expected some of {list(KEYS)}")
    words = _stop_words(spec.get("stop_words", "english"))
    extra = spec.get("extra_stop_words") or []
    if not isinstance(extra, list) or not all(isinstance(w, str) for w in extra):
        raise ValidationError("vectorizer.extra_stop_words must be a list of words")
    words = words | {w.lower() for w in extra}
    ngram = _ngram_max(spec.get("ngram_range", [1, 2 if bigrams else 1]))
    min_df = spec.get("min_df", 1)
    if isinstance(min_df, bool) or not (
        (isinstance(min_df, int) and min_df >= 1) or (isinstance(min_df, float) and 0 < min_df < 1)
    ):
        raise ValidationError(
            f"vectorizer.min_df must be an int >= 1 (documents) or a float in (0, 1) (a share),"
            f" got {min_df!r}"
        )
    max_df = spec.get("max_df", DEFAULT_MAX_DF)
    if isinstance(max_df, bool) or not isinstance(max_df, (int, float)) or not 0 < max_df <= 1:
        raise ValidationError(f"vectorizer.max_df must be a share in (0, 1], got {max_df!r}")
    return Vectorizer(words, ngram, min_df, float(max_df))


def _stop_words(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        if value == "none":
            return frozenset()
        if value in STOP_WORDS:
            return STOP_WORDS[value]
        raise ValidationError(
            f"vectorizer.stop_words: unknown language {value!r}; expected one of"
            f" {sorted(STOP_WORDS)}, 'none' or a list of words"
        )
    if isinstance(value, list) and all(isinstance(w, str) for w in value):
        return frozenset(w.lower() for w in value)
    raise ValidationError("vectorizer.stop_words must be a language name or a list of words")


def _ngram_max(value: Any) -> int:
    ok = (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and all(type(v) is int for v in value)
        and value[0] == 1
        and 1 <= value[1] <= MAX_NGRAM
    )
    if not ok:
        raise ValidationError(
            f"vectorizer.ngram_range must be [1, n] with n in 1..{MAX_NGRAM}, got {value!r}"
        )
    return int(value[1])


def ngrams(words: Sequence[str], n: int) -> list[str]:
    """``words`` plus the runs of 2..n adjacent words, space-joined."""
    out = list(words)
    for size in range(2, n + 1):
        out += [" ".join(words[i : i + size]) for i in range(len(words) - size + 1)]
    return out
