"""Hypothesis: `QuantizedFlat.search` equals an exact scan on adversarial data: the same ids
and bit-equal scores as `flat_topk` of one query at a time (whose ranking uses the same f32
kernel), and NumPy float64 brute force up to rounding. Data: exact ties (copies of a query),
near-ties (a few ulps apart), huge / tiny / zero / non-finite rows, duplicated rows, k > n,
masks from all rows to a handful. Each kernel set the CPU has (EIGENLAKE_SIMD) agrees."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from eigenlake import _core


def adversarial(
    rng: np.random.Generator, n: int, dim: int, queries: np.ndarray, big: float
) -> np.ndarray:
    data = rng.standard_normal((n, dim)).astype(np.float32)
    data /= np.maximum(np.linalg.norm(data, axis=1, keepdims=True), 1e-30)
    rows = rng.permutation(n)
    cut = np.array_split(rows[: max(n // 4, 8)], 6)
    q = queries[0]
    data[cut[0]] = q  # exact ties with the first query
    for i in cut[1]:  # near-ties: coordinates a few ulps away
        v = q.copy()
        j = rng.integers(0, dim, 3)
        v[j] = np.nextafter(v[j], np.float32(np.inf) * rng.choice([-1, 1], 3)).astype(np.float32)
        data[i] = v
    data[cut[2]] *= rng.choice(np.float32([big, 1e-20, 1e3, 1e-6, 0.0]), (len(cut[2]), 1))
    data[cut[3]] = data[rng.integers(0, n, len(cut[3]))]  # duplicated rows
    data[cut[4]] = q * np.float32(1 + 1e-7)  # ties after rounding, or near
    if len(cut[5]) and rng.random() < 0.5:
        data[cut[5][0], 0] = np.float32(np.nan)
        data[cut[5][-1], -1] = np.float32(np.inf)
    return data


@st.composite
def problems(draw):
    n = draw(st.sampled_from([1, 40, 2100, 3333, 5000, 5000, 6000]))
    dim = draw(st.integers(1, 70))
    nq = draw(st.sampled_from([1, 3, 9, 20]))
    k = draw(st.sampled_from([1, 5, 10, 64, 10_000]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    queries = rng.standard_normal((nq, dim)).astype(np.float32)
    queries *= draw(
        st.sampled_from([np.float32(1), np.float32(1), np.float32(1e-15), np.float32(1e15)])
    )
    # rows of norm 1e20 make every l2 query (and ip queries of norm 1e15) overflow-prone:
    # those are scanned exactly, so most examples keep norms where the codes are used
    big = draw(st.sampled_from([1e20, 1e8, 1e8]))
    data = adversarial(rng, n, dim, queries, big)
    frac = draw(st.sampled_from([None, 1.0, 0.6, 0.002]))
    mask = None if frac is None else rng.random(n) < frac
    metric = draw(st.sampled_from(["ip", "ip", "l2"]))
    return data, queries, k, mask, metric


def one_at_a_time(data, queries, k, mask, metric="ip"):
    outs = [_core.flat_topk(data, queries[i : i + 1], k, metric, mask) for i in range(len(queries))]
    return np.vstack([o[0] for o in outs]), np.vstack([o[1] for o in outs])


@settings(max_examples=300, deadline=None)
@given(problems())
def test_search_equals_the_exact_scan(p) -> None:
    data, queries, k, mask, metric = p
    qf = _core.QuantizedFlat(data)
    assert len(qf) == len(data) and qf.dim == data.shape[1]
    ids, scores = qf.search(data, queries, k, metric, mask)
    event(f"{metric}: " + ("codes scanned" if qf.last_candidates else "exact path"))
    want_ids, want_scores = one_at_a_time(data, queries, k, mask, metric)
    np.testing.assert_array_equal(ids, want_ids)
    np.testing.assert_array_equal(scores.view(np.uint32), want_scores.view(np.uint32))
    # and against NumPy: each returned score is that row's true product, up to rounding
    finite = np.isfinite(data).all(1)
    d64, q64 = data.astype(np.float64), queries.astype(np.float64)
    for qi in range(len(queries)):
        got = ids[qi][ids[qi] >= 0]
        ok = got[finite[got]]
        qn, xn = np.linalg.norm(q64[qi]), np.linalg.norm(d64[ok], axis=1)
        if metric == "ip":
            true, tol = d64[ok] @ q64[qi], 1e-5 * qn * xn + 1e-30
        else:
            true, tol = ((d64[ok] - q64[qi]) ** 2).sum(1), 1e-5 * (qn + xn) ** 2 + 1e-30
        assert (np.abs(scores[qi][: len(got)][finite[got]] - true) <= tol).all()
        if mask is not None:
            assert mask[got].all()


def test_l2_and_empty_and_errors() -> None:
    rng = np.random.default_rng(0)
    data = rng.standard_normal((3000, 12)).astype(np.float32)
    q = rng.standard_normal((4, 12)).astype(np.float32)
    qf = _core.QuantizedFlat(data)
    got = qf.search(data, q, 7, "l2")
    want = [_core.flat_topk(data, q[i : i + 1], 7, "l2") for i in range(4)]
    np.testing.assert_array_equal(got[0], np.vstack([w[0] for w in want]))
    np.testing.assert_array_equal(got[1], np.vstack([w[1] for w in want]))
    empty = _core.QuantizedFlat(np.empty((0, 12), np.float32))
    ids, scores = empty.search(np.empty((0, 12), np.float32), q, 5)
    assert ids.shape == (4, 0) and scores.shape == (4, 0)
    with pytest.raises(ValueError, match="data"):
        qf.search(data[:10], q, 3)
    with pytest.raises(ValueError, match="queries"):
        qf.search(data, q[:, :5], 3)
    with pytest.raises(ValueError, match="queries"):
        qf.search(data, np.full((1, 12), np.nan, np.float32), 3)
    with pytest.raises(ValueError, match="queries.*2-D"):
        qf.search(data, q[0], 3)  # one query is a (1, d) matrix, as for flat_topk
    with pytest.raises(ValueError, match="data.*2-D"):
        _core.QuantizedFlat(data[0])
    with pytest.raises(ValueError, match="metric"):
        qf.search(data, q, 3, "cosine")
    with pytest.raises(ValueError, match="start"):
        qf.set_rows(2999, data[:5])
    with pytest.raises(ValueError, match="rows"):
        qf.append(data[:, :3])
    assert qf.memory_bytes >= 3000 * 12
    assert _core.QuantizedFlat.kernel() == _core.build_info()["quant_simd"]


def test_codes_follow_append_and_set_rows() -> None:
    rng = np.random.default_rng(1)
    data = rng.standard_normal((5000, 33)).astype(np.float32)
    qf = _core.QuantizedFlat(data[:100])
    qf.append(data[100:2500])
    qf.append(data[2500:])
    q = rng.standard_normal((6, 33)).astype(np.float32)
    data[700:760] = q[0] * 3  # rows change: without set_rows the codes would be stale
    qf.set_rows(700, data[700:760])
    ids, scores = qf.search(data, q, 10)
    want = one_at_a_time(data, q, 10, None)
    np.testing.assert_array_equal(ids, want[0])
    np.testing.assert_array_equal(scores, want[1])
    assert set(ids[0]) <= set(range(700, 760))
    assert qf.last_candidates >= 6 * 10


SCRIPT = """
import json, sys, numpy as np
from eigenlake import _core
rng = np.random.default_rng(int(sys.argv[1]))
data = rng.standard_normal((4000, 64)).astype(np.float32)
data[100:200] = data[5]
q = np.vstack([data[5], rng.standard_normal((39, 64)).astype(np.float32)])
ids, s = _core.QuantizedFlat(data).search(data, q, 12)
want = [_core.flat_topk(data, q[i : i + 1], 12) for i in range(len(q))]
same = all((ids[i] == w[0][0]).all() and (s[i].view(np.uint32) == w[1][0].view(np.uint32)).all()
           for i, w in enumerate(want))
print(json.dumps({"kernel": _core.QuantizedFlat.kernel(), "same": bool(same)}))
"""


def test_every_kernel_set_gives_the_exact_answer() -> None:
    """Each set's answer equals that process's exact scan (the f32 kernels differ per set,
    so scores are compared within a process)."""
    for simd, amx in (("scalar", "1"), ("avx2", "1"), ("avx512", "0"), ("avx512", "1")):
        env = dict(os.environ, EIGENLAKE_SIMD=simd, EIGENLAKE_AMX=amx)
        r = subprocess.run(
            [sys.executable, "-c", SCRIPT, "3"], env=env, check=True, capture_output=True, text=True
        )
        out = json.loads(r.stdout)
        assert out["same"], out
        if simd == "scalar":
            assert out["kernel"] == "scalar"
        if amx == "0":
            assert "amx" not in out["kernel"]
