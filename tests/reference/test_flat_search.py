"""Exact search (`_core.flat_topk`) against hand-worked cases and NumPy brute force."""

from __future__ import annotations

import numpy as np
import pytest

from eigenlake import _core


def brute(data: np.ndarray, queries: np.ndarray, k: int, metric: str, mask=None):
    """f64 brute force: (ids, scores) best first, ties by smaller id."""
    d64, q64 = data.astype(np.float64), queries.astype(np.float64)
    key = q64 @ d64.T if metric == "ip" else -((q64[:, None, :] - d64[None, :, :]) ** 2).sum(-1)
    if mask is not None:
        key[:, ~mask] = -np.inf
    order = np.lexsort((np.broadcast_to(np.arange(len(data)), key.shape), -key), axis=-1)
    order = order[:, :k]
    scores = np.take_along_axis(key, order, 1)
    scores = scores if metric == "ip" else -scores
    return order, scores


def test_hand_case_ip_and_l2() -> None:
    data = np.array([[1, 0], [0, 1], [1, 1], [-1, 0]], dtype=np.float32)
    q = np.array([[1, 0]], dtype=np.float32)
    ids, scores = _core.flat_topk(data, q, 3, "ip")
    assert ids.tolist() == [[0, 2, 1]]
    assert scores.tolist() == [[1.0, 1.0, 0.0]]
    ids, scores = _core.flat_topk(data, q, 4, "l2")
    assert ids.tolist() == [[0, 2, 1, 3]]
    assert scores.tolist() == [[0.0, 1.0, 2.0, 4.0]]


def test_mask_and_padding() -> None:
    data = np.eye(4, dtype=np.float32)
    q = np.ones((2, 4), dtype=np.float32)
    mask = np.array([False, True, False, True])
    ids, scores = _core.flat_topk(data, q, 3, "ip", mask)
    assert ids.tolist() == [[1, 3, -1], [1, 3, -1]]
    assert scores[0, 2] == -np.inf
    ids, scores = _core.flat_topk(data, q, 3, "l2", np.zeros(4, bool))
    assert (ids == -1).all() and (scores == np.inf).all()


@pytest.mark.parametrize("metric", ["ip", "l2"])
@pytest.mark.parametrize("nq", [1, 3, 200])
def test_matches_numpy_on_clustered(metric: str, nq: int) -> None:
    rng = np.random.default_rng(11)
    centres = rng.standard_normal((20, 96)).astype(np.float32)
    x = centres[rng.integers(0, 20, 5000 + nq)] + 0.3 * rng.standard_normal((5000 + nq, 96))
    x = x.astype(np.float32)
    data, queries = x[:5000], x[5000:]
    ids, scores = _core.flat_topk(data, queries, 10, metric)
    want_ids, want_scores = brute(data, queries, 10, metric)
    np.testing.assert_allclose(scores, want_scores, rtol=1e-4, atol=1e-3)
    # Ids must agree wherever the score gap to the neighbours is clear.
    gap = np.abs(np.diff(want_scores, axis=1))
    clear = np.ones_like(want_ids, dtype=bool)
    clear[:, 1:] &= gap > 1e-2
    clear[:, :-1] &= gap > 1e-2
    assert (ids[clear] == want_ids[clear]).all()


def test_errors_name_the_argument() -> None:
    data = np.zeros((5, 3), dtype=np.float32)
    with pytest.raises(ValueError, match="`data`"):
        _core.flat_topk(data.astype(np.complex64), data, 1)
    with pytest.raises(ValueError, match="`queries`"):
        _core.flat_topk(data, np.zeros((2, 4), np.float32), 1)
    with pytest.raises(ValueError, match="`queries`"):
        _core.flat_topk(data, np.zeros(3, np.float32), 1)
    with pytest.raises(ValueError, match="`metric`"):
        _core.flat_topk(data, data, 1, "cosine")
    with pytest.raises(ValueError, match="`mask`"):
        _core.flat_topk(data, data, 1, "ip", np.ones(4, bool))
    with pytest.raises(ValueError, match="`mask`"):
        _core.flat_topk(data, data, 1, "ip", np.ones(5, np.int8))
    # a negative k used to be an OverflowError: every bad k is a ValueError naming it
    for k in (-1, 2**64):
        with pytest.raises(ValueError, match="`k`"):
            _core.flat_topk(data, data, k)


def test_k_beyond_the_rows_is_clamped_to_them() -> None:
    """A k past the rows (up to 2**64-1) answers all rows, best first: (q, n), not (q, k)
    (2**62 used to be refused, 10**18 to abort the process allocating the answer)."""
    rng = np.random.default_rng(5)
    data = rng.standard_normal((30, 8)).astype(np.float32)
    queries = rng.standard_normal((4, 8)).astype(np.float32)
    for metric in ("ip", "l2"):
        want_ids, want_scores = brute(data, queries, 30, metric)
        for k in (31, 2**62, 10**18, 2**64 - 1):
            for q in (queries, queries[:1]):
                ids, scores = _core.flat_topk(data, q, k, metric)
                assert ids.shape == scores.shape == (len(q), 30)
                np.testing.assert_array_equal(ids, want_ids[: len(q)])
                np.testing.assert_allclose(scores, want_scores[: len(q)], rtol=1e-5, atol=1e-5)


def test_any_layout_and_real_dtype_is_read_as_c_order_float32() -> None:
    """A Fortran-ordered `data` used to be read as if C-ordered (wrong ids); strided views
    were refused. Every layout and dtype now gives the NumPy answer."""
    rng = np.random.default_rng(6)
    data = rng.standard_normal((200, 12)).astype(np.float32)
    queries = rng.standard_normal((9, 12)).astype(np.float32)
    wide = np.zeros((200, 24), np.float32)
    wide[:, ::2] = data
    for metric in ("ip", "l2"):
        want_ids, want_scores = brute(data, queries, 10, metric)
        for d in (np.asfortranarray(data), wide[:, ::2], data.astype(np.float64)):
            for q in (np.asfortranarray(queries), queries.astype(np.float64)):
                ids, scores = _core.flat_topk(d, q, 10, metric)
                np.testing.assert_array_equal(ids, want_ids)
                np.testing.assert_allclose(scores, want_scores, rtol=1e-4, atol=1e-4)
