"""No 10,000-record limit: 1,000,000 × 384 records in one embedded index, clustered.

    .venv/bin/python benches/bench_scale.py [--n 1000000] [--k 100]

Ingests `--n` clustered unit vectors (fixed seed, generated in chunks) with two properties
through `records.add_many`, then runs `search.cluster(algorithm="kmeans")` over all of them
(25 iterations) and a filtered `nearest`. Reports times and the process's peak RSS against
the raw vector bytes. Results go to `benches/results/scale.md`.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

import eigenlake

HERE = Path(__file__).resolve().parent
D = 384
CHUNK = 50_000


def peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def chunk(rng: np.random.Generator, centres: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    y = rng.integers(0, len(centres), n)
    x = centres[y] + 0.6 * rng.standard_normal((n, D), dtype=np.float32) / np.sqrt(D)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32), y


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--k", type=int, default=100)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((args.k, D)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    root = tempfile.mkdtemp(prefix="eigenlake-scale-")
    truth = np.empty(args.n, dtype=np.int64)
    try:
        with eigenlake.connect(path=root) as client:
            idx = client.indexes.create_or_get(namespace="bench", index="scale", dimensions=D)
            t = time.perf_counter()
            for start in range(0, args.n, CHUNK):
                m = min(CHUNK, args.n - start)
                x, y = chunk(rng, centres, m)
                truth[start : start + m] = y
                idx.records.add_many(
                    [
                        {"properties": {"i": start + j, "shard": (start + j) % 16}, "vector": x[j]}
                        for j in range(m)
                    ]
                )
            t_ingest = time.perf_counter() - t
            print(f"ingest {args.n}: {t_ingest:.1f} s, peak {peak_gib():.2f} GiB", flush=True)
            t = time.perf_counter()
            res = idx.search.cluster(
                algorithm="kmeans",
                num_clusters=args.k,
                limit=args.n,
                max_iterations=25,
                representatives_per_cluster=1,
            )
            t_cluster = time.perf_counter() - t
            sizes = sorted((c["count"] for c in res["clusters"]), reverse=True)
            print(f"kmeans: {t_cluster:.1f} s, peak {peak_gib():.2f} GiB", flush=True)
            q = centres[0] + 0.01
            t = time.perf_counter()
            hits = idx.search.nearest(vector=q, limit=10, filter={"shard": {"$lt": 4}})
            t_near = time.perf_counter() - t
            assert all(h["metadata"]["shard"] < 4 for h in hits["results"])
    finally:
        shutil.rmtree(root, ignore_errors=True)
    raw = args.n * D * 4 / 2**30
    info = eigenlake.build_info()
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next(
        (ln.split(":", 1)[1].strip() for ln in cpuinfo if ln.startswith("model name")),
        platform.processor(),
    )
    lines = [
        "## Scale: one embedded index past the hosted 10,000-record limit",
        "",
        f"Machine: {cpu}, {os.cpu_count()} CPUs, SIMD `{info['simd']}`, {info['num_threads']} threads.",
        f"{args.n:,} × {D} float32 clustered unit vectors ({args.k} blobs), 2 properties each.",
        "",
        "| step | time | process peak RSS |",
        "| --- | ---: | ---: |",
        f"| `add_many` in calls of {CHUNK:,} | {t_ingest:.1f} s ({args.n / t_ingest:,.0f} records/s) | — |",
        f"| `search.cluster(kmeans, k={args.k}, 25 iterations)` over all rows | {t_cluster:.1f} s | {peak_gib():.2f} GiB ({peak_gib() / raw:.1f}× the {raw:.2f} GiB of raw vectors) |",
        f"| filtered `nearest` (first query; exact scan while the graph builds) | {t_near * 1000:.0f} ms | — |",
        "",
        f"Cluster sizes: largest {sizes[0]:,}, smallest {sizes[-1]:,} (of {len(sizes)} clusters).",
    ]
    (HERE / "results" / "scale.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
