"""Silhouette against scikit-learn and hand-worked cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_blobs
from sklearn.metrics import silhouette_samples as sk_samples
from sklearn.metrics import silhouette_score

from eigenlake import _core


def test_hand_computed_example() -> None:
    # 1-D points 0, 1 | 4: a(0)=1, b(0)=4 -> 0.75; a(1)=1, b(1)=3 -> 2/3; 4 is a singleton -> 0
    x = np.array([[0.0], [1.0], [4.0]], dtype=np.float32)
    s = _core.silhouette_samples(x, np.array([0, 0, 1]), "euclidean")
    np.testing.assert_allclose(s, [0.75, 2 / 3, 0.0], atol=1e-6)
    assert _core.silhouette(x, np.array([0, 0, 1]), "euclidean") == pytest.approx(
        (0.75 + 2 / 3) / 3, abs=1e-6
    )


def test_size_one_clusters_score_zero() -> None:
    x = np.array([[0, 1], [0, 1.1], [1, 0], [5, 5]], dtype=np.float32)
    s = _core.silhouette_samples(x, np.array([0, 0, 1, 2]), "euclidean")
    assert s[2] == 0.0 and s[3] == 0.0


@pytest.mark.parametrize("labels", [[0, 0, 0, 0], [0, 1, 2, 3]])
def test_label_count_out_of_range_is_value_error(labels: list[int]) -> None:
    x = np.eye(4, dtype=np.float32)
    with pytest.raises(ValueError, match="labels"):
        _core.silhouette(x, np.array(labels, dtype=np.int64), "cosine")


def test_noise_label_is_a_cluster_like_sklearn() -> None:
    x, y = make_blobs(300, centers=3, n_features=4, random_state=1)
    y[::7] = -1
    x = x.astype(np.float32)
    assert _core.silhouette(x, y.astype(np.int64), "euclidean") == pytest.approx(
        silhouette_score(x, y), abs=1e-5
    )


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(20, 400),
    d=st.integers(2, 40),
    k=st.integers(2, 8),
    std=st.floats(0.3, 4.0),
    seed=st.integers(0, 10_000),
    metric=st.sampled_from(["cosine", "euclidean"]),
)
def test_matches_sklearn(n: int, d: int, k: int, std: float, seed: int, metric: str) -> None:
    x, y = make_blobs(n, centers=k, n_features=d, cluster_std=std, random_state=seed)
    x = x.astype(np.float32)
    if len(np.unique(y)) < 2:
        return
    y = y.astype(np.int64)
    assert _core.silhouette(x, y, metric) == pytest.approx(
        silhouette_score(x, y, metric=metric), abs=1e-5
    )
    np.testing.assert_allclose(
        _core.silhouette_samples(x, y, metric), sk_samples(x, y, metric=metric), atol=1e-4
    )


def test_sample_size_is_seeded_estimate() -> None:
    x, y = make_blobs(3000, centers=4, n_features=8, random_state=0)
    x, y = x.astype(np.float32), y.astype(np.int64)
    a = _core.silhouette(x, y, "cosine", sample_size=500, seed=3)
    assert a == _core.silhouette(x, y, "cosine", sample_size=500, seed=3)
    assert a == pytest.approx(silhouette_score(x, y, metric="cosine"), abs=0.03)


def test_cosine_is_exact_beyond_the_sampling_size() -> None:
    """The cosine path sums each cluster's unit rows (mean distance to a cluster =
    1 - x·mean), so it is exact at any n: scikit-learn's exact score on 5,000 rows."""
    x, y = make_blobs(5000, centers=5, n_features=12, cluster_std=3.0, random_state=7)
    x, y = x.astype(np.float32), y.astype(np.int64)
    assert _core.silhouette(x, y, "cosine") == pytest.approx(
        silhouette_score(x, y, metric="cosine"), rel=1e-5
    )


def test_cosine_cost_is_linear_in_rows() -> None:
    """O(n·k·d): 400,000 rows take well under a second (an O(n^2·d) pass would take
    minutes). Oracle: the same score computed with NumPy from the cluster means."""
    import time

    x, y = make_blobs(400_000, centers=6, n_features=8, random_state=3)
    x, y = x.astype(np.float32), y.astype(np.int64)
    t = time.perf_counter()
    got = _core.silhouette(x, y, "cosine")
    assert time.perf_counter() - t < 20.0
    u = x.astype(np.float64)
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    sizes = np.bincount(y)
    sums = np.stack([u[y == c].sum(0) for c in range(len(sizes))])
    dist_sum = sizes[None, :] - u @ sums.T  # Σ_j (1 - x·x_j) per cluster, self term 0
    own = dist_sum[np.arange(len(y)), y]
    a = own / (sizes[y] - 1)
    other = dist_sum / sizes[None, :]
    other[np.arange(len(y)), y] = np.inf
    b = other.min(1)
    want = np.mean((b - a) / np.maximum(a, b))
    assert got == pytest.approx(want, abs=1e-5)
