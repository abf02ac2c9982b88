"""Stand-ins for `_core` analytics, for use only until branch `analytics` is merged.

The analysis layer calls `eigenlake._core` (Rust). While a build lacks a function, the fixture
`core_or_oracle` patches in a scikit-learn version with the same signature, so the layer's own
logic can be tested; once the Rust function exists nothing is patched and the tests run
against Rust. Never imported by the package.
"""

from __future__ import annotations

import numpy as np
import pytest

from eigenlake import _core


def _unit(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=1, keepdims=True)
    n[n == 0] = 1
    return x / n


def kmeans(x, k, *, max_iter=50, tol=1e-4, n_init=1, seed=0, spherical=True, init=None):
    from sklearn.cluster import KMeans

    data = _unit(x) if spherical else x
    km = KMeans(n_clusters=k, n_init=n_init, random_state=seed, max_iter=max_iter).fit(data)
    c = km.cluster_centers_.astype(np.float32)
    return km.labels_.astype(np.int64), _unit(c) if spherical else c, float(km.inertia_), km.n_iter_


def dbscan(x, eps, min_samples, metric="cosine"):
    from sklearn.cluster import DBSCAN

    db = DBSCAN(eps=eps, min_samples=min_samples, metric=metric).fit(x)
    mask = np.zeros(len(x), dtype=bool)
    mask[db.core_sample_indices_] = True
    return db.labels_.astype(np.int64), mask


def kdist(x, k, metric="cosine"):
    from sklearn.neighbors import NearestNeighbors

    d, _ = NearestNeighbors(n_neighbors=k, metric=metric, algorithm="brute").fit(x).kneighbors(x)
    return d[:, k - 1].astype(np.float32)


def knee(values):
    y = np.asarray(values, dtype=np.float64)
    if y.size < 3:
        return 0
    t = np.linspace(0, 1, y.size)
    span = y[-1] - y[0] or 1.0
    yn = (y - y[0]) / span
    return int(np.argmax(np.abs(yn - t)))


def silhouette(x, labels, metric="cosine", sample_size=None, seed=0):
    from sklearn.metrics import silhouette_score

    return float(
        silhouette_score(x, labels, metric=metric, sample_size=sample_size, random_state=seed)
    )


def lof(x, n_neighbors=20, metric="cosine"):
    from sklearn.neighbors import LocalOutlierFactor

    m = LocalOutlierFactor(n_neighbors=n_neighbors, metric=metric, algorithm="brute").fit(x)
    return m.negative_outlier_factor_.astype(np.float64)


_ORACLES = {f.__name__: f for f in (kmeans, dbscan, kdist, knee, silhouette, lof)}


@pytest.fixture
def core_or_oracle(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, fn in _ORACLES.items():
        if not hasattr(_core, name):
            monkeypatch.setattr(_core, name, fn, raising=False)
