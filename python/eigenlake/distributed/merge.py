"""Driver-side reductions: routing, top-k merge, list-cursor merge, k-means seeding/reduce.

Pure functions over plain data (no Ray), so they are unit-testable and the actors stay thin.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import numpy as np

from ..api.checks import short_repr
from ..errors import ValidationError


def shard_of(uuid: str, num_shards: int) -> int:
    """Stable owner shard of a canonical uuid string (same on every process and machine,
    unlike ``hash()``, which is salted per process)."""
    digest = hashlib.blake2b(uuid.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % num_shards


# ---- nearest ---------------------------------------------------------------------------


def merge_hits(per_shard: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """All shards' hits nearest first; equal distances ordered by uuid (as the embedded
    index orders them), so the merge is deterministic."""
    hits = [h for hits in per_shard for h in hits]
    hits.sort(key=lambda h: (h["distance"], h["uuid"]))
    return hits


def encode_cursor(data: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def decode_cursor(after: Any, what: str) -> Any:
    try:
        text = str(after)
        return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, TypeError, RecursionError):
        raise ValidationError(
            f"after {short_repr(after, 40)} is not a cursor returned by {what}()"
        ) from None


# ---- records.list ----------------------------------------------------------------------


def merge_pages(
    cursors: list[int], pages: list[tuple[list[dict[str, Any]], list[int], bool]], limit: int
) -> tuple[list[dict[str, Any]], list[int], bool]:
    """One global page from per-shard pages.

    Each shard page is (objects, their sequence numbers ascending, more after them). The
    global order is (seq, shard); a shard's cursor only moves past objects actually
    returned, so every record comes exactly once across pages.
    """
    candidates = [
        (seq, shard, obj)
        for shard, (objs, seqs, _more) in enumerate(pages)
        for obj, seq in zip(objs, seqs, strict=True)
    ]
    candidates.sort(key=lambda c: (c[0], c[1]))
    taken = candidates[:limit]
    new = list(cursors)
    for seq, shard, _obj in taken:
        new[shard] = max(new[shard], seq)
    more = len(candidates) > limit or any(p[2] for p in pages)
    return [c[2] for c in taken], new, more


# ---- k-means ---------------------------------------------------------------------------


def normalise(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(m / norms, dtype=np.float32)


def kmeans_pp(sample: np.ndarray, k: int, spherical: bool, seed: int) -> np.ndarray:
    """k-means++ seeds (D² sampling) chosen from the driver-side sample."""
    rng = np.random.default_rng(seed)
    x = normalise(sample) if spherical else np.asarray(sample, dtype=np.float32)
    n = len(x)
    centres = [x[int(rng.integers(n))]]
    d2 = _sq_dist(x, centres[0], spherical)
    for _ in range(1, k):
        total = float(d2.sum())
        # all remaining points coincide with a centre: any point will do
        i = int(rng.integers(n)) if total <= 0 else int(rng.choice(n, p=d2 / total))
        centres.append(x[i])
        d2 = np.minimum(d2, _sq_dist(x, x[i], spherical))
    return np.ascontiguousarray(np.stack(centres), dtype=np.float32)


def _sq_dist(x: np.ndarray, c: np.ndarray, spherical: bool) -> np.ndarray:
    if spherical:  # squared chord on unit vectors: 2 - 2 cos
        return np.maximum(2.0 - 2.0 * (x @ c).astype(np.float64), 0.0)
    diff = (x - c).astype(np.float64)
    return np.einsum("ij,ij->i", diff, diff)


def reduce_step(
    partials: list[dict[str, Any]], old: np.ndarray, spherical: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """New centroids from the shards' per-cluster sums and counts.

    Returns (centroids, sums, counts, rows whose label changed). An empty cluster is
    reseeded with the globally farthest rows the shards reported (as ``_core.kmeans`` does).
    """
    sums = np.sum([p["sums"] for p in partials], axis=0)
    counts = np.sum([p["counts"] for p in partials], axis=0)
    changed = int(sum(p["changed"] for p in partials))
    k = len(old)
    centroids = np.array(old, dtype=np.float64)
    live = counts > 0
    centroids[live] = sums[live] / counts[live, None]
    empty = np.flatnonzero(~live)
    if empty.size:
        far = sorted(
            ((d, i, j) for i, p in enumerate(partials) for j, d in enumerate(p["far_dist"])),
            reverse=True,
        )
        for c, (_d, i, j) in zip(empty.tolist(), far, strict=False):
            centroids[c] = partials[i]["far_vec"][j]
        changed += int(empty.size)  # a reseed is a change: iterate again
    out = normalise(centroids) if spherical else np.ascontiguousarray(centroids, np.float32)
    assert out.shape[0] == k
    return out, sums, counts, changed


# rows of a shard whose silhouette terms are worked out at once: bounds the (rows x k)
# float64 block (512 clusters x 8,192 rows = 32 MiB)
SILHOUETTE_BLOCK = 8192


def cosine_silhouette_sum(
    x: np.ndarray, labels: np.ndarray, sums: np.ndarray, counts: np.ndarray
) -> float:
    """The summed exact cosine silhouette of the unit rows ``x`` (labelled ``labels``),
    given every cluster's sum of unit rows (``sums``) and size (``counts``) over all
    shards: a row's summed distance to cluster c is ``counts[c] - x·sums[c]``, so each
    shard scores its own rows in O(rows·k·d) and the driver adds the parts up. Same rules
    as ``_core.silhouette``: a member of a cluster of one scores 0, empty clusters are no
    neighbours, 0 where a and b are both 0."""
    live = np.flatnonzero(counts > 0)
    size = counts[live].astype(np.float64)
    total_of = np.ascontiguousarray(sums[live], dtype=np.float64).T  # (d, live)
    slot = np.full(len(counts), -1, dtype=np.int64)
    slot[live] = np.arange(len(live))
    total = 0.0
    for start in range(0, len(x), SILHOUETTE_BLOCK):
        rows = x[start : start + SILHOUETTE_BLOCK].astype(np.float64)
        own = slot[labels[start : start + SILHOUETTE_BLOCK]]
        if (own < 0).any():
            raise ValueError("a row's label has no rows in counts")
        summed = size[None, :] - rows @ total_of  # Σ over members of (1 - cos)
        at = np.arange(len(rows))
        n_own = size[own]
        a = summed[at, own] / np.maximum(n_own - 1.0, 1.0)
        mean = summed / size[None, :]
        mean[at, own] = np.inf  # b: the nearest other cluster
        b = mean.min(axis=1) if len(live) > 1 else np.full(len(rows), np.inf)
        den = np.maximum(a, b)
        ok = (n_own > 1) & (den > 0) & np.isfinite(b)
        total += float(np.where(ok, (b - a) / np.where(ok, den, 1.0), 0.0).sum())
    return total


def relabel_order(counts: np.ndarray, first_key: list[tuple[int, int]]) -> np.ndarray:
    """Map old cluster id -> public id: largest first, ties by earliest first member (in
    global (seq, shard) order); empty clusters map to -1. Mirrors ``relabel_by_size``."""
    ids = [c for c in range(len(counts)) if counts[c] > 0]
    ids.sort(key=lambda c: (-int(counts[c]), first_key[c]))
    mapping = np.full(len(counts), -1, dtype=np.int64)
    for new, old in enumerate(ids):
        mapping[old] = new
    return mapping
