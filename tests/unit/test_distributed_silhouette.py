"""The distributed exact cosine silhouette (``merge.cosine_silhouette_sum``): shards' parts
from global cluster sums add up to scikit-learn's silhouette of all rows."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import silhouette_samples

from eigenlake.distributed.merge import cosine_silhouette_sum


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _sharded_score(x: np.ndarray, labels: np.ndarray, k: int, cuts: list[int]) -> float:
    """Split the rows at ``cuts`` (the shards), sum per-cluster rows over all of them (the
    driver's reduce), score each shard's rows, add the parts."""
    sums = np.zeros((k, x.shape[1]))
    np.add.at(sums, labels, x.astype(np.float64))
    counts = np.bincount(labels, minlength=k)
    parts = [
        cosine_silhouette_sum(xs, ls, sums, counts)
        for xs, ls in zip(np.split(x, cuts), np.split(labels, cuts), strict=True)
    ]
    return sum(parts) / len(x)


def test_equals_scikit_learn_with_a_singleton_and_an_empty_cluster():
    rng = np.random.default_rng(5)
    x = _unit(rng.standard_normal((300, 24)) + 2.0 * rng.standard_normal((1, 24)))
    labels = rng.integers(0, 4, 300)
    labels[17] = 6  # a cluster of one row (scores 0); cluster 5 is empty (no neighbour)
    want = float(silhouette_samples(x, labels, metric="cosine").mean())
    got = _sharded_score(x, labels, 7, [90, 91, 200])
    assert got == pytest.approx(want, abs=1e-6)


def test_blocks_of_a_large_shard_add_up():
    rng = np.random.default_rng(2)
    x = _unit(rng.standard_normal((9_000, 8)))
    labels = (x[:, 0] > 0).astype(np.int64) + 2 * (x[:, 1] > 0)  # more rows than a block
    want = float(silhouette_samples(x, labels, metric="cosine").mean())
    assert _sharded_score(x, labels, 4, []) == pytest.approx(want, abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(3, 60),
    k=st.integers(2, 6),
    shards=st.integers(1, 4),
    seed=st.integers(0, 2**31 - 1),
)
def test_any_split_gives_the_silhouette_of_all_rows(n, k, shards, seed):
    rng = np.random.default_rng(seed)
    x = _unit(rng.standard_normal((n, 5)))
    labels = rng.integers(0, k, n)
    if not 2 <= np.unique(labels).size <= n - 1:
        labels[:2] = [0, 1]
        labels[2:] = 0 if n > 3 else labels[2:]
    if not 2 <= np.unique(labels).size <= n - 1:
        return  # undefined: the driver answers None before asking the shards
    cuts = sorted(rng.integers(0, n + 1, shards - 1).tolist())
    want = float(silhouette_samples(x, labels, metric="cosine").mean())
    assert _sharded_score(x, labels, k, cuts) == pytest.approx(want, abs=1e-5)
