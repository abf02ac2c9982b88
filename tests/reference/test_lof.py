"""LOF, kNN and k-distance against scikit-learn, plus closed-form cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_blobs
from sklearn.metrics import pairwise_distances
from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors

from eigenlake import _core


def blobs(n: int, d: int, k: int, std: float, seed: int, metric: str) -> np.ndarray:
    if metric == "cosine":
        d = max(d, 8)
    x, _ = make_blobs(n, centers=k, n_features=d, cluster_std=std, random_state=seed)
    if metric == "cosine":
        # around the origin, and no near-parallel pairs: for tiny angles 1 - cos in
        # float32 (ours and scikit-learn's alike) is mostly rounding noise
        x -= x.mean(axis=0)
        dist = pairwise_distances(x, metric="cosine")
        assume(np.min(dist + 9 * np.eye(n)) > 1e-3)
    x = x.astype(np.float32)
    assume(len(np.unique(x, axis=0)) == n)  # LOF is defined on distinct points here
    return x


def assume_clear_kth_neighbour(x: np.ndarray, k: int, metric: str) -> None:
    """Skip data where some row's k-th and (k+1)-th neighbours are tied within float32
    resolution: either may then be "the" k-th neighbour, here and in scikit-learn."""
    if k >= len(x) - 1:
        return
    d = np.sort(pairwise_distances(x.astype(np.float64), metric=metric), axis=1)
    # column 0 is the row itself
    assume(np.all(d[:, k + 1] - d[:, k] > 1e-5 * np.maximum(1.0, d[:, k])))


def test_closed_form_square_with_outlier() -> None:
    # corners of a unit square (k=2: every reach-dist is 1, lrd 1, score -1) and a far point
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1], [5, 0]], dtype=np.float32)
    s = _core.lof(x, 2, "euclidean")
    np.testing.assert_allclose(s[:4], -1.0, atol=1e-6)
    assert s[4] == pytest.approx(-(4 + np.sqrt(17)) / 2, rel=1e-6)


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(10, 500),
    d=st.integers(2, 24),
    k=st.integers(1, 5),
    std=st.floats(0.3, 3.0),
    n_neighbors=st.integers(1, 40),
    seed=st.integers(0, 10_000),
    metric=st.sampled_from(["cosine", "euclidean"]),
)
def test_lof_matches_sklearn(
    n: int, d: int, k: int, std: float, n_neighbors: int, seed: int, metric: str
) -> None:
    x = blobs(n, d, k, std, seed, metric)
    assume_clear_kth_neighbour(x, min(n_neighbors, n - 1), metric)
    sk = LocalOutlierFactor(n_neighbors=n_neighbors, metric=metric, algorithm="brute").fit(x)
    np.testing.assert_allclose(
        _core.lof(x, n_neighbors, metric), sk.negative_outlier_factor_, rtol=1e-4, atol=1e-4
    )


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(3, 500),
    d=st.integers(2, 24),
    std=st.floats(0.3, 3.0),
    kq=st.floats(0, 1),
    seed=st.integers(0, 10_000),
    metric=st.sampled_from(["cosine", "euclidean"]),
)
def test_knn_and_kdist_match_sklearn(
    n: int, d: int, std: float, kq: float, seed: int, metric: str
) -> None:
    x = blobs(n, d, 3, std, seed, metric)
    k = 1 + int(kq * (min(n, 30) - 2))
    ids, dist = _core.knn(x, k, metric)
    nn = NearestNeighbors(n_neighbors=k, metric=metric, algorithm="brute").fit(x)
    sk_d, sk_i = nn.kneighbors()
    np.testing.assert_allclose(dist, sk_d, rtol=1e-4, atol=1e-5)
    # ids agree wherever the distance is not (nearly) tied with another
    same = np.isclose(dist, sk_d, rtol=1e-4, atol=1e-5)
    assert np.mean(ids[same] == sk_i[same]) > 0.95
    kd = _core.kdist(x, k + 1, metric)
    sk_kd = nn.kneighbors(x, n_neighbors=k + 1)[0][:, k]
    np.testing.assert_allclose(kd, sk_kd, rtol=1e-4, atol=1e-5)


def test_kdist_counts_self_first() -> None:
    x = np.array([[0.0], [1.0], [3.0]], dtype=np.float32)
    np.testing.assert_array_equal(_core.kdist(x, 1, "euclidean"), [0, 0, 0])
    np.testing.assert_allclose(_core.kdist(x, 2, "euclidean"), [1, 1, 2])
    ids, dist = _core.knn(x, 1, "euclidean")
    assert ids[:, 0].tolist() == [1, 0, 1]


def test_knee_of_sorted_kdist_curve() -> None:
    v = np.concatenate([np.linspace(0, 0.2, 90), np.linspace(0.3, 3, 10)]).astype(np.float32)
    assert _core.knee(v) in range(88, 92)


@pytest.mark.parametrize("k", [0, 5])
def test_knn_k_out_of_range(k: int) -> None:
    with pytest.raises(ValueError, match="k"):
        _core.knn(np.eye(5, dtype=np.float32), k, "cosine")


def test_lof_n_neighbors_zero_is_value_error() -> None:
    with pytest.raises(ValueError, match="n_neighbors"):
        _core.lof(np.eye(5, dtype=np.float32), 0, "cosine")
