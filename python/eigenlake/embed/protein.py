"""A deterministic protein embedder: hashed amino-acid k-mer profiles (k = 1, 2, 3).

For each k the sequence's overlapping k-mers are counted into ``dim`` buckets by feature
hashing (bucket and sign from FNV-1a of the k-mer's ASCII text, so the result is the same on
every machine and Python version, unlike the salted built-in ``hash``). Each k's profile is
L2-normalised and weighted (``K_WEIGHTS``) so that short and long sequences, and the 20-letter
1-mer profile versus the sparse 3-mer one, contribute comparably; the sum is L2-normalised.
Cosine similarity then reflects shared composition and short motifs, which groups members of
one protein family far better than chance (see tests/unit/test_protein_embed.py). It is a
sandbox stand-in for ESM-2/ProtTrans, not a replacement.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .registry import check_texts

DEFAULT_DIM = 320
K_WEIGHTS = {1: 0.5, 2: 1.0, 3: 1.0}
# The 20 standard amino acids; anything else (B, Z, X, U, O, gaps) maps to one "other" letter.
ALPHABET = "ACDEFGHIKLMNPQRSTVWY"
OTHER = "X"
_SIZE = len(ALPHABET) + 1
_CODE = np.full(256, len(ALPHABET), dtype=np.int64)
for _i, _a in enumerate(ALPHABET):
    _CODE[ord(_a)] = _i
    _CODE[ord(_a.lower())] = _i


def fnv1a_32(data: bytes) -> int:
    """32-bit FNV-1a: a fixed, documented hash (http://www.isthe.com/chongo/tech/comp/fnv/)."""
    h = 0x811C9DC5
    for byte in data:
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def _kmer_text(index: int, k: int) -> str:
    letters = []
    for _ in range(k):
        index, r = divmod(index, _SIZE)
        letters.append((ALPHABET + OTHER)[r])
    return "".join(reversed(letters))


class ProteinEmbedder:
    """Callable: ``embedder(sequence) -> np.ndarray`` (float32, unit length, ``dim`` values)."""

    def __init__(self, dim: int = DEFAULT_DIM) -> None:
        if dim < 1:
            raise ValueError(f"dim must be >= 1, got {dim}")
        self.dim = dim
        # Bucket and sign of every possible k-mer, computed once (21 + 441 + 9261 entries).
        self._bucket: dict[int, np.ndarray] = {}
        self._sign: dict[int, np.ndarray] = {}
        for k in K_WEIGHTS:
            hashes = np.array(
                [fnv1a_32(f"{k}:{_kmer_text(i, k)}".encode()) for i in range(_SIZE**k)],
                dtype=np.uint64,
            )
            self._bucket[k] = (hashes % dim).astype(np.int64)
            # The top bit decides the sign, so colliding k-mers tend to cancel, not pile up.
            self._sign[k] = np.where(hashes >> np.uint64(31), -1.0, 1.0)

    def __call__(self, sequence: str) -> np.ndarray:
        codes = _CODE[np.frombuffer(sequence.encode("ascii", "replace"), dtype=np.uint8)]
        out = np.zeros(self.dim, dtype=np.float64)
        for k, weight in K_WEIGHTS.items():
            if codes.size < k:
                continue
            index = np.zeros(codes.size - k + 1, dtype=np.int64)
            for j in range(k):
                index = index * _SIZE + codes[j : codes.size - k + 1 + j]
            profile = np.bincount(
                self._bucket[k][index], weights=self._sign[k][index], minlength=self.dim
            )
            norm = np.linalg.norm(profile)
            if norm > 0:
                out += weight * profile / norm
        norm = np.linalg.norm(out)
        return (out / norm if norm > 0 else out).astype(np.float32)

    def embed_many(self, sequences: Iterable[str]) -> np.ndarray:
        """A (n, dim) float32 matrix, one row per sequence."""
        rows = [self(s) for s in sequences]
        return np.vstack(rows) if rows else np.zeros((0, self.dim), dtype=np.float32)


def protein_embedder(dim: int = DEFAULT_DIM) -> Any:
    """A protein embedder in the batch form the embedder registry uses.

    Parameters
    ----------
    dim : int, default 320
        Values per embedding, at least 1.

    Returns
    -------
    callable
        ``fn(sequences) -> np.ndarray`` of shape (n, dim), float32, unit rows
        (deterministic: the same on every machine).

    Raises
    ------
    ValueError
        ``dim`` is below 1.

    Examples
    --------
    >>> x = protein_embedder()(["MKTAYIAKQR", "GSHMLE"])  # doctest: +SKIP
    >>> x.shape  # doctest: +SKIP
    (2, 320)
    """
    embedder = ProteinEmbedder(dim)

    def embed(sequences: Sequence[str]) -> np.ndarray:
        return embedder.embed_many(check_texts(sequences, "sequences"))

    return embed


_DEFAULT: ProteinEmbedder | None = None


def embed_protein(sequence: str, dim: int = DEFAULT_DIM) -> list[float]:
    """One sequence's embedding as a list (the shape the cookbook's ``embed`` returns).

    Parameters
    ----------
    sequence : str
        Amino-acid letters (case-insensitive; non-standard letters count as one
        "other" letter).
    dim : int, default 320
        Values in the embedding, at least 1.

    Returns
    -------
    list of float
        ``dim`` values, unit length (all zeros for an empty sequence).

    Raises
    ------
    ValueError
        ``dim`` is below 1.

    Examples
    --------
    >>> vec = embed_protein("MKTAYIAKQRQISFVKSHFSRQ")  # doctest: +SKIP
    """
    global _DEFAULT
    if _DEFAULT is None or _DEFAULT.dim != dim:
        _DEFAULT = ProteinEmbedder(dim)
    return [float(v) for v in _DEFAULT(sequence)]


def load_proteins(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a proteins TSV(.gz) (e.g. ``data/proteins.tsv.gz``) as dicts.

    Parameters
    ----------
    path : str or Path
        A tab-separated file with a header row; gzip-compressed when it ends in ``.gz``.

    Returns
    -------
    list of dict
        One dict per row, keyed by the header: ``length`` becomes an int; empty strings
        stay empty (= not available).

    Raises
    ------
    OSError
        The file cannot be read.

    Examples
    --------
    >>> rows = load_proteins("data/proteins.tsv.gz")  # doctest: +SKIP
    """
    return list(_read_rows(Path(path)))


def _read_rows(path: Path) -> Iterator[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            out: dict[str, Any] = dict(row)
            if out.get("length"):
                out["length"] = int(out["length"])
            yield out
