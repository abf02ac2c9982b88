"""Nearest-neighbour kernels for the embedded index: exact scan and the HNSW graph.

Both come from ``eigenlake._core``. The graph stores links over cache row ids; it is saved
to the index directory with the sequence numbers of the rows it covers, so a reopened cache
can lay its rows out the same way (placeholders for records deleted since) and only add
the rows that came after.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from typing import Any

import numpy as np

from .. import _core

HNSW_META = "hnsw.json"
SAVE_GROWTH = 0.05  # save again once the graph grew by this fraction


def has_hnsw() -> bool:
    return hasattr(_core, "Hnsw")


def exact_topk(
    data: np.ndarray, queries: np.ndarray, k: int, metric: str, mask: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """``_core.flat_topk``: best-first ids (-1 padded) and ip / squared-l2 scores."""
    ids, scores = _core.flat_topk(data, queries, k, metric, mask)
    return np.asarray(ids), np.asarray(scores)


class AnnState:
    """An HNSW graph over the first ``len(graph)`` cache rows, grown as rows are appended."""

    def __init__(self, dim: int, metric: str, graph: Any = None, saved_rows: int = 0) -> None:
        self.graph: Any = graph if graph is not None else _core.Hnsw(dim, metric)
        self.saved_rows = saved_rows

    def catch_up(self, data: np.ndarray, alive: np.ndarray) -> None:
        covered = len(self.graph)
        if covered < len(data):
            self.graph.add(data, covered)
            for row in np.flatnonzero(~alive[covered:]).tolist():
                self.graph.mark_deleted(covered + row)

    def search(
        self, data: np.ndarray, query: np.ndarray, k: int, mask: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        ef = max(64, 2 * k)
        ids, scores = self.graph.search(data, query, k, ef, mask)
        return np.asarray(ids), np.asarray(scores)

    def maybe_save(self, directory: str, seqs: np.ndarray) -> None:
        rows = len(self.graph)
        if rows - self.saved_rows > max(1, int(SAVE_GROWTH * rows)):
            save_graph(directory, self.graph, seqs[:rows])
            self.saved_rows = rows


def save_graph(directory: str, graph: Any, seqs: np.ndarray) -> None:
    """Write links and covered seqs under a fresh token, then switch ``hnsw.json`` to it
    atomically (a concurrent reader sees the old pair or the new pair, never a mix)."""
    token = uuid.uuid4().hex
    graph.save(os.path.join(directory, f"hnsw-{token}.bin"))
    np.save(os.path.join(directory, f"hnsw-{token}.npy"), np.asarray(seqs, dtype=np.int64))
    tmp = os.path.join(directory, f"{HNSW_META}.{token}")
    with open(tmp, "w") as f:
        json.dump({"token": token, "rows": len(seqs)}, f)
    os.replace(tmp, os.path.join(directory, HNSW_META))
    for name in os.listdir(directory):
        if name.startswith("hnsw-") and token not in name:
            with contextlib.suppress(OSError):
                os.remove(os.path.join(directory, name))


def load_graph(directory: str, dim: int) -> tuple[Any, np.ndarray] | None:
    """(graph, covered seqs) when a usable saved graph exists, else None."""
    if not has_hnsw():
        return None
    try:
        with open(os.path.join(directory, HNSW_META)) as f:
            meta = json.load(f)
        token = meta["token"]
        graph = _core.Hnsw.load(os.path.join(directory, f"hnsw-{token}.bin"))
        seqs = np.load(os.path.join(directory, f"hnsw-{token}.npy"))
    except (OSError, ValueError, KeyError, RuntimeError):
        return None  # missing, half-replaced by another process, or unreadable: rebuild
    if len(graph) != len(seqs) or graph.dim != dim or meta.get("rows") != len(seqs):
        return None
    if len(seqs) > 1 and not bool(np.all(seqs[1:] > seqs[:-1])):
        return None
    return graph, seqs
