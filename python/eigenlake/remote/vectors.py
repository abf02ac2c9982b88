"""Vectors to JSON: NumPy arrays become float lists (float32 first, as the store keeps them)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..errors import ValidationError


def to_list(vector: Any) -> list[float]:
    if vector is None:
        raise ValidationError("vector is required")
    try:
        arr = np.asarray(vector, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"vector is not numeric: {exc}") from exc
    if arr.ndim != 1:
        raise ValidationError(f"vector must be 1-D, got shape {arr.shape}")
    out: list[float] = arr.tolist()
    return out


def rows(vectors: Any) -> Iterable[Any]:
    """Iterate a 2-D array's rows, or any iterable of records/vectors as given."""
    if isinstance(vectors, np.ndarray):
        if vectors.ndim != 2:
            raise ValidationError(f"a batch of vectors must be 2-D, got shape {vectors.shape}")
        return iter(vectors)
    return iter(vectors)
