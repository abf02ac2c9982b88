"""Vectors to JSON: float lists (float32 first, as the store keeps them), checked by the
same function as in embedded mode (``eigenlake.vectors.as_numbers``), so booleans, strings,
objects and numbers too large for a float are refused here with the embedded message
instead of being read as numbers by ``np.asarray(..., float32)``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import ValidationError
from ..vectors import as_numbers, plain_block


def to_list(vector: Any, where: str = "vector") -> list[float]:
    """One vector as a list of floats; ``where`` starts the message of a refusal
    ("record 3", "query"). Values beyond float32 become infinities, which the server
    refuses as the embedded store does."""
    out: list[float] = as_numbers(vector, where).tolist()
    return out


def matrix_rows(matrix: np.ndarray) -> list[list[float]] | None:
    """The rows of a 2-D numeric array as float lists in one conversion, or None when its
    dtype is not a number (the caller checks each row then, for the message)."""
    if matrix.dtype.kind not in "fiu":
        return None
    with np.errstate(over="ignore", invalid="ignore"):  # overflow -> inf, refused later
        out: list[list[float]] = matrix.astype(np.float32, copy=False).tolist()
    return out


# Rows converted per call on the fast path of ``to_lists``, as the embedded
# ``stack_vectors`` does (bounded temporaries).
_BLOCK = 1024


def to_lists(
    vectors: Sequence[Any], positions: Sequence[int]
) -> list[list[float] | ValidationError]:
    """Each vector as ``to_list`` gives it, or the ``ValidationError`` refusing it (named
    "record <position>"); blocks of plain number lists are converted in one call."""
    out: list[list[float] | ValidationError] = []
    for start in range(0, len(vectors), _BLOCK):
        block = vectors[start : start + _BLOCK]
        arr = plain_block(block)  # the embedded stack_vectors' block conversion
        if arr is not None:
            with np.errstate(over="ignore", invalid="ignore"):  # overflow -> inf, refused later
                out += arr.astype(np.float32, copy=False).tolist()
            continue
        for j, v in enumerate(block, start):
            try:
                out.append(to_list(v, f"record {positions[j]}"))
            except ValidationError as e:
                out.append(e)
    return out
