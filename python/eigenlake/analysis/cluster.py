"""``search.cluster``: k-means (spherical for cosine) or DBSCAN over a snapshot.

Decisions (see the API contract for the shape):
- clusters are sorted by size, largest first, and ``cluster_id`` is that rank (0, 1, ...);
  ties go to the cluster whose first member comes first, so ids are deterministic per seed.
- k-means without ``num_clusters`` and without ``auto_tune`` uses ``DEFAULT_NUM_CLUSTERS``
  (8, scikit-learn's default); any k is capped at the number of rows.
- ``num_clusters`` is at most ``MAX_NUM_CLUSTERS`` (10,000); larger values are refused.
- ``auto_tune`` tries every k in [min_clusters, max_clusters] (capped at n-1) and keeps the
  best silhouette. ``max_clusters`` (and so ``min_clusters``) is at most
  ``MAX_AUTO_TUNE_CLUSTERS`` (256): the cost grows with its square, so larger values are
  refused rather than run for hours. Cosine silhouettes are exact at every size (O(n·k·d)
  from cluster sums); euclidean ones (O(n^2·d)) are estimated on a seeded sample of
  ``autotune.SILHOUETTE_SAMPLE_SIZE`` rows above that many (``silhouette_sample_size``,
  None when exact).
- DBSCAN without ``dbscan_eps`` tries candidates from the sorted k-distance curve (its knee
  and quantiles; k = ``dbscan_min_samples``, the row itself counted, as in DBSCAN's core-point
  test) and keeps the best silhouette x coverage (see ``autotune.auto_eps``).
- ``filter`` and ``limit`` are applied by the caller when it takes the snapshot
  (``Index.snapshot``); ``limit`` is re-applied here so a larger snapshot is cut the same way.
- ``projection``: a 2-D PCA of the analysed vectors, so an answer can be drawn in every mode
  without the vectors (``ClusterResult.plot``): at most ``PROJECTION_MAX_POINTS`` points,
  sampled per cluster (every cluster keeps some), plus each representative; coordinates to
  about three significant digits. DBSCAN with auto eps also reports its k-distance curve.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _core
from ..errors import ValidationError
from . import autotune
from ._params import (
    MAX_AUTO_TUNE_CLUSTERS,
    MAX_NUM_CLUSTERS,
    METRICS,
    check_bool,
    check_choice,
    check_int,
    check_positive_float,
    check_text_fields,
)
from .ctfidf import top_keywords
from .representatives import PICK_BY_CLUSTER, Groups, group, relabel_by_size
from .snapshot import Snapshot
from .vectorizer import Vectorizer, make_vectorizer

DEFAULT_NUM_CLUSTERS = 8
AUTO_EPS_SOURCE = "auto: best silhouette x coverage among k-distance candidates"
SUMMARY_WORDS = 5
KEYWORDS_PER_CLUSTER = 10
# Points of the 2-D projection an answer carries: ~35 KB of JSON at most, enough to see the
# shape of every cluster (more only hides the points behind each other).
PROJECTION_MAX_POINTS = 2000
# Each cluster (and the noise) keeps at least this many points, so small clusters show.
PROJECTION_MIN_PER_CLUSTER = 10


def run_cluster(
    snapshot: Snapshot,
    *,
    algorithm: str = "kmeans",
    num_clusters: int | None = None,
    distance_metric: str = "cosine",
    text_fields: list[str] | str | None = None,
    max_iterations: int = 50,
    representatives_per_cluster: int = 3,
    auto_tune: bool = False,
    min_clusters: int = 2,
    max_clusters: int = 8,
    dbscan_eps: float | None = None,
    dbscan_min_samples: int = 5,
    filter: dict[str, Any] | None = None,
    limit: int | None = None,
    seed: int = 0,
    top_words: int = KEYWORDS_PER_CLUSTER,
    bigrams: bool = False,
    vectorizer: Any = None,
    with_projection: bool = True,
) -> dict[str, Any]:
    """Cluster the snapshot's vectors; the result of ``index.search.cluster``.

    ``top_words``, ``bigrams`` and ``vectorizer`` (see ``analysis/vectorizer.py``) shape
    the c-TF-IDF keywords of each cluster. ``with_projection=False`` (internal: the topics
    answer has no projection) leaves the ``projection`` key out instead of computing it.
    """
    algorithm = check_choice("algorithm", algorithm, ("kmeans", "dbscan"))
    metric = check_choice("distance_metric", distance_metric, METRICS)
    k_requested = check_int(
        "num_clusters",
        num_clusters,
        minimum=1,
        maximum=MAX_NUM_CLUSTERS,
        why=" (MAX_NUM_CLUSTERS)",
        optional=True,
    )
    max_iterations = check_int("max_iterations", max_iterations, minimum=1) or 1
    n_reps = check_int("representatives_per_cluster", representatives_per_cluster, minimum=0) or 0
    auto_tune = check_bool("auto_tune", auto_tune)
    # checked with or without auto_tune: the same call must not turn invalid with a flag
    min_k = _tune_bound("min_clusters", min_clusters)
    max_k = _tune_bound("max_clusters", max_clusters)
    if max_k < min_k:
        raise ValidationError(f"max_clusters ({max_k}) must be >= min_clusters ({min_k})")
    eps = check_positive_float("dbscan_eps", dbscan_eps, optional=True)
    min_samples = check_int("dbscan_min_samples", dbscan_min_samples, minimum=1) or 1
    fields = check_text_fields(text_fields)
    limit = check_int("limit", limit, minimum=1, optional=True)
    seed = check_int("seed", seed, minimum=0) or 0
    top_words = check_int("top_words", top_words, minimum=1) or 1
    vec = make_vectorizer(vectorizer, bigrams=check_bool("bigrams", bigrams))

    x = _rows(snapshot, limit)
    n = len(x)
    params: dict[str, Any] = {
        "algorithm": algorithm,
        "distance_metric": metric,
        "num_records": n,
        "representatives_per_cluster": n_reps,
        "text_fields": fields,
        "seed": seed,
    }
    silhouette: float | None = None
    if algorithm == "kmeans":
        params.update(
            max_iterations=max_iterations,
            auto_tune=auto_tune,
            min_clusters=min_k,
            max_clusters=max_k,
            num_clusters_requested=k_requested,
        )
        labels, silhouette = _kmeans(
            x, k_requested, auto_tune, min_k, max_k, metric, max_iterations, seed, params
        )
    else:
        labels = _dbscan(x, eps, min_samples, metric, seed, params)
        core = labels >= 0
        silhouette, sample = autotune.silhouette(x[core], labels[core], metric, seed)
        params["silhouette_sample_size"] = sample

    labels = relabel_by_size(labels)
    n_clusters = int(labels.max()) + 1 if n and labels.max() >= 0 else 0
    params["num_clusters"] = n_clusters
    groups = group(x, labels, n_clusters, metric)
    clusters, rep_rows = _describe(
        snapshot, groups, labels, n_clusters, n_reps, fields, top_words, vec
    )
    answer = {
        "clusters": clusters,
        "noise_count": int(groups.bounds[1]),
        "silhouette": silhouette,
        "parameters": params,
    }
    if with_projection:
        answer["projection"] = projection(x, labels, rep_rows, seed, groups)
    return answer


def _tune_bound(name: str, value: Any) -> int:
    why = " (MAX_AUTO_TUNE_CLUSTERS: auto_tune runs k-means once per k up to it)"
    return check_int(name, value, minimum=2, maximum=MAX_AUTO_TUNE_CLUSTERS, why=why) or 2


def _rows(snapshot: Snapshot, limit: int | None) -> np.ndarray:
    """The vectors of the first ``limit`` rows: a view of the snapshot's, no copy (their
    uuids are read only where the answer lists them)."""
    n = len(snapshot) if limit is None else min(limit, len(snapshot))
    x = np.asarray(snapshot.vectors, dtype=np.float32)
    if x.ndim != 2 and n:
        raise ValidationError(f"snapshot vectors must be a 2-D array, got shape {x.shape}")
    return (
        np.ascontiguousarray(x[:n])
        if n
        else np.zeros((0, x.shape[-1] if x.ndim == 2 else 0), np.float32)
    )


def _kmeans(
    x: np.ndarray,
    k_requested: int | None,
    auto_tune: bool,
    min_k: int,
    max_k: int,
    metric: str,
    max_iterations: int,
    seed: int,
    params: dict[str, Any],
) -> tuple[np.ndarray, float | None]:
    n = len(x)
    params.update(scores=[], silhouette_sample_size=None, iterations=0)
    if n == 0:
        return np.zeros(0, dtype=np.int64), None
    if auto_tune and n >= 3:
        ks = range(min(min_k, n - 1), min(max_k, n - 1) + 1)
        k, labels, iterations, scores, sample = autotune.pick_k(x, ks, metric, max_iterations, seed)
        params.update(scores=scores, silhouette_sample_size=sample, iterations=iterations)
        best = [s["silhouette"] for s in scores if s["num_clusters"] == k]
        return labels, best[0] if best else None
    # With auto_tune and 1-2 rows there is nothing to tune.
    k = min(min_k, n) if auto_tune else min(k_requested or DEFAULT_NUM_CLUSTERS, n)
    labels, iterations = autotune.kmeans(x, k, metric, max_iterations, seed)
    score, sample = autotune.silhouette(x, labels, metric, seed)
    params.update(silhouette_sample_size=sample, iterations=iterations)
    return labels, score


def _dbscan(
    x: np.ndarray,
    eps: float | None,
    min_samples: int,
    metric: str,
    seed: int,
    params: dict[str, Any],
) -> np.ndarray:
    params.update(dbscan_min_samples=min_samples, dbscan_eps=eps, dbscan_eps_source="given")
    n = len(x)
    if eps is None:
        if n < min_samples:  # no row can have min_samples neighbours: all noise
            params.update(dbscan_eps=None, dbscan_eps_source="none (fewer rows than min_samples)")
            return np.full(n, -1, dtype=np.int64)
        kd = autotune.sorted_kdist(x, min_samples, metric)
        eps, quantiles, candidates = autotune.eps_from_curve(x, kd, min_samples, metric, seed)
        params.update(
            dbscan_eps=eps,
            dbscan_eps_source=AUTO_EPS_SOURCE,
            k_distance_quantiles=quantiles,
            dbscan_eps_candidates=candidates,
            # the curve the candidates come from (not computed when eps is given: it costs
            # about one more DBSCAN run)
            k_distance=autotune.k_distance_curve(kd, min_samples),
        )
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    labels, _core_mask = _core.dbscan(x, eps, min_samples, metric)
    return np.asarray(labels, dtype=np.int64)


def _describe(
    snapshot: Snapshot,
    groups: Groups,
    labels: np.ndarray,
    n_clusters: int,
    n_reps: int,
    fields: list[str] | None,
    top_words: int,
    vec: Vectorizer,
) -> tuple[list[dict[str, Any]], list[np.ndarray]]:
    """The clusters of the answer, and the rows of each one's representatives.

    Built from arrays: the members' ``{"uuid"}`` dicts by the core in one pass over the
    grouped rows (``member_lists``), properties read only for the representatives, text only
    of ``fields``."""
    n = len(labels)
    keywords: dict[int, list[tuple[str, float]]] = {}
    if fields and n_clusters:
        texts = snapshot.texts(fields)
        keywords = top_keywords(
            texts if len(texts) == n else texts[:n],
            labels.tolist(),
            range(n_clusters),
            top_n=top_words,
            vectorizer=vec,
        )
    bounds = groups.bounds.tolist()
    members = member_lists(snapshot, groups)
    rep_rows = groups.nearest(n_reps)
    picked = np.concatenate(rep_rows).tolist() if rep_rows else []
    props = iter(snapshot.properties(picked))
    rep_uuids = iter(snapshot.uuid_texts_of(picked))
    dist = groups.distance
    clusters = []
    for cid in range(n_clusters):
        lo, hi = bounds[cid + 1], bounds[cid + 2]
        cluster: dict[str, Any] = {
            "cluster_id": cid,
            "count": hi - lo,
            "representatives": [
                {"uuid": next(rep_uuids), "metadata": next(props), "distance": float(dist[r])}
                for r in rep_rows[cid].tolist()
            ],
            "members": members[cid],
        }
        if fields:
            words = keywords.get(cid, [])
            cluster["keywords"] = [{"word": w, "weight": wt} for w, wt in words]
            cluster["summary"] = ", ".join(w for w, _ in words[:SUMMARY_WORDS])
        clusters.append(cluster)
    return clusters, rep_rows


def member_lists(snapshot: Snapshot, groups: Groups) -> list[list[dict[str, str]]]:
    """``[{"uuid": snapshot.uuids[r]} for r in groups.rows(c)]`` for every cluster c (noise
    left out), built by the core in one pass (``Snapshot.member_dicts``: from the id bytes
    when the snapshot has them): the same lists as that comprehension, without its
    interpreter loop."""
    return snapshot.member_dicts(groups.members, groups.bounds[1:])


def projection(
    x: np.ndarray,
    labels: np.ndarray,
    rep_rows: list[np.ndarray],
    seed: int,
    groups: Groups | None = None,
) -> dict[str, Any] | None:
    """The answer's ``projection`` (None without rows): ``{"method": "pca",
    "explained_variance_ratio": [r1, r2], "sample_size": m or None when every row is
    there, "points": {"x", "y", "cluster_id"}, "representatives": {"x", "y",
    "cluster_id"}}``; ``cluster_id`` -1 is DBSCAN noise, representatives in cluster order."""
    n = len(x)
    if n == 0:
        return None
    rows = _projection_rows(labels, seed, groups)
    mean, basis, ratio, xy = _plane(x, rows, seed)
    reps = np.concatenate(rep_rows) if rep_rows else np.zeros(0, np.int64)
    rep_ids = np.repeat(np.arange(len(rep_rows)), [len(r) for r in rep_rows])
    # rounded in float64: a float32 rounded to 3 digits is not the short decimal
    rxy = _dot(x[reps] - mean, basis.T.astype(np.float32)).astype(np.float64)
    xy = xy.astype(np.float64)
    decimals = _decimals(np.abs(xy).max(initial=0.0))
    return {
        "method": "pca",
        "explained_variance_ratio": [round(float(r), 4) for r in ratio],
        "sample_size": None if len(rows) == n else len(rows),
        "points": _columns(xy, labels[rows], decimals),
        "representatives": _columns(rxy, rep_ids, decimals),
    }


def _projection_rows(labels: np.ndarray, seed: int, groups: Groups | None = None) -> np.ndarray:
    """Rows to project, ascending: all up to PROJECTION_MAX_POINTS, else a seeded sample of
    each cluster (noise too) in proportion to its size, at least a few rows of each.
    ``groups``: the rows of each label already grouped (else found here)."""
    n = len(labels)
    if n <= PROJECTION_MAX_POINTS:
        return np.arange(n)
    if groups is None:
        order = np.argsort(labels, kind="stable")
        bounds = np.searchsorted(labels[order], np.arange(-1, int(labels.max()) + 2))
    else:
        order, bounds = groups.members, groups.bounds
    # every label present, noise first, each group's rows ascending (as np.flatnonzero)
    edges = bounds.tolist()
    parts = [(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]
    rng = np.random.default_rng(seed)
    floor = max(1, min(PROJECTION_MIN_PER_CLUSTER, PROJECTION_MAX_POINTS // len(parts)))
    sizes = np.array([b - a for a, b in parts], dtype=np.int64)
    quota = np.minimum(sizes, np.maximum(floor, sizes * PROJECTION_MAX_POINTS // n))
    if len(parts) <= PICK_BY_CLUSTER:
        picked = [
            rng.choice(order[a:b], size=q, replace=False)
            for (a, b), q in zip(parts, quota.tolist(), strict=True)
        ]
        return np.sort(np.concatenate(picked))
    # many groups: a random key per row, each group's `quota` smallest, in one sort
    kept = np.concatenate([order[a:b] for a, b in parts])
    group_of = np.repeat(np.arange(len(parts)), sizes)
    perm = np.argsort(group_of + rng.random(len(kept)))  # groups stay in order
    starts = np.cumsum(sizes) - sizes
    first = np.cumsum(quota) - quota
    at = np.repeat(starts - first, quota) + np.arange(int(quota.sum()))
    return np.sort(kept[perm[at]])


def pca2(x: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean, the two leading principal axes as rows (2, d), their explained variance
    ratios) of the rows of ``x``. Each axis' sign is fixed (its largest loading is
    positive), so the picture is the same run to run. See ``_plane``."""
    mean, basis, ratio, _xy = _plane(np.asarray(x, dtype=np.float32), np.arange(len(x)), seed)
    return mean.astype(np.float64), basis, ratio


# Up to this many rows or columns the exact SVD is cheaper than the sketch.
EXACT_PCA_SIZE = 12


def _plane(
    x: np.ndarray, rows: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(mean float32 (d,), the two leading principal axes of ``x[rows]`` as rows (2, d),
    their explained variance ratios (2,), each row's coordinates float32 (m, 2)).

    The core's randomised subspace iteration (``_core.principal_plane``: Halko et al. 2011,
    a seeded 10-vector sketch sharpened by four power steps, its products in float32 on
    the core's threads: the answer keeps three significant digits); an exact SVD when the
    rows or columns are few. Axes zero where the rows span fewer directions."""
    m, d = len(rows), x.shape[1]
    if min(m, d) > EXACT_PCA_SIZE:
        mean, basis, (r1, r2), xy = _core.principal_plane(x, rows, seed)
        return mean, basis, np.array([r1, r2]), xy
    xs = np.asarray(x[rows], dtype=np.float32)
    mean = xs.mean(axis=0, dtype=np.float64).astype(np.float32)
    xc = xs - mean
    total = float(np.einsum("ij,ij->", xc, xc, dtype=np.float64))
    _, s, vt = np.linalg.svd(xc.astype(np.float64), full_matrices=False)
    basis = np.zeros((2, d))
    ratio = np.zeros(2)
    k = min(2, vt.shape[0])
    basis[:k] = vt[:k]
    if total > 0:
        ratio[:k] = s[:k] ** 2 / total
    signs = np.sign(basis[np.arange(2), np.abs(basis).argmax(axis=1)])
    basis *= np.where(signs == 0, 1.0, signs)[:, None]
    return mean, basis, ratio, _dot(xc, basis.T.astype(np.float32))


# OpenBLAS runs a product on one thread while m·n·k stays below 262,144 (65,536 x its
# GEMM_MULTITHREAD_THRESHOLD, 4). The representatives' projection is cut into pieces of
# that size: on a machine shared with other work, BLAS threads on products this small cost
# 10-100x one thread (each waits for the others to be scheduled).
_ONE_THREAD_MACS = 200_000


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` in pieces of rows of ``a`` small enough for one BLAS thread (float32
    when ``a`` is)."""
    b = b.astype(a.dtype, copy=False)
    step = max(1, _ONE_THREAD_MACS // max(1, a.shape[1] * b.shape[1]))
    if a.shape[0] <= step:
        return a @ b
    return np.concatenate([a[i : i + step] @ b for i in range(0, a.shape[0], step)])


def _decimals(scale: float) -> int:
    """Decimals that keep about three significant digits of coordinates up to ``scale``."""
    if not np.isfinite(scale) or scale <= 0:
        return 3
    return int(min(12, max(0, 2 - np.floor(np.log10(scale)))))


def _columns(xy: np.ndarray, ids: np.ndarray, decimals: int) -> dict[str, list[Any]]:
    return {
        "x": np.round(xy[:, 0], decimals).tolist(),
        "y": np.round(xy[:, 1], decimals).tolist(),
        "cluster_id": np.asarray(ids, dtype=np.int64).tolist(),
    }
