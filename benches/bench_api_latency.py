"""One query through the Python API vs the raw kernel: p50/p99 and the API's overhead.

    .venv/bin/python benches/bench_api_latency.py [--n 100000] [--queries 300]

Two embedded indexes over the same 100,000 × 384 clustered unit vectors: one always
scanning exactly (`exact_threshold` above n), one on HNSW (defaults; the build is waited
for). For each, `search.nearest(vector=q, limit=10)` is timed against the kernel it calls
(`QuantizedFlat.search` over the cache's int8 row codes / `Hnsw.search`) on the same matrix, in alternating rounds (API loop,
kernel loop, kernel loop, API loop, ...) so load from other processes hits both alike.
On a shared machine the difference of two p50s is noisy at the 50 µs scale (an exact scan
takes milliseconds), so each API call also times the kernel call inside it: "paired
overhead" is the call's time minus its own kernel time, the Python work alone (on the
HNSW path the kernel is `Hnsw.first_page`: the query check, the walk, the hit dicts and
the cursor, built in one core call).
Results: `benches/results/api_latency.md`.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

import eigenlake
from notes import write_keeping_notes

HERE = Path(__file__).resolve().parent
D = 384


def timed(fn, queries: np.ndarray) -> list[float]:
    times = []
    for q in queries:
        t = time.perf_counter_ns()
        fn(q)
        times.append((time.perf_counter_ns() - t) / 1e3)
    return times


def p50_p99(us: list[float]) -> tuple[float, float]:
    return float(np.percentile(us, 50)), float(np.percentile(us, 99))


class KernelClock:
    """Wraps a kernel callable and records how long each call took (µs)."""

    def __init__(self, fn) -> None:
        self.fn = fn
        self.times: list[float] = []

    def __call__(self, *args, **kwargs):
        t = time.perf_counter_ns()
        out = self.fn(*args, **kwargs)
        self.times.append((time.perf_counter_ns() - t) / 1e3)
        return out


class ClockedGraph:
    """An HNSW graph whose searches are timed: ``search`` (the kernel's arrays) and
    ``first_page`` (the query check, walk, hit dicts and cursor in one core call, which the
    common query takes), on one clock."""

    def __init__(self, graph) -> None:
        self.graph = graph
        self.search = KernelClock(graph.search)
        self.first_page = KernelClock(graph.first_page)
        self.first_page.times = self.search.times

    def __len__(self) -> int:
        return len(self.graph)


def measure(idx, raw, queries: np.ndarray, rounds: int):
    """API and kernel times in alternating rounds, and each API call's own kernel time."""
    if idx._ann is not None:
        clock = ClockedGraph(idx._ann.graph)
        idx._ann.graph = clock
        inner = clock.search
    else:  # the exact path's kernel: the scan over the cache's int8 row codes
        row_codes = idx._cache.codes
        codes = row_codes.covering(idx._cache.matrix(), None)
        inner = KernelClock(codes.search)
        clocked = SimpleNamespace(search=inner)
        idx._cache.codes = SimpleNamespace(covering=lambda matrix, options: clocked)
    try:
        api_t, raw_t, paired = [], [], []
        for r in range(rounds):
            for path in ("api", "raw") if r % 2 == 0 else ("raw", "api"):
                if path == "raw":
                    raw_t += timed(raw, queries)
                    continue
                inner.times.clear()
                times = timed(lambda q: idx.search.nearest(vector=q, limit=10), queries)
                assert len(inner.times) == len(times)  # one kernel call per query
                api_t += times
                paired += [a - k for a, k in zip(times, inner.times, strict=True)]
    finally:
        if idx._ann is not None:
            idx._ann.graph = idx._ann.graph.graph
        else:
            idx._cache.codes = row_codes
    return p50_p99(api_t), p50_p99(raw_t), p50_p99(paired)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=6)
    args = ap.parse_args()
    load = os.getloadavg()
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
                else:  # the int8 row codes' exact scan (embedded/row_codes.py)
                    codes = idx._cache.codes.covering(data, None)

                    def raw(q, data=data, codes=codes):
                        return codes.search(data, q[None, :], 10, "ip")

                for q in queries[:20]:  # warm up both paths
                    raw(q)
                    idx.search.nearest(vector=q, limit=10)
                api, kernel, paired = measure(idx, raw, queries, args.rounds)
                rows.append((mode, api, kernel, paired))
                print(mode, api, kernel, paired, flush=True)
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
        f"{args.n:,} × {D} unit vectors, top-10, {args.queries} queries one at a time, "
        f"{args.rounds} alternating rounds per path; load average at the start "
        f"{load[0]:.2f}, at the end {os.getloadavg()[0]:.2f}.",
        "",
        "| path | API p50 µs | API p99 µs | kernel p50 µs | kernel p99 µs "
        "| overhead p50 µs (difference of p50s) | paired overhead p50 / p99 µs |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for mode, (a50, a99), (k50, k99), (o50, o99) in rows:
        lines.append(
            f"| {mode} | {a50:.0f} | {a99:.0f} | {k50:.0f} | {k99:.0f} | {a50 - k50:.0f} "
            f"| {o50:.0f} / {o99:.0f} |"
        )
    write_keeping_notes(HERE / "results" / "api_latency.md", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
