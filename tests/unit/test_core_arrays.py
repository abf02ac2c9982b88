"""Every `_core` function that takes a matrix reads it the same way in any memory order and
any real dtype: C order, Fortran order, strided and reversed views, a float64 copy and an
integer copy give the C-order float32 answer. Oracles: that answer and NumPy brute force.
Before one conversion helper served every binding, `flat_topk` read a Fortran array as if
it were C-ordered (wrong ids) while the analytics refused it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from eigenlake import _core


def layouts(x: np.ndarray) -> dict[str, np.ndarray]:
    """The same values as `x` (C-contiguous float32) in other layouts and dtypes."""
    big = np.zeros((2 * x.shape[0], 3 * x.shape[1]), np.float32)
    big[::2, ::3] = x
    rev = np.ascontiguousarray(x[::-1])
    out = {
        "fortran": np.asfortranarray(x),
        "strided": big[::2, ::3],
        "reversed": rev[::-1],
        "float64": x.astype(np.float64),
        "big-endian": x.astype(">f4"),
    }
    assert not out["fortran"].flags.c_contiguous and not out["strided"].flags.c_contiguous
    assert out["reversed"].strides[0] < 0
    for v in out.values():
        np.testing.assert_array_equal(v, x)
    return out


def vectors(n: int = 120, dim: int = 7, seed: int = 0, integer: bool = False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 4, (4, dim))
    x = centres[rng.integers(0, 4, n)] + rng.normal(0, 1, (n, dim))
    return np.ascontiguousarray(np.round(x) if integer else x, dtype=np.float32)


def same(a: Any, b: Any) -> None:
    """Equal answers: arrays elementwise, tuples element by element, floats exactly."""
    if isinstance(a, tuple):
        assert len(a) == len(b)
        for u, v in zip(a, b, strict=True):
            same(u, v)
    else:
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def pairwise(x: np.ndarray, metric: str) -> np.ndarray:
    x = x.astype(np.float64)
    if metric == "cosine":
        u = x / np.linalg.norm(x, axis=1, keepdims=True)
        return np.maximum(1.0 - u @ u.T, 0.0)
    return np.sqrt(np.maximum(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1), 0.0))


LABELS = (np.arange(120) * 7 // 120).astype(np.int64)

# name -> call taking the matrix; each must give the same answer in every layout
CALLS: dict[str, Callable[[np.ndarray], Any]] = {
    "flat_topk data": lambda m: _core.flat_topk(m, vectors(5, seed=1), 9, "l2"),
    "flat_topk queries": lambda m: _core.flat_topk(vectors(seed=2), m[:6], 9, "ip"),
    "kmeans": lambda m: _core.kmeans(m, 4, seed=3, spherical=False),
    "kmeans init": lambda m: _core.kmeans(vectors(seed=2), 4, init=m[:4], spherical=False),
    "minibatch_kmeans": lambda m: _core.minibatch_kmeans(m, 3, batch_size=32, max_iter=5),
    "dbscan": lambda m: _core.dbscan(m, 2.5, 4, "euclidean"),
    "kdist": lambda m: _core.kdist(m, 5, "euclidean"),
    "knn": lambda m: _core.knn(m, 6, "cosine"),
    "lof": lambda m: _core.lof(m, 10, "euclidean"),
    "silhouette": lambda m: _core.silhouette(m, LABELS, "euclidean"),
    "silhouette_samples": lambda m: _core.silhouette_samples(m, LABELS, "cosine"),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_every_layout_and_dtype_gives_the_c_order_answer(name: str) -> None:
    x = vectors()
    want = CALLS[name](x)
    for layout, m in layouts(x).items():
        try:
            same(CALLS[name](m), want)
        except AssertionError as e:
            raise AssertionError(f"{name}: {layout} differs from C order") from e
    # integer dtypes hold integer-valued rows exactly
    xi = vectors(integer=True)
    want = CALLS[name](xi)
    for dt in (np.int32, np.int64, np.uint8 if xi.min() >= 0 else np.int16, np.float16):
        same(CALLS[name](xi.astype(dt)), want)


def test_hnsw_every_layout_gives_the_c_order_answer() -> None:
    x, q = vectors(300, 8, seed=4), vectors(7, 8, seed=5)
    before = _core.num_threads()
    _core.set_num_threads(1)  # one-thread builds are deterministic: graphs comparable

    def run(data: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h = _core.Hnsw(8, "l2", seed=1)
        h.add(data, 0)
        return h.search(data, queries, 10, 40)

    try:
        want = run(x, q)
        for layout, m in layouts(x).items():
            same(run(m, layouts(q)[layout]), want)
    finally:
        _core.set_num_threads(before)


def test_answers_match_numpy_brute_force_in_fortran_order() -> None:
    """The Fortran bug gave the wrong ids outright: check the layouts against NumPy too."""
    x, q = vectors(), vectors(6, seed=1)
    d2 = ((q.astype(np.float64)[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    for data in (np.asfortranarray(x), layouts(x)["strided"], x.astype(np.float64)):
        ids, dist = _core.flat_topk(data, np.asfortranarray(q), 5, "l2")
        np.testing.assert_array_equal(ids, np.argsort(d2, axis=1, kind="stable")[:, :5])
        np.testing.assert_allclose(dist, np.sort(d2, axis=1)[:, :5], rtol=1e-5)
        full = pairwise(x, "cosine")
        np.fill_diagonal(full, np.inf)
        ids, dist = _core.knn(data, 4, "cosine")
        np.testing.assert_allclose(dist, np.sort(full, axis=1)[:, :4], atol=1e-5)
        kd = _core.kdist(data, 3, "euclidean")
        np.testing.assert_allclose(kd, np.sort(pairwise(x, "euclidean"), axis=1)[:, 2], rtol=1e-5)


def test_vectors_any_layout_and_integer_dtype() -> None:
    x = vectors()
    want = _core.silhouette(x, LABELS, "euclidean")
    for labels in (LABELS.astype(np.int32), LABELS.astype(np.uint16), np.repeat(LABELS, 2)[::2]):
        assert _core.silhouette(x, labels, "euclidean") == want
    curve = np.sort(_core.kdist(x, 4, "euclidean"))
    knee = _core.knee(curve)
    for values in (curve.astype(np.float64), np.repeat(curve, 2)[::2], curve[::-1].copy()[::-1]):
        assert _core.knee(values) == knee
    mask = np.arange(len(x)) % 2 == 0
    want = _core.flat_topk(x, x[:3], 4, "ip", mask)
    same(_core.flat_topk(x, x[:3], 4, "ip", np.repeat(mask, 3)[::3]), want)


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((4, 3), np.complex64), "real numbers"),
        (np.zeros((4, 3), bool), "real numbers"),
        (np.array([["a", "b"]] * 4), "real numbers"),
        (np.zeros((4, 3), object), "real numbers"),
        (np.zeros(4, np.float32), "2-D"),
        (np.zeros((2, 2, 2), np.float32), "2-D"),
        ([[0.0, 1.0], [1.0, 0.0]], "2-D NumPy array"),
        (np.zeros((4, 0), np.float32), "one column"),
        (np.array([[0.0, np.nan]] * 4), "NaN or infinity"),
        (np.array([[0.0, np.inf]] * 4, np.float32), "NaN or infinity"),
        (np.array([[0.0, 1e300]] * 4), "float32 range"),
    ],
)
def test_bad_matrices_are_refused_alike_naming_the_argument(bad: Any, message: str) -> None:
    good = vectors(4, 3)
    h = _core.Hnsw(3)
    h.add(good, 0)
    calls = {
        "x": [
            lambda: _core.kmeans(bad, 1),
            lambda: _core.minibatch_kmeans(bad, 1),
            lambda: _core.dbscan(bad, 0.5, 2),
            lambda: _core.kdist(bad, 1),
            lambda: _core.knn(bad, 1),
            lambda: _core.lof(bad),
            lambda: _core.silhouette(bad, np.arange(4) % 2),
            lambda: _core.silhouette_samples(bad, np.arange(4) % 2),
        ],
        "queries": [lambda: _core.flat_topk(good, bad, 1), lambda: h.search(good, bad, 1)],
        "init": [lambda: _core.kmeans(good, 4, init=bad)],
    }
    if "NaN" not in message and "range" not in message:
        # `data` of a search is not scanned for NaN (every query reads it again)
        calls["data"] = [lambda: _core.flat_topk(bad, good, 1), lambda: h.search(bad, good, 1)]
    for name, fns in calls.items():
        for fn in fns:
            with pytest.raises(ValueError, match=f"`{name}`") as info:
                fn()
            assert message in str(info.value), str(info.value)


def test_bad_vectors_are_refused_naming_the_argument() -> None:
    x = vectors(6, 3)
    with pytest.raises(ValueError, match="`labels`.*integers"):
        _core.silhouette(x, np.arange(6) % 2 + 0.5)
    with pytest.raises(ValueError, match="`labels` has length 5"):
        _core.silhouette(x, np.arange(5) % 2)
    with pytest.raises(ValueError, match="`mask`.*bool"):
        _core.flat_topk(x, x, 1, "ip", np.ones(6, np.int8))
    with pytest.raises(ValueError, match="`mask` has length 5"):
        _core.flat_topk(x, x, 1, "ip", np.ones(5, bool))
    with pytest.raises(ValueError, match="`values`.*NaN"):
        _core.knee(np.array([0.0, np.nan, 1.0]))
    with pytest.raises(ValueError, match="`metric`"):
        _core.kdist(x, 1, "ip")
    with pytest.raises(ValueError, match="`metric`"):
        _core.flat_topk(x, x, 1, "cosine")


def test_hnsw_add_refuses_non_finite_new_rows_only() -> None:
    x = vectors(10, 3)
    h = _core.Hnsw(3)
    bad = x.copy()
    bad[7, 1] = np.nan
    with pytest.raises(ValueError, match="`data`.*NaN"):
        h.add(bad, 0)
    assert len(h) == 0
    h.add(x[:5], 0)
    old_bad = x.copy()
    old_bad[2, 0] = np.inf  # a row already indexed: not read again
    h.add(old_bad, 5)
    assert len(h) == 10
