"""LOF and kNN on few features (the k-d tree path, d <= 64) against scikit-learn.

Data is drawn to look like the anomaly tables: skewed and heavy-tailed columns, several
leaves' worth of rows, correlated columns (the rotated tree, d >= 12). One case keeps the
blocked path (d > 64) covered.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.metrics import pairwise_distances
from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors

from eigenlake import _core


def make_table(n: int, d: int, seed: int, shape: str) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if shape == "gauss":
        x = rng.standard_normal((n, d))
    elif shape == "heavy":  # a few huge values per column, as in shuttle / thyroid
        x = rng.standard_t(1.5, (n, d))
    else:  # correlated: a low-dimensional cloud mixed into d columns
        x = rng.standard_normal((n, min(d, 3))) @ rng.standard_normal((min(d, 3), d))
        x += 0.05 * rng.standard_normal((n, d))
    x = (x - x.mean(0)) / np.where(x.std(0) > 0, x.std(0), 1.0)
    return x.astype(np.float32)


def table(n: int, d: int, seed: int, shape: str) -> np.ndarray:
    x = make_table(n, d, seed, shape)
    assume(len(np.unique(x, axis=0)) == n)  # no duplicate rows: ties would be arbitrary
    return x


def assume_clear_kth_neighbour(x: np.ndarray, k: int, metric: str) -> None:
    """Skip data where a row's k-th and (k+1)-th neighbours tie within float32 resolution."""
    if k >= len(x) - 1:
        return
    dd = np.sort(pairwise_distances(x.astype(np.float64), metric=metric), axis=1)
    assume(np.all(dd[:, k + 1] - dd[:, k] > 1e-5 * np.maximum(1.0, dd[:, k])))


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 1500),
    d=st.sampled_from([1, 2, 3, 6, 9, 12, 21, 36, 64]),
    n_neighbors=st.integers(1, 40),
    seed=st.integers(0, 10_000),
    shape=st.sampled_from(["gauss", "heavy", "correlated"]),
)
def test_lof_matches_sklearn_low_dim(
    n: int, d: int, n_neighbors: int, seed: int, shape: str
) -> None:
    x = table(n, d, seed, shape)
    assume_clear_kth_neighbour(x, min(n_neighbors, n - 1), "euclidean")
    sk = LocalOutlierFactor(n_neighbors=n_neighbors, algorithm="brute").fit(x)
    np.testing.assert_allclose(
        _core.lof(x, n_neighbors, "euclidean"), sk.negative_outlier_factor_, rtol=1e-4, atol=1e-4
    )


@settings(max_examples=20, deadline=None)
@given(
    n=st.integers(3, 1200),
    d=st.sampled_from([2, 5, 9, 16, 40]),
    kq=st.floats(0, 1),
    seed=st.integers(0, 10_000),
    metric=st.sampled_from(["cosine", "euclidean"]),
)
def test_knn_matches_sklearn_low_dim(n: int, d: int, kq: float, seed: int, metric: str) -> None:
    x = table(n, d, seed, "gauss")
    if metric == "cosine":  # near-parallel rows: 1 - cos in float32 is rounding noise
        assume(np.min(pairwise_distances(x, metric="cosine") + 9 * np.eye(n)) > 1e-3)
    k = 1 + int(kq * (min(n, 30) - 2))
    ids, dist = _core.knn(x, k, metric)
    sk_d, sk_i = (
        NearestNeighbors(n_neighbors=k, metric=metric, algorithm="brute").fit(x).kneighbors()
    )
    np.testing.assert_allclose(dist, sk_d, rtol=1e-4, atol=1e-5)
    same = np.isclose(dist, sk_d, rtol=1e-4, atol=1e-5)
    assert np.mean(ids[same] == sk_i[same]) > 0.95


@pytest.mark.parametrize("d", [3, 6, 9, 21, 36])
@pytest.mark.parametrize("shape", ["gauss", "heavy", "correlated"])
def test_lof_matches_sklearn_many_leaves(d: int, shape: str) -> None:
    # a few thousand rows: a deep tree (and the rotated one from 12 features)
    x = make_table(2500, d, d, shape)
    assert len(np.unique(x, axis=0)) == len(x)
    sk = LocalOutlierFactor(n_neighbors=20, algorithm="brute").fit(x)
    np.testing.assert_allclose(
        _core.lof(x, 20, "euclidean"), sk.negative_outlier_factor_, rtol=1e-4, atol=1e-4
    )


def test_duplicates_are_at_distance_zero_and_self_is_excluded() -> None:
    x = np.repeat(np.arange(10, dtype=np.float32)[:, None], 3, axis=0)  # each value 3 times
    ids, dist = _core.knn(x, 2, "euclidean")
    assert np.all(dist == 0.0)
    assert not np.any(ids == np.arange(30)[:, None])
    assert np.all(x[ids[:, 0], 0] == x[:, 0]) and np.all(x[ids[:, 1], 0] == x[:, 0])


def test_lof_blocked_path_high_dim() -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((600, 80)).astype(np.float32)
    sk = LocalOutlierFactor(n_neighbors=20, algorithm="brute").fit(x)
    np.testing.assert_allclose(
        _core.lof(x, 20, "euclidean"), sk.negative_outlier_factor_, rtol=1e-4, atol=1e-4
    )


def test_cosine_with_a_zero_row_keeps_sklearn_distances() -> None:
    # a zero row is at cosine distance 1 from every row: no euclidean view of unit rows
    # holds that, so such input takes the blocked path
    rng = np.random.default_rng(5)
    x = rng.standard_normal((300, 4)).astype(np.float32)
    x[7] = 0.0
    ids, dist = _core.knn(x, 5, "cosine")
    sk_d, _ = (
        NearestNeighbors(n_neighbors=5, metric="cosine", algorithm="brute").fit(x).kneighbors()
    )
    np.testing.assert_allclose(dist, sk_d, rtol=1e-4, atol=1e-5)
