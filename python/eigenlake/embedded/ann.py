"""Nearest-neighbour kernels for the embedded index: exact scan and the HNSW graph.

Both come from ``eigenlake._core``; until the compiled search module is present a NumPy
scan stands in for ``flat_topk`` (same contract), and HNSW is not used.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from .. import _core

HNSW_FILE = "hnsw.bin"
HNSW_META = "hnsw.json"


def has_hnsw() -> bool:
    return hasattr(_core, "Hnsw")


def exact_topk(
    data: np.ndarray, queries: np.ndarray, k: int, metric: str, mask: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """``_core.flat_topk`` contract: best-first ids (-1 padded) and ip / squared-l2 scores."""
    kernel = getattr(_core, "flat_topk", None)
    if kernel is not None:
        ids, scores = kernel(data, queries, k, metric, mask)
        return np.asarray(ids), np.asarray(scores)
    return _numpy_topk(data, queries, k, metric, mask)


def _numpy_topk(
    data: np.ndarray, queries: np.ndarray, k: int, metric: str, mask: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    q, n = len(queries), len(data)
    ids = np.full((q, k), -1, dtype=np.int64)
    scores = np.zeros((q, k), dtype=np.float32)
    if n == 0:
        return ids, scores
    if metric == "ip":
        s = queries @ data.T
        order_key = -s
    else:
        s = ((queries[:, None, :] - data[None, :, :]) ** 2).sum(axis=2)
        order_key = s
    if mask is not None:
        order_key = np.where(mask[None, :], order_key, np.inf)
    for i in range(q):
        order = np.argsort(order_key[i], kind="stable")[:k]
        order = order[np.isfinite(order_key[i][order])]
        ids[i, : len(order)] = order
        scores[i, : len(order)] = s[i][order]
    return ids, scores


class AnnState:
    """An HNSW graph over the first ``len(graph)`` cache rows, grown as rows are appended."""

    def __init__(self, dim: int, metric: str) -> None:
        self.graph: Any = _core.Hnsw(dim, metric)  # type: ignore[attr-defined,unused-ignore]

    def catch_up(self, data: np.ndarray) -> None:
        covered = len(self.graph)
        if covered < len(data):
            self.graph.add(data, covered)

    def search(
        self, data: np.ndarray, query: np.ndarray, k: int, mask: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        ef = max(64, 2 * k)
        ids, scores = self.graph.search(data, query, k, ef, mask)
        return np.asarray(ids), np.asarray(scores)

    def save(self, directory: str, seqs: np.ndarray) -> None:
        """Links plus the sequence numbers of the rows they cover (rows are rebuilt on open)."""
        tmp = os.path.join(directory, HNSW_FILE + ".tmp")
        self.graph.save(tmp)
        np.save(os.path.join(directory, "hnsw_seqs.npy"), seqs[: len(self.graph)])
        os.replace(tmp, os.path.join(directory, HNSW_FILE))
        with open(os.path.join(directory, HNSW_META), "w") as f:
            json.dump({"rows": len(self.graph)}, f)
