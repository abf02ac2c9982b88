"""Hypothesis: `flat_topk` equals NumPy brute force up to ties, for any shape, k,
metric and mask, on both the batched (GEMM) and the single-query (GEMV) paths."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from eigenlake import _core


@st.composite
def problems(draw):
    n = draw(st.integers(1, 300))
    dim = draw(st.integers(1, 70))
    nq = draw(st.sampled_from([1, 2, 5, 37]))
    k = draw(st.integers(1, 20))
    metric = draw(st.sampled_from(["ip", "l2"]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    data = rng.uniform(-1, 1, (n, dim)).astype(np.float32)
    queries = rng.uniform(-1, 1, (nq, dim)).astype(np.float32)
    mask = rng.random(n) < draw(st.sampled_from([1.0, 0.5, 0.05])) if draw(st.booleans()) else None
    return data, queries, k, metric, mask


@settings(max_examples=150, deadline=None)
@given(problems())
def test_flat_topk_matches_brute_force(p) -> None:
    data, queries, k, metric, mask = p
    ids, scores = _core.flat_topk(data, queries, k, metric, mask)
    assert ids.shape == scores.shape == (len(queries), min(k, len(data)))  # k clamped to rows
    d64, q64 = data.astype(np.float64), queries.astype(np.float64)
    full = q64 @ d64.T if metric == "ip" else ((q64[:, None, :] - d64[None, :, :]) ** 2).sum(-1)
    allowed = np.ones(len(data), bool) if mask is None else mask
    n_ok = int(allowed.sum())
    tol = 1e-4 * (1 + np.abs(full).max())
    for qi in range(len(queries)):
        vals = full[qi, allowed]
        want = np.sort(-vals if metric == "ip" else vals)[:k]
        want = -want if metric == "ip" else want
        got_n = min(k, n_ok)
        # Padding exactly where fewer than k rows pass.
        assert (ids[qi, got_n:] == -1).all()
        assert (ids[qi, :got_n] >= 0).all()
        got_ids = ids[qi, :got_n]
        assert allowed[got_ids].all(), "a masked-out row was returned"
        assert len(set(got_ids.tolist())) == got_n, "duplicate ids"
        # Score multiset equal up to rounding; each score is that id's true score.
        np.testing.assert_allclose(scores[qi, :got_n], want[:got_n], atol=tol)
        np.testing.assert_allclose(scores[qi, :got_n], full[qi, got_ids], atol=tol)
