"""Vector input: lists or NumPy arrays to C-contiguous float32, with the checks records need."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import ValidationError

# dtype kinds a vector may have: floats and (un)signed integers. Booleans, strings, bytes,
# objects, complex numbers and dates are refused, never converted: np.asarray(..., float32)
# would quietly read ["1", "2"] or [True, False] as numbers.
_NUMERIC_KINDS = "fiu"
_WHAT = {"b": "booleans", "U": "strings", "S": "bytes", "c": "complex numbers"}


def as_numbers(vector: Any, where: str = "vector") -> np.ndarray:
    """``vector`` (a list, tuple or NumPy array of numbers) as a 1-D float32 array, or a
    ``ValidationError`` saying what it holds instead. Values beyond float32's range become
    infinities, which ``bad_rows`` refuses."""
    if vector is None:
        raise ValidationError(f"{where}: vector is missing")
    given = isinstance(vector, np.ndarray)
    try:
        arr = vector if given else np.asarray(vector)
    except (TypeError, ValueError, OverflowError) as e:  # ragged lists, odd sequences
        raise ValidationError(f"{where}: vector is not a list of numbers ({e})") from None
    if arr.ndim != 1:
        if arr.ndim == 0:
            raise ValidationError(
                f"{where}: vector must be a list or array of numbers, got {type(vector).__name__}"
            )
        raise ValidationError(f"{where}: vector must be 1-D, got shape {arr.shape}")
    kind = arr.dtype.kind
    if kind == "O" and not given:
        arr = _from_objects(vector, where)  # e.g. ints too large for int64
    elif kind not in _NUMERIC_KINDS:
        what = _WHAT.get(kind, f"values of dtype {arr.dtype}")
        raise ValidationError(f"{where}: vector holds {what}; expected real numbers")
    elif not given and _has_zeros_or_ones(arr) and _holds_bools(vector):
        # NumPy reads True/False mixed with numbers as 1/0, so only a vector with a 0 or
        # a 1 can hold one; its element types are then read in one C loop
        i = next(i for i, x in enumerate(vector) if type(x) in _BOOL_TYPES)
        raise ValidationError(f"{where}: vector item {i} is a boolean, not a number")
    if arr.dtype == np.float32:
        return arr
    with np.errstate(over="ignore", invalid="ignore"):  # overflow -> inf, refused later
        return arr.astype(np.float32)


# bool and NumPy's bool_ cannot be subclassed: a type test finds every boolean
_BOOL_TYPES = frozenset((bool, np.bool_))


def _has_zeros_or_ones(arr: np.ndarray) -> bool:
    """Whether a 1-D numeric array holds an exact 0 or 1 (what NumPy makes of a boolean
    among numbers); the zero test short-cuts (~0.5 us at 384-d, a third of ``==``'s)."""
    return bool(np.count_nonzero(arr) < arr.size or (arr == 1).any())


def _holds_bools(values: Any) -> bool:
    """Whether a sequence holds a bool or ``np.bool_``: its types collected in a C loop
    (~14 ns an element), not a Python loop over its elements (~60 ns)."""
    return not _BOOL_TYPES.isdisjoint(set(map(type, values)))


def _from_objects(vector: Any, where: str) -> np.ndarray:
    for i, x in enumerate(vector):
        if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.number)):
            raise ValidationError(f"{where}: vector item {i} is {type(x).__name__}, not a number")
    try:
        return np.array(vector, dtype=np.float64)
    except OverflowError:  # a Python int past float64's ~1.8e308
        raise ValidationError(
            f"{where}: vector holds a number too large for a float (beyond float32's ±3.4e38)"
        ) from None


def as_vector(vector: Any, dimensions: int, where: str) -> np.ndarray:
    """One vector as a float32 array of length ``dimensions``."""
    arr = as_numbers(vector, where)
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
        if vectors.dtype.kind not in _NUMERIC_KINDS:
            what = _WHAT.get(vectors.dtype.kind, f"values of dtype {vectors.dtype}")
            raise ValidationError(f"vectors hold {what}; expected real numbers")
        if vectors.shape[1] != dimensions:
            raise ValidationError(
                f"vectors have {vectors.shape[1]} dimensions, the index has {dimensions}"
            )
        with np.errstate(over="ignore", invalid="ignore"):  # overflow -> inf, refused later
            if out is None:
                return np.ascontiguousarray(vectors, dtype=np.float32)
            out[:] = vectors
        return out
    if out is None:
        out = np.empty((len(vectors), dimensions), dtype=np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        for start in range(0, len(vectors), _BLOCK):
            block = vectors[start : start + _BLOCK]
            if not _fill_block(block, out[start : start + len(block)], dimensions):
                _fill_rows(block, out, start, dimensions)
    return out


# Rows converted per np.asarray call on the fast path: bounded temporaries (3 MB at 384-d).
_BLOCK = 1024


def plain_block(block: Sequence[Any] | np.ndarray) -> np.ndarray | None:
    """A block of lists (or tuples) of plain numbers as one 2-D numeric array (any
    numeric dtype: the caller casts it to float32), converted in one call, a third faster
    than row by row; None when anything needs the row-by-row check, which names the row
    and the problem: arrays (NumPy would quietly upcast a bool array), ragged rows,
    strings or other non-numbers, and booleans, which NumPy reads as 1/0 among numbers:
    only rows holding a 0 or a 1 can hold one, and only their element types are read.

    Shared by the embedded ``stack_vectors`` and the remote client's ``to_lists``."""
    if not all(type(v) is list or type(v) is tuple for v in block):
        return None
    try:
        arr = np.asarray(block)
    except (TypeError, ValueError, OverflowError):
        return None
    if arr.ndim != 2 or arr.dtype.kind not in _NUMERIC_KINDS:
        return None
    maybe = ((arr == 0) | (arr == 1)).any(axis=1)
    for r in np.flatnonzero(maybe).tolist():
        if _holds_bools(block[r]):
            return None
    return arr


def _fill_block(block: Sequence[Any] | np.ndarray, out: np.ndarray, dimensions: int) -> bool:
    """``plain_block`` written into ``out``; False when the rows need ``_fill_rows``."""
    arr = plain_block(block)
    if arr is None or arr.shape[1] != dimensions:
        return False
    out[:] = arr
    return True


def _fill_rows(
    block: Sequence[Any] | np.ndarray, out: np.ndarray, start: int, dimensions: int
) -> None:
    for i, v in enumerate(block, start):
        if (
            isinstance(v, np.ndarray)
            and v.shape == (dimensions,)
            and v.dtype.kind in _NUMERIC_KINDS
        ):
            out[i] = v  # fast path: no per-element Python work
        else:
            out[i] = as_vector(v, dimensions, f"record {i}")


NOT_FINITE = "vector contains NaN or infinity (or a number beyond float32's ±3.4e38)"
ZERO_ROW = "vector is all zeros (no direction for a cosine index)"


def bad_rows(matrix: np.ndarray, cosine: bool) -> dict[int, str]:
    """Rows that cannot be stored, with the reason: non-finite values, or zero norm (cosine)."""
    problems: dict[int, str] = {}
    for start in range(0, len(matrix), 8192):  # row blocks keep the bool temporaries small
        block = matrix[start : start + 8192]
        finite = np.isfinite(block).all(axis=1)
        for i in np.flatnonzero(~finite).tolist():
            problems[start + i] = NOT_FINITE
        if cosine:
            zero = ~np.any(block != 0, axis=1) & finite
            for i in np.flatnonzero(zero).tolist():
                problems[start + i] = ZERO_ROW
    return problems


# native-order float32: NumPy hands out this one dtype object for it (a ">f4" array's is another)
_F32 = np.dtype(np.float32)


def query_row(vector: Any, dimensions: int, cosine: bool) -> np.ndarray:
    """A query as a C-contiguous (1, d) float32 row, unit length for cosine; a bad one
    raises. The row is made by the core (``_core.query_row``), the one definition every
    search path and cursor shares: a cursor holds a hash of these bytes."""
    if type(vector) is np.ndarray and vector.dtype is _F32 and vector.shape == (dimensions,):
        vec = vector  # what as_vector returns for it, without its checks' ~0.5 us
    else:
        vec = as_vector(vector, dimensions, "query")
    from . import _core  # here: a remote client loads no core

    row: np.ndarray | None = _core.query_row(vec, cosine)
    if row is None:  # a non-finite value, or only zeros on a cosine index
        for problem in bad_rows(vec.reshape(1, -1), cosine).values():
            raise ValidationError(f"query: {problem}")
        raise ValidationError("query: not a valid query vector")  # bad_rows names them all
    return row


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
