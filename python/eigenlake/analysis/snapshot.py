"""The rows an analysis runs over: what `Index.snapshot(filter, limit)` returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Snapshot:
    """Filtered rows of one index, gathered once for an analysis.

    ``vectors`` is a C-contiguous float32 (n, d) array; rows are unit length when the
    index metric is cosine. ``metadata[i]`` is the properties dict of ``uuids[i]``.
    ``matched``: how many records matched the filter before ``limit`` cut them (None: not
    counted, i.e. the rows are all of them).
    """

    uuids: list[str]
    vectors: np.ndarray
    metadata: list[dict[str, Any]]
    metric: str = "cosine"
    schema: dict[str, Any] = field(default_factory=dict)
    matched: int | None = None

    def __len__(self) -> int:
        return len(self.uuids)
