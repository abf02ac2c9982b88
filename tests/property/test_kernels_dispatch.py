"""Every kernel set this CPU has gives the same search answers (subprocesses, since
the set is picked once per process); the override falls back instead of failing."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

SCRIPT = """
import json, sys, numpy as np, eigenlake
from eigenlake import _core
seed, n, dim, nq = map(int, sys.argv[1:])
rng = np.random.default_rng(seed)
data = rng.standard_normal((n, dim)).astype(np.float32)
q = rng.standard_normal((nq, dim)).astype(np.float32)
out = {"simd": eigenlake.build_info()["simd"]}
for m in ("ip", "l2"):
    ids, s = _core.flat_topk(data, q, 5, m)
    out[m] = s.tolist()
print(json.dumps(out))
"""


def run(simd: str | None, *args: int) -> dict:
    env = dict(os.environ)
    env.pop("EIGENLAKE_SIMD", None)
    if simd is not None:
        env["EIGENLAKE_SIMD"] = simd
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, *map(str, args)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def test_override_and_fallback() -> None:
    best = run(None, 0, 50, 8, 2)["simd"]
    assert run("scalar", 0, 50, 8, 2)["simd"] == "scalar"
    assert run("nonsense", 0, 50, 8, 2)["simd"] == best


@settings(max_examples=4, deadline=None)
@given(
    st.integers(0, 1000),
    st.integers(1, 700),
    st.sampled_from([1, 7, 16, 33, 384]),
    st.sampled_from([1, 9]),
)
def test_all_isas_agree(seed: int, n: int, dim: int, nq: int) -> None:
    ref = run("scalar", seed, n, dim, nq)
    for simd in ("avx2", "avx512"):
        got = run(simd, seed, n, dim, nq)
        if got["simd"] != simd:
            print(f"SKIP {simd}: not supported here (got {got['simd']})")
            continue
        for m in ("ip", "l2"):
            a, b = np.array(got[m]), np.array(ref[m])
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4 * dim)
