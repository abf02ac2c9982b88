"""Vector input: lists or NumPy arrays to C-contiguous float32, with the checks records need."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import ValidationError


def as_vector(vector: Any, dimensions: int, where: str) -> np.ndarray:
    """One vector as a float32 array of length ``dimensions``."""
    if vector is None:
        raise ValidationError(f"{where}: vector is missing")
    try:
        arr = np.asarray(vector, dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise ValidationError(f"{where}: vector is not numeric ({e})") from None
    if arr.ndim != 1:
        raise ValidationError(f"{where}: vector must be 1-D, got shape {arr.shape}")
    if arr.shape[0] != dimensions:
        raise ValidationError(
            f"{where}: vector has {arr.shape[0]} dimensions, the index has {dimensions}"
        )
    return arr


def stack_vectors(
    vectors: Sequence[Any] | np.ndarray, dimensions: int, out: np.ndarray | None = None
) -> np.ndarray:
    """A batch as a (n, d) float32 matrix (written into ``out`` when given); a bad row
    raises naming its position."""
    if isinstance(vectors, np.ndarray) and vectors.ndim == 2:
        if vectors.shape[1] != dimensions:
            raise ValidationError(
                f"vectors have {vectors.shape[1]} dimensions, the index has {dimensions}"
            )
        if out is None:
            return np.ascontiguousarray(vectors, dtype=np.float32)
        out[:] = vectors
        return out
    if out is None:
        out = np.empty((len(vectors), dimensions), dtype=np.float32)
    for i, v in enumerate(vectors):
        if isinstance(v, np.ndarray) and v.shape == (dimensions,):
            out[i] = v  # fast path: no per-element Python work
        else:
            out[i] = as_vector(v, dimensions, f"record {i}")
    return out


def bad_rows(matrix: np.ndarray, cosine: bool) -> dict[int, str]:
    """Rows that cannot be stored, with the reason: non-finite values, or zero norm (cosine)."""
    problems: dict[int, str] = {}
    for start in range(0, len(matrix), 8192):  # row blocks keep the bool temporaries small
        block = matrix[start : start + 8192]
        finite = np.isfinite(block).all(axis=1)
        for i in np.flatnonzero(~finite).tolist():
            problems[start + i] = "vector contains NaN or infinity"
        if cosine:
            zero = ~np.any(block != 0, axis=1) & finite
            for i in np.flatnonzero(zero).tolist():
                problems[start + i] = "vector is all zeros (no direction for a cosine index)"
    return problems


def query_row(vector: Any, dimensions: int, cosine: bool) -> np.ndarray:
    """A query as a C-contiguous (1, d) float32 row, unit length for cosine; a bad one
    raises. One dot product screens it: a non-finite (or overflowing) value or a zero
    vector gives a non-finite or zero square norm, and only then is it checked in full."""
    vec = as_vector(vector, dimensions, "query")
    sq = float(np.vdot(vec, vec))  # vdot, unlike dot, does not warn when it overflows
    if not (math.isfinite(sq) and sq > 0.0):
        row = vec.reshape(1, -1)
        for problem in bad_rows(row, cosine).values():
            raise ValidationError(f"query: {problem}")
        return normalise_rows(row) if cosine else np.ascontiguousarray(row)
    if cosine:
        vec = vec / math.sqrt(sq)  # float32 still; a new array, the caller's is untouched
    elif not vec.flags.c_contiguous:
        vec = vec.copy()
    return vec.reshape(1, -1)


def normalise_rows(matrix: np.ndarray) -> np.ndarray:
    """Unit-length rows (float32; zero rows stay zero). Norms are summed in float64, where
    the squares of any finite float32 fit (in float32, values past ~1e19 overflow)."""
    norms = np.sqrt(np.einsum("ij,ij->i", matrix, matrix, dtype=np.float64))
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(matrix / norms[:, None], dtype=np.float32)


def normalise_in_place(matrix: np.ndarray) -> None:
    """Scale float32 rows to unit length in place, in row blocks (bounded temporaries)."""
    for i in range(0, len(matrix), 8192):
        block = matrix[i : i + 8192]
        norms = np.sqrt(np.einsum("ij,ij->i", block, block, dtype=np.float64))
        norms[norms == 0] = 1.0
        block /= norms[:, None].astype(np.float32)
