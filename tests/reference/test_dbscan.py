"""DBSCAN against scikit-learn, plus its hand-worked boundary case."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.cluster import DBSCAN
from sklearn.datasets import make_blobs
from sklearn.metrics import pairwise_distances

from eigenlake import _core
from tests_paths import news_embeddings


def test_sklearn_boundaries_case() -> None:
    # scikit-learn's test_boundaries: eps is inclusive and min_samples counts the point
    x = np.array([[0.0], [1.0], [2.0]], dtype=np.float32)
    labels, core = _core.dbscan(x, 1.0, 3, "euclidean")
    assert core.tolist() == [False, True, False]
    assert labels.tolist() == [0, 0, 0]
    labels, core = _core.dbscan(x, 0.99, 2, "euclidean")
    assert labels.tolist() == [-1, -1, -1] and not core.any()
    labels, _ = _core.dbscan(x, 0.99, 1, "euclidean")
    assert labels.tolist() == [0, 1, 2]


def test_border_point_goes_to_first_cluster_like_sklearn() -> None:
    x = np.array([[1.15], [2.1], [2.15], [2.2], [2.3], [0.0], [0.05], [0.1], [0.2]], np.float32)
    labels, core = _core.dbscan(x, 1.0, 4, "euclidean")
    sk = DBSCAN(eps=1.0, min_samples=4).fit(x)
    assert labels.tolist() == sk.labels_.tolist() == [0, 0, 0, 0, 0, 1, 1, 1, 1]
    assert not core[0]


def check_against_sklearn(x: np.ndarray, eps: float, min_samples: int, metric: str) -> None:
    d = pairwise_distances(x.astype(np.float64), metric=metric)
    labels, core = _core.dbscan(x, eps, min_samples, metric)
    sk = DBSCAN(eps=eps, min_samples=min_samples, metric=metric, algorithm="brute").fit(x)
    sk_core = np.zeros(len(x), bool)
    sk_core[sk.core_sample_indices_] = True
    np.testing.assert_array_equal(core, sk_core)
    # clusters numbered by first core point, as scikit-learn does
    np.testing.assert_array_equal(labels[core], sk.labels_[core])
    np.testing.assert_array_equal(labels == -1, sk.labels_ == -1)
    for i in np.flatnonzero((labels != sk.labels_) & ~core):
        # a border point may differ only by visit order: it must touch a core of its cluster
        mine = core & (labels == labels[i])
        assert np.any(d[i, mine] <= eps)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(5, 600),
    d=st.integers(2, 24),
    k=st.integers(1, 6),
    std=st.floats(0.2, 3.0),
    eps_q=st.floats(0.01, 0.5),
    min_samples=st.integers(1, 15),
    seed=st.integers(0, 10_000),
    metric=st.sampled_from(["cosine", "euclidean"]),
)
def test_matches_sklearn(
    n: int, d: int, k: int, std: float, eps_q: float, min_samples: int, seed: int, metric: str
) -> None:
    x, _ = make_blobs(n, centers=k, n_features=d, cluster_std=std, random_state=seed)
    x = x.astype(np.float32)
    check_against_sklearn(x, safe_eps(x, eps_q, metric), min_samples, metric)


def safe_eps(x: np.ndarray, q: float, metric: str) -> float:
    """eps near the q-quantile of the pairwise distances (so every regime is reached), in
    the middle of a gap between them: pairs within float32 noise of eps are ambiguous."""
    d = pairwise_distances(x.astype(np.float64), metric=metric)
    ds = np.unique(d[np.triu_indices(len(x), 1)])
    assume(len(ds) >= 2)
    i = int(q * (len(ds) - 1))
    w = ds[max(0, i - 100) : i + 100]
    assume(len(w) >= 2)
    j = int(np.argmax(np.diff(w)))
    eps = float(w[j] + w[j + 1]) / 2
    assume(w[j + 1] - w[j] > 4e-5 * max(1.0, eps) and eps > 0)
    return eps


def test_matches_sklearn_on_news_embeddings() -> None:
    x = news_embeddings()[:3000]
    for eps, ms in [(0.3, 5), (0.45, 10)]:
        labels, core = _core.dbscan(x, eps, ms, "cosine")
        sk = DBSCAN(eps=eps, min_samples=ms, metric="cosine", algorithm="brute").fit(x)
        assert set(np.flatnonzero(core)) == set(sk.core_sample_indices_)
        np.testing.assert_array_equal(labels[core], sk.labels_[core])


@pytest.mark.parametrize(
    ("eps", "min_samples", "metric"), [(0.0, 5, "cosine"), (0.5, 0, "cosine"), (0.5, 5, "l1")]
)
def test_invalid_parameters(eps: float, min_samples: int, metric: str) -> None:
    x = np.eye(5, dtype=np.float32)
    with pytest.raises(ValueError):
        _core.dbscan(x, eps, min_samples, metric)
