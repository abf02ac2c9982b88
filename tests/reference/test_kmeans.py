"""k-means against scikit-learn (which has no spherical k-means: KMeans on unit rows)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from eigenlake import _core


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def sphere_blobs(
    n: int, d: int, k: int, spread: float, seed: int, max_cos: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors around k random unit centres (redrawn until pairwise cos <= max_cos)."""
    rng = np.random.default_rng(seed)
    while True:
        centres = unit(rng.normal(size=(k, d)))
        g = centres @ centres.T - 2 * np.eye(k)
        if g.max() <= max_cos:
            break
    y = rng.integers(0, k, n)
    return unit(centres[y] + spread * rng.normal(size=(n, d)) / np.sqrt(d)), y


@settings(max_examples=20, deadline=None)
@given(
    n=st.integers(60, 600),
    d=st.integers(8, 64),
    k=st.integers(2, 8),
    seed=st.integers(0, 10_000),
)
def test_same_partition_as_sklearn_from_same_init(n: int, d: int, k: int, seed: int) -> None:
    x, y = sphere_blobs(n, d, k, 0.1, seed, max_cos=0.7)
    assume(len(np.unique(y)) == k)
    # one random member of each blob, so both runs face the same well-posed problem
    rng = np.random.default_rng(seed + 1)
    init = np.stack([x[rng.choice(np.flatnonzero(y == c))] for c in range(k)])
    labels, cent, _, _ = _core.kmeans(x, k, init=init, max_iter=100, tol=0.0)
    sk = KMeans(k, init=init.astype(np.float64), n_init=1, max_iter=100, tol=0.0)
    sk.fit(x.astype(np.float64))
    assert adjusted_rand_score(labels, sk.labels_) == 1.0
    np.testing.assert_allclose(np.linalg.norm(cent, axis=1), 1.0, atol=1e-5)


@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(200, 1500),
    d=st.integers(4, 48),
    k=st.integers(2, 10),
    seed=st.integers(0, 10_000),
    spherical=st.booleans(),
)
def test_recovers_well_separated_blobs(n: int, d: int, k: int, seed: int, spherical: bool) -> None:
    if spherical:
        x, y = sphere_blobs(n, d, k, 0.05, seed, max_cos=0.8)
    else:
        x, y = make_blobs(
            n, centers=k, n_features=d, cluster_std=0.5, center_box=(-20, 20), random_state=seed
        )
        x = x.astype(np.float32)
    labels, _, _, _ = _core.kmeans(x, len(np.unique(y)), n_init=3, seed=seed, spherical=spherical)
    assert adjusted_rand_score(y, labels) >= 0.99


def test_euclidean_inertia_and_labels_match_sklearn() -> None:
    x, _ = make_blobs(2000, centers=6, n_features=10, random_state=3)
    x = x.astype(np.float32)
    init = x[:6].copy()
    labels, cent, inertia, n_iter = _core.kmeans(
        x, 6, init=init, spherical=False, tol=0.0, max_iter=300
    )
    sk = KMeans(6, init=init.astype(np.float64), n_init=1, tol=0.0, max_iter=300).fit(
        x.astype(np.float64)
    )
    assert adjusted_rand_score(labels, sk.labels_) == 1.0
    np.testing.assert_allclose(cent, sk.cluster_centers_, atol=1e-4)
    assert inertia == pytest.approx(sk.inertia_, rel=1e-4)
    assert 1 <= n_iter <= 300


def test_deterministic_and_seed_sensitive() -> None:
    x, _ = sphere_blobs(1000, 16, 8, 0.6, 0)
    a = _core.kmeans(x, 8, seed=1)
    b = _core.kmeans(x, 8, seed=1)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_n_init_keeps_lowest_inertia() -> None:
    x, _ = sphere_blobs(800, 16, 12, 0.8, 4)
    one = _core.kmeans(x, 12, n_init=1, seed=5)[2]
    many = _core.kmeans(x, 12, n_init=6, seed=5)[2]
    assert many <= one + 1e-9


def test_spherical_inertia_is_sum_of_cosine_distances() -> None:
    x, _ = sphere_blobs(500, 8, 4, 0.3, 2)
    labels, cent, inertia, _ = _core.kmeans(x, 4)
    assert inertia == pytest.approx(float(np.sum(1 - np.sum(x * cent[labels], axis=1))), rel=1e-4)


@pytest.mark.parametrize(
    "kwargs",
    [{"k": 0}, {"k": 11}, {"max_iter": 0}, {"n_init": 0}, {"tol": -1.0}],
)
def test_invalid_parameters_raise_value_error(kwargs: dict) -> None:
    x = np.random.default_rng(0).normal(size=(10, 3)).astype(np.float32)
    args = {"k": 2, **kwargs}
    k = args.pop("k")
    with pytest.raises(ValueError):
        _core.kmeans(x, k, **args)


def test_init_shape_checked() -> None:
    x = np.random.default_rng(0).normal(size=(10, 3)).astype(np.float32)
    with pytest.raises(ValueError, match="init"):
        _core.kmeans(x, 2, init=np.zeros((3, 3), dtype=np.float32))


def test_minibatch_recovers_blobs_and_is_seeded() -> None:
    x, y = sphere_blobs(20_000, 32, 10, 0.05, 9, max_cos=0.8)
    a = _core.minibatch_kmeans(x, 10, batch_size=1024, max_iter=50, seed=2)
    b = _core.minibatch_kmeans(x, 10, batch_size=1024, max_iter=50, seed=2)
    np.testing.assert_array_equal(a[0], b[0])
    assert adjusted_rand_score(y, a[0]) >= 0.99
    assert a[1].shape == (10, 32) and a[3] == 50


def test_minibatch_invalid_batch_size() -> None:
    x = np.random.default_rng(0).normal(size=(10, 3)).astype(np.float32)
    with pytest.raises(ValueError, match="batch_size"):
        _core.minibatch_kmeans(x, 2, batch_size=0)


def test_fortran_order_is_read_as_rows_not_transposed() -> None:
    x = np.random.default_rng(3).random((60, 5), dtype=np.float32)
    want = _core.kmeans(np.ascontiguousarray(x), 3, seed=1)
    got = _core.kmeans(np.asfortranarray(x), 3, seed=1)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


def test_heavy_calls_release_the_gil() -> None:
    import threading
    import time

    # uniform noise: the bounds prune little, so every iteration does real work
    x = np.random.default_rng(0).random((50_000, 32), dtype=np.float32)
    took = [0.0]

    def work() -> None:
        t = time.perf_counter()
        _core.kmeans(x, 64, max_iter=30, tol=0.0, spherical=False)
        took[0] = time.perf_counter() - t

    worker = threading.Thread(target=work)
    last = time.perf_counter()
    gap = 0.0
    worker.start()
    while worker.is_alive():
        # a call that kept the GIL would stall this loop for its whole duration
        now = time.perf_counter()
        gap, last = max(gap, now - last), now
    worker.join()
    if took[0] < 0.05:
        pytest.skip("call too short to tell")
    assert gap < 0.5 * took[0]


@settings(max_examples=8, deadline=None)
@given(
    d=st.integers(16, 96),
    k=st.integers(2, 24),
    spread=st.sampled_from([0.3, 1.0, 3.0]),
    seed=st.integers(0, 10_000),
)
def test_spherical_labels_are_the_nearest_centroid_at_int8_sizes(
    d: int, k: int, spread: float, seed: int
) -> None:
    """From 2,048 rows spherical k-means assigns from int8 codes (AMX): every final label
    must still be the f32 argmax of x·c over the returned centroids (near-ties aside), with
    duplicated rows and near-duplicate centres (blobs up to cos 0.99 apart)."""
    x, _ = sphere_blobs(2600, d, k, spread, seed, max_cos=0.99)
    x[1300:1600] = x[:300]  # duplicated rows
    labels, cent, inertia, _ = _core.kmeans(x, k, max_iter=30, seed=seed, spherical=True)
    s = x.astype(np.float64) @ cent.astype(np.float64).T
    got = s[np.arange(len(x)), labels]
    assert np.all(got >= s.max(axis=1) - 1e-5)
    assert inertia == pytest.approx(float((1 - got).clip(0).sum()), rel=1e-5, abs=1e-6)


def test_int8_assignment_ends_where_the_f32_path_ends() -> None:
    """The same labels, centroids and iterations with `EIGENLAKE_KMEANS_CODES=0` (f32
    scores of every centroid) over fixed seeds, in a fresh process (the switch is read once)."""
    import os
    import subprocess
    import sys
    import tempfile

    x, _ = sphere_blobs(6000, 48, 12, 1.5, 3, max_cos=0.9)
    code = (
        "import sys, numpy as np\n"
        "from eigenlake import _core\n"
        "x = np.load(sys.argv[1])\n"
        "out = [_core.kmeans(x, 12, max_iter=40, seed=s, spherical=True) for s in range(3)]\n"
        "np.savez(sys.argv[2], *[o[0] for o in out], *[o[1] for o in out],"
        " its=np.array([o[3] for o in out]))\n"
    )
    with tempfile.TemporaryDirectory() as tmp:
        np.save(f"{tmp}/x.npy", x)
        runs = []
        for flag in ("1", "0"):
            env = dict(os.environ, EIGENLAKE_KMEANS_CODES=flag)
            out = f"{tmp}/out{flag}.npz"
            subprocess.run([sys.executable, "-c", code, f"{tmp}/x.npy", out], env=env, check=True)
            with np.load(out) as f:
                runs.append({k: f[k] for k in f.files})
    coded, plain = runs
    assert coded.keys() == plain.keys()
    for key in coded:
        np.testing.assert_array_equal(coded[key], plain[key], err_msg=key)
