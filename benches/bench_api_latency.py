"""One query through the Python API vs the raw kernel: p50/p99 and the API's overhead.

    .venv/bin/python benches/bench_api_latency.py [--n 100000] [--queries 300]

Two embedded indexes over the same 100,000 × 384 clustered unit vectors: one always
scanning exactly (`exact_threshold` above n), one on HNSW (defaults; the build is waited
for). For each, `search.nearest(vector=q, limit=10)` is timed against the kernel it calls
(`_core.flat_topk` / `Hnsw.search`) on the same matrix. Results: `benches/results/api_latency.md`.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

import eigenlake
from eigenlake import _core

HERE = Path(__file__).resolve().parent
D = 384


def percentiles(fn, queries: np.ndarray) -> tuple[float, float]:
    times = []
    for q in queries:
        t = time.perf_counter()
        fn(q)
        times.append(time.perf_counter() - t)
    us = np.array(times) * 1e6
    return float(np.percentile(us, 50)), float(np.percentile(us, 99))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=300)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((100, D)).astype(np.float32)
    x = (
        centres[rng.integers(0, 100, args.n)]
        + rng.standard_normal((args.n, D), dtype=np.float32) * 0.03
    )
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    queries = x[rng.integers(0, args.n, args.queries)] + 0.01
    records = [{"properties": {"i": i}, "vector": v} for i, v in enumerate(x)]
    root = tempfile.mkdtemp(prefix="eigenlake-lat-")
    rows = []
    try:
        with eigenlake.connect(path=root) as client:
            for mode, options in (
                ("exact", {"exact_threshold": args.n + 1}),
                ("hnsw", {"exact_threshold": 1000}),
            ):
                idx = client.indexes.create_or_get(
                    namespace="bench", index=mode, dimensions=D, index_options=options
                )
                idx.records.add_many(records)
                idx.search.nearest(vector=queries[0], limit=10)
                data = idx._cache.matrix()
                if mode == "hnsw":
                    idx._ann.wait()
                    graph = idx._ann.graph
                    ef = idx._ann.ef_search

                    def raw(q, graph=graph, data=data, ef=ef):
                        return graph.search(data, q[None, :], 10, ef)
                else:

                    def raw(q, data=data):
                        return _core.flat_topk(data, q[None, :], 10, "ip")

                for q in queries[:20]:  # warm up both paths
                    raw(q)
                    idx.search.nearest(vector=q, limit=10)
                api = percentiles(
                    lambda q, idx=idx: idx.search.nearest(vector=q, limit=10), queries
                )
                kernel = percentiles(raw, queries)
                rows.append((mode, api, kernel))
                print(mode, api, kernel, flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    info = eigenlake.build_info()
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next(
        (ln.split(":", 1)[1].strip() for ln in cpuinfo if ln.startswith("model name")),
        platform.processor(),
    )
    lines = [
        "## One query through the Python API",
        "",
        f"Machine: {cpu}, {os.cpu_count()} CPUs, SIMD `{info['simd']}`, {info['num_threads']} threads; "
        f"{args.n:,} × {D} unit vectors, top-10, {args.queries} queries one at a time.",
        "",
        "| path | API p50 µs | API p99 µs | kernel p50 µs | kernel p99 µs | overhead p50 µs |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for mode, (a50, a99), (k50, k99) in rows:
        lines.append(
            f"| {mode} | {a50:.0f} | {a99:.0f} | {k50:.0f} | {k99:.0f} | {a50 - k50:.0f} |"
        )
    (HERE / "results" / "api_latency.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
