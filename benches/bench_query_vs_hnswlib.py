"""One query at a time through the public API (`idx.search.nearest`) vs hnswlib called from
Python, side by side in one run, at 5k, 20k and 100k rows (384-d clustered unit vectors).

    .venv/bin/pip install -r benches/requirements-search.txt   # hnswlib (bench only)
    .venv/bin/python benches/bench_query_vs_hnswlib.py [--sizes 5000 20000 100000]

Our index uses its defaults (exact scan up to `exact_threshold` = 2,500 rows, HNSW
M=16/efC=200/ef=64 above, built in the background after the writes; `search.prepare()`
waits for it); hnswlib uses the same M/efC/ef.
Alternating rounds (ours, hnswlib, hnswlib, ours, ...) so machine load hits both alike;
p50 per query and recall@10 against NumPy brute force. Results:
`benches/results/query_vs_hnswlib.md`.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import hnswlib
import numpy as np

import eigenlake

HERE = Path(__file__).resolve().parent
D, K = 384, 10


def data(n: int, nq: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((100, D)).astype(np.float32)
    x = centres[rng.integers(0, 100, n)] + rng.standard_normal((n, D), dtype=np.float32) * 0.03
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    q = x[rng.integers(0, n, nq)] + rng.standard_normal((nq, D), dtype=np.float32) * 0.01
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return x, q.astype(np.float32)


def p50_us(times: list[float]) -> float:
    return float(np.median(times)) / 1e3


def timed(fn: Callable[[np.ndarray], list[int]], qs: np.ndarray, times: list[float]) -> list:
    hits = []
    for q in qs:
        t = time.perf_counter_ns()
        hits.append(fn(q))
        times.append(time.perf_counter_ns() - t)
    return hits


def recall(hits: list[list[int]], truth: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(b)) / K for a, b in zip(hits, truth, strict=True)]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[5_000, 20_000, 100_000])
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=4)
    args = ap.parse_args()
    eigenlake.set_num_threads(2)
    load = os.getloadavg()
    rows = []
    root = tempfile.mkdtemp(prefix="eigenlake-vs-hnswlib-")
    try:
        with eigenlake.connect(path=root) as client:
            for n in args.sizes:
                x, qs = data(n, args.queries)
                truth = np.argsort(-(qs @ x.T), axis=1)[:, :K]
                idx = client.indexes.create_or_get(namespace="b", index=f"n{n}", dimensions=D)
                ids = idx.records.add_vectors(x)
                row_of = {u: i for i, u in enumerate(ids)}
                ready = idx.search.prepare()  # the graph covers every row from here on
                h = hnswlib.Index(space="ip", dim=D)
                h.init_index(max_elements=n, M=16, ef_construction=200, random_seed=0)
                h.set_num_threads(2)
                h.add_items(x)
                h.set_ef(64)
                h.set_num_threads(1)  # one query at a time, as the API is called
                ours_t: list[float] = []
                theirs_t: list[float] = []

                def ours_one(q: np.ndarray, idx: object = idx, row_of: dict = row_of) -> list[int]:
                    r = idx.search.nearest(vector=q, limit=K)  # type: ignore[attr-defined]
                    return [row_of[hit["uuid"]] for hit in r["results"]]

                def theirs_one(q: np.ndarray, h: hnswlib.Index = h) -> list[int]:
                    return h.knn_query(q, k=K)[0][0].tolist()

                for q in qs[:20]:
                    ours_one(q)
                    theirs_one(q)
                ours_rc = theirs_rc = 0.0
                for r in range(args.rounds):
                    pair = ((ours_one, ours_t), (theirs_one, theirs_t))
                    for fn, times in pair if r % 2 == 0 else pair[::-1]:
                        hits = timed(fn, qs, times)
                        rc = recall(hits, truth)
                        if fn is ours_one:
                            ours_rc = rc
                        else:
                            theirs_rc = rc
                path = ready["method"]
                rows.append((n, path, p50_us(ours_t), ours_rc, p50_us(theirs_t), theirs_rc))
                print(rows[-1], flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    end = os.getloadavg()
    lines = [
        "## One query through the public API vs hnswlib (side by side)",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"SIMD `{eigenlake.build_info()['simd']}`; {D}-d clustered unit vectors, top-{K}, "
        f"{args.queries} queries one at a time, {args.rounds} alternating rounds; hnswlib "
        f"M=16, efC=200, ef=64; load average {load[0]:.2f} at the start, {end[0]:.2f} at the end.",
        "",
        "| rows | our path | ours p50 µs | ours recall@10 | hnswlib p50 µs | hnswlib recall@10 "
        "| ours / hnswlib speed |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for n, path, o, orc, t, trc in rows:
        lines.append(
            f"| {n:,} | {path} | {o:.0f} | {orc:.3f} | {t:.0f} | {trc:.3f} | {t / o:.2f}x |"
        )
    (HERE / "results" / "query_vs_hnswlib.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
