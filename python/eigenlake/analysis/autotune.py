"""Automatic choices: k for k-means by silhouette; eps for DBSCAN from the k-distance curve."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _core
from .cancel import check as check_cancelled

# The euclidean silhouette is O(n^2 d); above this many rows it is estimated on a seeded
# sample of this size (the sampled estimate's error is ~0.01 at this size, well below the
# gaps between good ks). The cosine silhouette is exact at every size: the mean distance
# from x to a cluster is 1 - x·(mean of its unit rows), O(n·k·d) in all (`_core.silhouette`).
SILHOUETTE_SAMPLE_SIZE = 2000


def silhouette(
    x: np.ndarray, labels: np.ndarray, metric: str, seed: int
) -> tuple[float | None, int | None]:
    """(mean silhouette, sample size used or None when exact); None when undefined.

    Undefined when fewer than 2 or more than n-1 distinct labels are present.
    """
    n = len(labels)
    n_labels = _distinct(labels)
    if n < 3 or not 2 <= n_labels <= n - 1:
        return None, None
    sampled = metric == "euclidean" and n > SILHOUETTE_SAMPLE_SIZE
    sample = SILHOUETTE_SAMPLE_SIZE if sampled else None
    score = _core.silhouette(
        x, np.ascontiguousarray(labels, dtype=np.int64), metric, sample_size=sample, seed=seed
    )
    return float(score), sample


def _distinct(labels: np.ndarray) -> int:
    """How many distinct values ``labels`` holds: a count per value when they are integers
    of a range not much wider than the array (O(n), where ``np.unique`` sorts)."""
    labels = np.asarray(labels)
    if labels.size == 0:
        return 0
    if labels.dtype.kind in "iu":
        lo, hi = int(labels.min()), int(labels.max())
        if hi - lo <= 4 * labels.size:
            return int(np.count_nonzero(np.bincount((labels - lo).astype(np.intp, copy=False))))
    return int(np.unique(labels).size)


def kmeans(
    x: np.ndarray, k: int, metric: str, max_iterations: int, seed: int
) -> tuple[np.ndarray, int]:
    """(labels, iterations) of (spherical, for cosine) k-means."""
    labels, _centroids, _inertia, iterations = _core.kmeans(
        x, k, max_iter=max_iterations, seed=seed, spherical=metric == "cosine"
    )
    return np.asarray(labels, dtype=np.int64), int(iterations)


def pick_k(
    x: np.ndarray, ks: range, metric: str, max_iterations: int, seed: int
) -> tuple[int, np.ndarray, int, list[dict[str, Any]], int | None]:
    """Run k-means for every k in ``ks``; keep the best silhouette (ties: the smaller k).
    Stops with ``cancel.Cancelled`` before the next k once the caller's token is set.

    Returns (k, labels, iterations, scores, silhouette sample size).
    """
    best: tuple[float, int, np.ndarray, int] | None = None
    scores: list[dict[str, Any]] = []
    sample: int | None = None
    for k in ks:
        check_cancelled()  # a safe point between ks: the caller may have gone
        labels, iterations = kmeans(x, k, metric, max_iterations, seed)
        score, sample = silhouette(x, labels, metric, seed)
        scores.append({"num_clusters": k, "silhouette": score})
        if score is not None and (best is None or score > best[0]):
            best = (score, k, labels, iterations)
    if best is None:  # no k gave a defined silhouette (e.g. all rows identical)
        k = ks[0]
        labels, iterations = kmeans(x, k, metric, max_iterations, seed)
        return k, labels, iterations, scores, sample
    return best[1], best[2], best[3], scores, sample


def knee_eps(x: np.ndarray, min_samples: int, metric: str) -> tuple[float, dict[str, float]]:
    """eps at the knee of the sorted k-distance curve, k = min_samples (self included), and
    the curve's quantiles (so a user can see where to set eps when the knee is unclear).

    A row is a DBSCAN core point exactly when its min_samples-th distance (itself first)
    is <= eps, so the knee separates dense rows from the sparse tail.
    """
    return _knee_of(sorted_kdist(x, min_samples, metric))


def sorted_kdist(x: np.ndarray, min_samples: int, metric: str) -> np.ndarray:
    """Each row's distance to its ``min_samples``-th neighbour (itself first), ascending."""
    return np.sort(np.asarray(_core.kdist(x, min_samples, metric), dtype=np.float32))


def _knee_of(kd: np.ndarray) -> tuple[float, dict[str, float]]:
    eps = float(kd[int(_core.knee(np.ascontiguousarray(kd)))])
    if eps <= 0.0:  # duplicates at the knee: the smallest positive distance still groups them
        positive = kd[kd > 0]
        eps = float(positive[0]) if positive.size else 1e-6
    levels = (10, 25, 50, 75, 90)
    quantiles = np.percentile(kd, levels)
    return eps, {f"p{q}": round(float(v), 6) for q, v in zip(levels, quantiles, strict=True)}


# Candidate eps values: the knee plus these quantiles of the k-distance curve.
EPS_QUANTILES = (30, 40, 50, 60, 70)
# The answer carries the k-distance curve at most this many points long: evenly spaced ranks
# of the sorted curve, first and last included (a plot has no more pixels than that, and 10^5
# rows would otherwise add ~1 MB of JSON); exact up to this many rows.
K_DISTANCE_POINTS = 1000


def k_distance_curve(kd: np.ndarray, k: int) -> dict[str, Any]:
    """The sorted k-distance curve as the answer reports it: ``{"k", "num_records", "rank",
    "distance"}``, ``rank[i]`` the 0-based position of ``distance[i]`` in the sorted curve."""
    n = len(kd)
    ranks = np.unique(np.linspace(0, n - 1, min(n, K_DISTANCE_POINTS)).round().astype(np.int64))
    return {
        "k": k,
        "num_records": n,
        "rank": ranks.tolist(),
        "distance": [round(float(v), 6) for v in kd[ranks]],
    }


def auto_eps(
    x: np.ndarray, min_samples: int, metric: str, seed: int
) -> tuple[float, dict[str, float], list[dict[str, Any]]]:
    """eps for DBSCAN: the candidate from the k-distance curve with the best
    silhouette (over clustered rows) x coverage (share of rows not noise).

    The knee alone fails on curves without a clear elbow (it lands at the background
    distance and merges everything); silhouette alone prefers tiny dense cores with most
    rows left as noise. Their product favours eps that separates groups and still covers
    the data. Every candidate is a point of the curve, so DBSCAN's core test is exact at it.
    Returns (eps, curve quantiles, the scored candidates).
    """
    return eps_from_curve(x, sorted_kdist(x, min_samples, metric), min_samples, metric, seed)


def eps_from_curve(
    x: np.ndarray, kd: np.ndarray, min_samples: int, metric: str, seed: int
) -> tuple[float, dict[str, float], list[dict[str, Any]]]:
    """``auto_eps`` on a k-distance curve already computed (``sorted_kdist``), so a caller
    that also reports the curve computes it once."""
    knee, quantiles = _knee_of(kd)
    picks = {float(kd[(q * (len(kd) - 1)) // 100]) for q in EPS_QUANTILES} | {knee}
    scored: list[dict[str, Any]] = []
    best: tuple[float, float] | None = None
    for eps in sorted(e for e in picks if e > 0):
        check_cancelled()  # a safe point between candidates
        labels = np.asarray(_core.dbscan(x, eps, min_samples, metric)[0], dtype=np.int64)
        kept = labels >= 0
        coverage = float(kept.mean()) if len(labels) else 0.0
        sil, _ = silhouette(np.ascontiguousarray(x[kept]), labels[kept], metric, seed)
        score = None if sil is None else sil * coverage
        scored.append(
            {
                "eps": round(eps, 6),
                "num_clusters": int(labels.max() + 1) if kept.any() else 0,
                "noise_fraction": round(1.0 - coverage, 4),
                "silhouette": sil,
                "score": score,
            }
        )
        if score is not None and (best is None or score > best[0]):
            best = (score, eps)
    return (knee if best is None else best[1]), quantiles, scored
