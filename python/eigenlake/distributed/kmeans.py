"""Distributed k-means: Lloyd iterations where each shard assigns its own rows.

Per iteration the driver broadcasts k centroids; each shard labels its rows (exact top-1
by ``_core.flat_topk``) and returns per-cluster vector sums and counts; the driver adds
them up and renormalises (spherical). Seeds are k-means++ on a driver-side sample
gathered from the shards in proportion to their rows.
"""

from __future__ import annotations

import math
import uuid
from typing import TYPE_CHECKING, Any

import numpy as np

from ..analysis import autotune
from ..analysis._params import (
    MAX_NUM_CLUSTERS,
    METRICS,
    check_bool,
    check_choice,
    check_int,
    check_text_fields,
)
from ..analysis.cluster import DEFAULT_NUM_CLUSTERS, KEYWORDS_PER_CLUSTER, SUMMARY_WORDS
from ..analysis.ctfidf import top_keywords
from ..errors import ValidationError
from .merge import kmeans_pp, normalise, reduce_step, relabel_order
from .rpc import gather

if TYPE_CHECKING:
    from .sharded import ShardedIndex

SAMPLE_PER_CLUSTER = 64  # seeding sample size per centroid, as _core.kmeans uses
TOL = 1e-4  # stop when the summed squared centroid shift is below TOL x mean feature
# variance (the rule _core.kmeans and scikit-learn use), or when no label changes


def run_kmeans(
    index: ShardedIndex,
    *,
    filter: Any,
    limit: int | None,
    algorithm: str,
    num_clusters: int | None,
    distance_metric: str,
    text_fields: Any,
    max_iterations: int,
    representatives_per_cluster: int,
    auto_tune: bool,
    seed: int,
    init: np.ndarray | None = None,
    min_clusters: int = 2,
    max_clusters: int = 8,
) -> dict[str, Any]:
    """k-means over the shards (``search.cluster`` sends DBSCAN and ``auto_tune`` to the
    gathered path and has checked every argument the embedded way already). ``init``
    (k, d): the starting centroids instead of k-means++ seeding (tests compare the Lloyd
    iterations from one start with the core's)."""
    algorithm = check_choice("algorithm", algorithm, ("kmeans",))
    if check_bool("auto_tune", auto_tune):
        raise ValidationError("auto_tune runs on the gathered rows (search.cluster)")
    metric = check_choice("distance_metric", distance_metric, METRICS)
    k_req = check_int(
        "num_clusters", num_clusters, minimum=1, maximum=MAX_NUM_CLUSTERS, optional=True
    )
    max_iter = check_int("max_iterations", max_iterations, minimum=1) or 1
    n_reps = check_int("representatives_per_cluster", representatives_per_cluster, minimum=0) or 0
    limit = check_int("limit", limit, minimum=1, optional=True)
    seed = check_int("seed", seed, minimum=0) or 0
    fields = check_text_fields(text_fields)
    spherical = metric == "cosine"

    shards, ns, name = index.shards, index.namespace, index.name
    sizes: list[int | None] = [None] * len(shards)
    if limit is not None:
        sizes = first_rows(index, filter, limit)
    job = uuid.uuid4().hex
    try:
        opened = gather(
            [
                s.km_open.remote(job, ns, name, filter, n, spherical)
                for s, n in zip(shards, sizes, strict=True)
            ]
        )
        sizes_got = [int(o["n"]) for o in opened]
        n_total = int(sum(sizes_got))
        params: dict[str, Any] = {
            "algorithm": "kmeans",
            "distance_metric": metric,
            "num_records": n_total,
            "representatives_per_cluster": n_reps,
            "text_fields": fields,
            "seed": seed,
            "max_iterations": max_iter,
            "auto_tune": False,
            "min_clusters": min_clusters,
            "max_clusters": max_clusters,
            "num_clusters_requested": k_req,
            "scores": [],
            "iterations": 0,
            "silhouette_sample_size": None,
            "shards": len(shards),
        }
        if n_total == 0:
            params["num_clusters"] = 0
            return {"clusters": [], "noise_count": 0, "silhouette": None, "parameters": params}
        k = min(k_req or DEFAULT_NUM_CLUSTERS, n_total)
        sample = _sample(index, job, sizes_got, SAMPLE_PER_CLUSTER * k, seed)
        if init is not None:
            centroids = _check_init(init, k, index.dimensions, spherical)
        else:
            centroids = kmeans_pp(sample, k, spherical, seed)
        tol = TOL * _mean_variance(opened, n_total)
        for it in range(1, max_iter + 1):
            ref = _put(centroids)
            partials = gather([s.km_step.remote(job, ref) for s in shards])
            new, sums, counts, changed = reduce_step(partials, centroids, spherical)
            params["iterations"] = it
            raw_sums = np.sum([p["raw_sums"] for p in partials], axis=0)
            shift = float(((new.astype(np.float64) - centroids) ** 2).sum())
            centroids = new
            if changed == 0 or shift <= tol:
                break
        means = raw_sums / np.maximum(counts, 1)[:, None]
        if spherical:  # exact, from the last step's labels (the members reported)
            silhouette, sample_size = _exact_silhouette(index, job, sums, counts), None
        else:
            silhouette, sample_size = _sample_silhouette(sample, centroids, False, metric, seed)
        finished = gather([s.km_finish.remote(job, means, n_reps, metric, fields) for s in shards])
    finally:
        for s in shards:
            s.km_drop.remote(job)  # fire and forget: frees the rows if anything failed
    clusters = _assemble(finished, counts, n_reps, fields)
    params["num_clusters"] = len(clusters)
    params["silhouette_sample_size"] = sample_size
    return {"clusters": clusters, "noise_count": 0, "silhouette": silhouette, "parameters": params}


def _mean_variance(opened: list[dict[str, Any]], n: int) -> float:
    """Mean per-feature variance of all rows, from the shards' sums and sums of squares."""
    total = np.sum([o["sum"] for o in opened], axis=0) / n
    sq = np.sum([o["sumsq"] for o in opened], axis=0) / n
    return float(np.maximum(sq - total * total, 0.0).mean())


def first_rows(index: ShardedIndex, flt: Any, limit: int) -> list[int | None]:
    """How many rows each shard contributes to the global first ``limit`` in (seq, shard)
    order, the order ``records.list`` pages in (also used by ``remove_many``)."""
    keys = gather([s.km_keys.remote(index.namespace, index.name, flt, limit) for s in index.shards])
    merged = sorted((seq, i) for i, seqs in enumerate(keys) for seq in seqs)[:limit]
    counts = np.bincount([i for _seq, i in merged], minlength=len(keys))
    return [int(c) for c in counts]


def _sample(index: ShardedIndex, job: str, sizes: list[int], want: int, seed: int) -> np.ndarray:
    n = sum(sizes)
    per = [min(s, math.ceil(want * s / n)) for s in sizes]
    parts = gather(
        [s.km_sample.remote(job, m, seed) for s, m in zip(index.shards, per, strict=True)]
    )
    return np.ascontiguousarray(np.concatenate([p for p in parts if len(p)]), dtype=np.float32)


def _check_init(init: Any, k: int, dim: int, spherical: bool) -> np.ndarray:
    c = np.asarray(init, dtype=np.float32)
    if c.shape != (k, dim):
        raise ValidationError(f"init must have shape ({k}, {dim}), got {c.shape}")
    return normalise(c) if spherical else np.ascontiguousarray(c)


def _put(array: np.ndarray) -> Any:
    import ray

    return ray.put(array)  # one copy in the object store, shared by every shard


def _assemble(
    finished: list[dict[int, Any]], counts: np.ndarray, n_reps: int, fields: list[str] | None
) -> list[dict[str, Any]]:
    k = len(counts)
    members: list[list[tuple[int, int, str, str]]] = [[] for _ in range(k)]
    reps: list[list[tuple[float, int, int, dict[str, Any]]]] = [[] for _ in range(k)]
    for shard, per_cluster in enumerate(finished):
        for c, part in per_cluster.items():
            texts = part.get("texts") or [""] * len(part["uuids"])
            members[c].extend(
                (seq, shard, u, t)
                for seq, u, t in zip(part["seqs"], part["uuids"], texts, strict=True)
            )
            reps[c].extend((r["distance"], r["seq"], shard, r) for r in part["reps"])
    for m in members:
        m.sort()  # global (seq, shard) order
    first = [(m[0][0], m[0][1]) if m else (0, 0) for m in members]
    mapping = relabel_order(counts, first)
    order = sorted((int(mapping[c]), c) for c in range(k) if mapping[c] >= 0)
    keywords: dict[int, list[tuple[str, float]]] = {}
    if fields and order:
        texts = [t for _new, c in order for (_s, _sh, _u, t) in members[c]]
        labels = [new for new, c in order for _ in members[c]]
        keywords = top_keywords(texts, labels, range(len(order)), top_n=KEYWORDS_PER_CLUSTER)
    clusters = []
    for new, c in order:
        nearest = sorted(reps[c], key=lambda r: (r[0], r[1], r[2]))[:n_reps]
        cluster: dict[str, Any] = {
            "cluster_id": new,
            "count": len(members[c]),
            "representatives": [
                {"uuid": r[3]["uuid"], "metadata": r[3]["metadata"], "distance": r[0]}
                for r in nearest
            ],
            "members": [{"uuid": u} for (_s, _sh, u, _t) in members[c]],
        }
        if fields:
            words = keywords.get(new, [])
            cluster["keywords"] = [{"word": w, "weight": wt} for w, wt in words]
            cluster["summary"] = ", ".join(w for w, _ in words[:SUMMARY_WORDS])
        clusters.append(cluster)
    return clusters


def _exact_silhouette(
    index: ShardedIndex, job: str, sums: np.ndarray, counts: np.ndarray
) -> float | None:
    """The exact cosine silhouette of every row: each shard scores its rows from the
    clusters' global sums and sizes (``merge.cosine_silhouette_sum``), O(n·k·d) in all
    and no row leaves its shard. None where it is undefined (fewer than 2 clusters, or
    as many as rows), as for the gathered rows."""
    n = int(counts.sum())
    present = int((counts > 0).sum())
    if n < 3 or not 2 <= present <= n - 1:
        return None
    refs = _put(np.ascontiguousarray(sums, dtype=np.float64)), _put(counts)
    parts = gather([s.km_silhouette.remote(job, *refs) for s in index.shards])
    return float(sum(parts)) / n


def _sample_silhouette(
    sample: np.ndarray, centroids: np.ndarray, spherical: bool, metric: str, seed: int
) -> tuple[float | None, int | None]:
    """Euclidean silhouette estimated on the seeding sample (the exact one has no
    decomposition into per-cluster sums: it would gather every row)."""
    x = normalise(sample) if spherical else sample
    if spherical:
        labels = np.argmax(x @ centroids.T, axis=1)
    else:  # |x|^2 is the same for every centroid: drop it
        labels = np.argmin((centroids**2).sum(axis=1)[None, :] - 2.0 * (x @ centroids.T), axis=1)
    score, _ = autotune.silhouette(x, labels.astype(np.int64), metric, seed)
    return score, (len(x) if score is not None else None)


__all__ = ["run_kmeans"]
