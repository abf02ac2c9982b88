"""`_core` at its limits: a huge k is clamped to the rows (never sized into an allocation),
integers beyond u64 are ValueErrors, and a panic in the compute core is a normal Python
exception. Oracle: NumPy brute force."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from eigenlake import _core

HUGE = [10**7, 10**18, 2**63, 2**64 - 1]


def brute(data: np.ndarray, queries: np.ndarray, metric: str, mask=None):
    """All rows best first (ties by smaller id), f64: (ids, scores); masked rows last as -1."""
    d64, q64 = data.astype(np.float64), queries.astype(np.float64)
    l2 = ((q64[:, None, :] - d64[None, :, :]) ** 2).sum(-1)
    key = -(q64 @ d64.T) if metric == "ip" else l2
    if mask is not None:
        key[:, ~mask] = np.inf
    ids = np.broadcast_to(np.arange(len(data)), key.shape)
    order = np.lexsort((ids, key), axis=-1)
    keys = np.take_along_axis(key, order, 1)
    order = np.where(np.isfinite(keys), order, -1)
    return order, (-keys if metric == "ip" else keys)


def problem(n: int = 40, nq: int = 5, dim: int = 6, seed: int = 0):
    rng = np.random.default_rng(seed)
    return (
        rng.standard_normal((n, dim)).astype(np.float32),
        rng.standard_normal((nq, dim)).astype(np.float32),
    )


def assert_full_ranking(ids, scores, want_ids, want_scores) -> None:
    assert ids.shape == scores.shape == want_ids.shape
    np.testing.assert_array_equal(ids, want_ids)
    real = want_ids >= 0
    np.testing.assert_allclose(scores[real], want_scores[real], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("metric", ["ip", "l2"])
@pytest.mark.parametrize("k", HUGE)
@pytest.mark.parametrize("nq", [1, 5])  # single-query (GEMV) and batched paths
def test_flat_topk_huge_k_is_the_full_ranking(metric: str, k: int, nq: int) -> None:
    data, queries = problem(nq=nq)
    ids, scores = _core.flat_topk(data, queries, k, metric)
    assert ids.shape == (nq, len(data))
    assert_full_ranking(ids, scores, *brute(data, queries, metric))
    # with a mask the width stays n; the rows it drops are padding
    mask = np.arange(len(data)) % 3 != 0
    ids, scores = _core.flat_topk(data, queries, k, metric, mask)
    want_ids, want_scores = brute(data, queries, metric, mask)
    assert_full_ranking(ids, scores, want_ids, want_scores)
    assert (scores[ids < 0] == (-np.inf if metric == "ip" else np.inf)).all()


@pytest.mark.parametrize("metric", ["ip", "l2"])
@pytest.mark.parametrize("k", HUGE)
def test_hnsw_huge_k_and_ef_are_clamped(metric: str, k: int) -> None:
    data, queries = problem()
    h = _core.Hnsw(data.shape[1], metric, seed=0)
    before = _core.num_threads()
    _core.set_num_threads(1)  # a one-thread build is deterministic
    try:
        h.add(data, 0)
    finally:
        _core.set_num_threads(before)
    want_ids, want_scores = brute(data, queries, metric)
    # a beam of the whole graph returns every reachable node (HNSW may leave a node
    # without in-links, more often for "ip"), in the exact order, the rest padding
    for ef in (64, k):
        for qs in (queries, queries[:1]):  # one query takes the inline path
            ids, scores = h.search(data, qs, k, ef)
            assert ids.shape == scores.shape == (len(qs), len(data))
            for got, s, want, ws in zip(ids, scores, want_ids, want_scores, strict=False):
                found = got[got >= 0]
                assert (got[len(found) :] == -1).all()
                assert len(found) >= 0.9 * len(data)
                np.testing.assert_array_equal(found, want[np.isin(want, found)])
                np.testing.assert_allclose(
                    s[: len(found)], ws[np.isin(want, found)], rtol=1e-5, atol=1e-5
                )
    # the graph covers the first rows only: the width follows the graph, not `data`
    more = np.vstack([data, queries])
    ids, _ = h.search(more, queries, k)
    assert ids.shape == (len(queries), len(data))


def test_empty_data_and_zero_k_give_empty_answers() -> None:
    data, queries = problem()
    ids, scores = _core.flat_topk(data[:0], queries, 2**64 - 1)
    assert ids.shape == scores.shape == (len(queries), 0)
    ids, _ = _core.flat_topk(data, queries, 0)
    assert ids.shape == (len(queries), 0)
    ids, _ = _core.Hnsw(data.shape[1]).search(data, queries, 10**18)
    assert ids.shape == (len(queries), 0)


def test_the_process_survives_huge_k() -> None:
    """Before the clamp, k = 10**18 made the core allocate (1, k) and abort the process: run
    the calls in a child so an abort is a failed test, not a dead test run."""
    code = textwrap.dedent(
        """
        import numpy as np
        from eigenlake import _core
        x = np.random.default_rng(0).standard_normal((30, 4)).astype(np.float32)
        h = _core.Hnsw(4)
        h.add(x, 0)
        for k in (10**18, 2**64 - 1):
            assert _core.flat_topk(x, x[:1], k)[0].shape == (1, 30)
            assert _core.flat_topk(x, x, k, "l2")[0].shape == (30, 30)
            assert h.search(x, x[:1], k, k)[0].shape == (1, 30)
            assert h.search(x, x, k)[0].shape == (30, 30)
        print("alive")
        """
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip() == "alive"


@pytest.mark.parametrize("bad", [-1, -(2**70), 2**64, 2**200])
def test_integers_beyond_u64_are_value_errors(bad: int) -> None:
    data, queries = problem()
    h = _core.Hnsw(data.shape[1])
    h.add(data, 0)
    calls = {
        "k": [
            lambda: _core.flat_topk(data, queries, bad),
            lambda: h.search(data, queries, bad),
            lambda: _core.kdist(data, bad),
            lambda: _core.knn(data, bad),
            lambda: _core.kmeans(data, bad),
        ],
        "ef": [lambda: h.search(data, queries, 3, bad)],
        "n_neighbors": [lambda: _core.lof(data, bad)],
        "min_samples": [lambda: _core.dbscan(data, 0.5, bad)],
        "max_iter": [lambda: _core.kmeans(data, 2, max_iter=bad)],
        "seed": [lambda: _core.kmeans(data, 2, seed=bad)],
        "sample_size": [lambda: _core.silhouette(data, np.arange(40) % 2, sample_size=bad)],
        "row": [lambda: h.mark_deleted(bad)],
        "n": [lambda: _core.set_num_threads(bad)],
    }
    for name, fns in calls.items():
        for fn in fns:
            with pytest.raises(ValueError, match=f"`{name}`"):
                fn()


def test_a_huge_but_valid_count_elsewhere_is_an_error_not_an_abort() -> None:
    data, _ = problem()
    for fn in (
        lambda: _core.knn(data, 2**64 - 1),
        lambda: _core.kdist(data, 10**18),
        lambda: _core.kmeans(data, 10**18),
        lambda: _core.minibatch_kmeans(data, 10**18),
        lambda: _core.set_num_threads(10**9),
    ):
        with pytest.raises(ValueError):
            fn()
    # n_neighbors and batch_size are clamped to the rows, as scikit-learn does
    lof = _core.lof(data, 2**64 - 1, "euclidean")
    np.testing.assert_allclose(lof, _core.lof(data, len(data) - 1, "euclidean"))
    assert _core.minibatch_kmeans(data, 2, batch_size=2**64 - 1, max_iter=2)[1].shape == (2, 6)


@pytest.mark.parametrize("inline", [False, True])
def test_a_core_panic_is_an_ordinary_exception(inline: bool) -> None:
    """A Rust panic would surface as pyo3's PanicException, a BaseException that walks past
    `except Exception` (and a server's error handler); it must be a RuntimeError."""
    with pytest.raises(_core.InternalError) as info:
        _core._panic_for_tests("index 7 out of range", inline=inline)
    assert isinstance(info.value, RuntimeError)
    assert str(info.value) == "internal error in the compute core: index 7 out of range"
    try:
        _core._panic_for_tests("caught")
    except Exception as e:  # the point: an ordinary handler catches it
        assert "caught" in str(e)
    # the pool survives the panic and keeps answering
    data, queries = problem()
    ids, _ = _core.flat_topk(data, queries, 3)
    np.testing.assert_array_equal(ids, brute(data, queries, "ip")[0][:, :3])


def test_numpy_fallback_scan_is_shaped_like_the_core() -> None:
    """`ann.numpy_topk` stands in for `flat_topk` while a graph builds: same clamped shape."""
    from eigenlake.embedded import ann

    data, queries = problem()
    mask = np.arange(len(data)) % 4 != 0
    for metric in ("ip", "l2"):
        for k in (5, len(data), len(data) + 1, 10**7):
            a_ids, _ = ann.exact_topk(data, queries, k, metric, mask)
            b_ids, _ = ann.numpy_topk(data, queries, k, metric, mask)
            assert a_ids.shape == b_ids.shape == (len(queries), min(k, len(data)))
            np.testing.assert_array_equal(a_ids, b_ids)
