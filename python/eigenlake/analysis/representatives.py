"""Per-cluster centres, member distances and representatives (members nearest the centre)."""

from __future__ import annotations

import numpy as np


def relabel_by_size(labels: np.ndarray) -> np.ndarray:
    """Renumber clusters 0..m-1 by size (largest first; ties: earliest first member).

    Noise (-1) stays -1 and empty k-means clusters vanish, so ids are dense, deterministic
    for a given input and independent of the algorithm's internal numbering.
    """
    labels = np.asarray(labels, dtype=np.int64)
    kept = labels >= 0
    if not kept.any():
        return labels.copy()
    ids, first, counts = np.unique(labels[kept], return_index=True, return_counts=True)
    order = np.lexsort((first, -counts))
    mapping = np.full(int(ids.max()) + 1, -1, dtype=np.int64)
    mapping[ids[order]] = np.arange(ids.size, dtype=np.int64)
    out = np.full_like(labels, -1)
    out[kept] = mapping[labels[kept]]
    return out


def distances_to(x: np.ndarray, centre: np.ndarray, metric: str) -> np.ndarray:
    """Distance of each row of ``x`` to ``centre``: ``1 - cos`` or euclidean."""
    if metric == "cosine":
        cn = centre / (np.linalg.norm(centre) or 1.0)
        norms = np.linalg.norm(x, axis=1)
        norms[norms == 0] = 1.0
        return (1.0 - (x @ cn) / norms).astype(np.float64)
    return np.linalg.norm(x - centre, axis=1).astype(np.float64)


def cluster_members(
    x: np.ndarray, labels: np.ndarray, n_clusters: int, metric: str
) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each cluster id 0..n_clusters-1: (row ids sorted nearest-first, their distances).

    The centre is the members' mean: for spherical k-means it points the same way as the
    centroid (so cosine distances agree), for euclidean k-means it is the centroid, and for
    DBSCAN it is the cluster mean the contract asks for. Ties keep row order (stable sort).
    """
    out = []
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(n_clusters + 1))
    for c in range(n_clusters):
        rows = order[bounds[c] : bounds[c + 1]]
        members = x[rows].astype(np.float64)
        d = distances_to(members, members.mean(axis=0), metric)
        nearest = np.argsort(d, kind="stable")
        out.append((rows[nearest], d[nearest]))
    return out
