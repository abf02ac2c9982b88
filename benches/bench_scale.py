"""No 10,000-record limit: 1,000,000 × 384 records in one embedded index, step by step.

    .venv/bin/python benches/bench_scale.py [--n 1000000] [--k 100] [--lof 100000]

Each step runs in a fresh process on the same index, so its peak RSS is its own:
- ingest: `records.add_many` of a dict of columns (two properties) with `vectors=`, in
  calls of 100,000 clustered unit vectors (fixed seed), durable when each call returns
  (the calls are timed, not the making of the data);
- reopen: connect, open, and answer a first filtered `nearest` (time to ready);
- nearest: `search.prepare()` (graph build, timed), then one query at a time, p50 of 50,
  unfiltered and at 1 % / 10 % / 50 % selectivity (`shard < s`), with recall@10 against
  NumPy brute force over the matching rows;
- kmeans: `search.cluster(kmeans, k, 25 iterations)` over every record;
- lof: `search.outliers` over the first `--lof` records.
Results go to `benches/results/scale.md`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from notes import write_keeping_notes

HERE = Path(__file__).resolve().parent
D = 384
CHUNK = 100_000
SHARDS = 100  # shard = i % 100: `shard < s` keeps s %


def peak_gib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 2**20
    return float("nan")


def centres(k: int) -> np.ndarray:
    c = np.random.default_rng(0).standard_normal((k, D)).astype(np.float32)
    return c / np.linalg.norm(c, axis=1, keepdims=True)


def chunk(seed: int, c: np.ndarray, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, len(c), n)
    x = c[y] + 0.6 * rng.standard_normal((n, D), dtype=np.float32) / np.sqrt(D)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32)


def open_index(root: str) -> tuple[Any, Any]:
    import eigenlake

    client = eigenlake.connect(path=root)
    return client, client.indexes.open(namespace="bench", index="scale")


def step_ingest(root: str, n: int, k: int) -> dict[str, float]:
    import eigenlake

    c = centres(k)
    with eigenlake.connect(path=root) as client:
        idx = client.indexes.create_or_get(namespace="bench", index="scale", dimensions=D)
        took = 0.0  # the add_many calls only, not making the data
        for start in range(0, n, CHUNK):
            m = min(CHUNK, n - start)
            x = chunk(start, c, m)
            ids = np.arange(start, start + m)
            t = time.perf_counter()
            idx.records.add_many({"i": ids, "shard": ids % SHARDS}, vectors=x)
            took += time.perf_counter() - t
    return {"time": took, "peak": peak_gib()}


def step_reopen(root: str, n: int, k: int) -> dict[str, float]:
    t = time.perf_counter()
    client, idx = open_index(root)
    q = centres(k)[0] + 0.01
    hits = idx.search.nearest(vector=q, limit=10, filter={"shard": {"$lt": 10}})
    took = time.perf_counter() - t
    assert len(hits["results"]) == 10 and idx.records.count() == n
    client.close()
    return {"time": took, "peak": peak_gib()}


def step_nearest(root: str, n: int, k: int) -> dict[str, float]:
    client, idx = open_index(root)
    t = time.perf_counter()
    idx.search.prepare()
    out: dict[str, float] = {"prepare": time.perf_counter() - t}
    _, x = idx.records.to_numpy()  # the oracle's rows (unit length: cosine = inner product)
    shard = np.arange(n) % SHARDS
    rng = np.random.default_rng(7)
    queries = chunk(10**9, centres(k), 50) + 0.0
    for label, s in (("all", None), ("1%", 1), ("10%", 10), ("50%", 50)):
        flt = None if s is None else {"shard": {"$lt": s}}
        rows = np.arange(n) if s is None else np.flatnonzero(shard < s)
        times, recall = [], []
        idx.search.nearest(vector=queries[0], limit=10, filter=flt)  # warm
        for q in queries[rng.permutation(len(queries))]:
            t = time.perf_counter()
            hits = idx.search.nearest(vector=q, limit=10, filter=flt)
            times.append(time.perf_counter() - t)
            truth = rows[np.argsort(-(x[rows] @ q), kind="stable")[:10]]
            got = {h["metadata"]["i"] for h in hits["results"]}
            recall.append(len(got & set(truth.tolist())) / 10)
        out[f"{label} p50"] = float(np.median(times))
        out[f"{label} recall"] = float(np.mean(recall))
    out["peak"] = peak_gib()
    client.close()
    return out


def step_kmeans(root: str, n: int, k: int) -> dict[str, float]:
    client, idx = open_index(root)
    idx.records.count()
    t = time.perf_counter()
    res = idx.search.cluster(
        algorithm="kmeans", num_clusters=k, limit=None, max_iterations=25, seed=0
    )
    took = time.perf_counter() - t
    sizes = [c["count"] for c in res["clusters"]]
    client.close()
    return {"time": took, "peak": peak_gib(), "largest": max(sizes), "smallest": min(sizes)}


def step_lof(root: str, n: int, k: int, lof: int) -> dict[str, float]:
    client, idx = open_index(root)
    idx.records.count()
    t = time.perf_counter()
    res = idx.search.outliers(limit=lof)
    took = time.perf_counter() - t
    client.close()
    return {"time": took, "peak": peak_gib(), "found": len(res["outliers"])}


def run_step(name: str, root: str, args: argparse.Namespace) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--step", name, "--root", root, "--n", str(args.n)]
    cmd += ["--k", str(args.k), "--lof", str(args.lof)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    got: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    print(name, got, flush=True)
    return got


def machine() -> str:
    import eigenlake

    info = eigenlake.build_info()
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return (
        f"{cpu}, {os.cpu_count()} CPUs, SIMD `{info['simd']}`, {info['num_threads']} threads;"
        f" load average before the run {load}"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--k", type=int, default=100)
    ap.add_argument("--lof", type=int, default=100_000)
    ap.add_argument("--step")
    ap.add_argument("--root")
    args = ap.parse_args()
    if args.step:
        steps = {
            "ingest": step_ingest,
            "reopen": step_reopen,
            "nearest": step_nearest,
            "kmeans": step_kmeans,
        }
        got = (
            step_lof(args.root, args.n, args.k, args.lof)
            if args.step == "lof"
            else steps[args.step](args.root, args.n, args.k)
        )
        print(json.dumps(got))
        return
    where = machine()
    root = tempfile.mkdtemp(prefix="eigenlake-scale-")
    try:
        r = {s: run_step(s, root, args) for s in ("ingest", "reopen", "nearest", "kmeans", "lof")}
    finally:
        shutil.rmtree(root, ignore_errors=True)
    raw = args.n * D * 4 / 2**30
    ing, near = r["ingest"], r["nearest"]

    def mem(step: str) -> str:
        return f"{r[step]['peak']:.2f} GiB ({r[step]['peak'] / raw:.2f}× raw)"

    lines = [
        f"## Scale: one embedded index of {args.n:,} × {D} (issue #19)",
        "",
        f"`benches/bench_scale.py --n {args.n}`. Machine: {where}.",
        f"{args.n:,} × {D} float32 clustered unit vectors ({args.k} blobs), two integer",
        f"properties (`i`, `shard = i % {SHARDS}`); raw vectors {raw:.2f} GiB. Each step is a",
        "fresh process on the same index; peak RSS is that process's.",
        "",
        "| step | time | peak RSS |",
        "| --- | ---: | ---: |",
        f"| ingest: `add_many` of columns, calls of {CHUNK:,} (durable) | {ing['time']:.1f} s ({args.n / ing['time']:,.0f} records/s) | {mem('ingest')} |",
        f"| reopen: connect, open, first filtered `nearest` | {r['reopen']['time']:.2f} s | {mem('reopen')} |",
        f"| `search.prepare()`: HNSW graph over every record | {near['prepare']:.1f} s | {mem('nearest')} |",
        f"| `search.cluster(kmeans, k={args.k}, 25 iterations)` over every record | {r['kmeans']['time']:.1f} s | {mem('kmeans')} |",
        f"| `search.outliers` (LOF) over the first {args.lof:,} | {r['lof']['time']:.1f} s | {mem('lof')} |",
        "",
        "One query at a time through `search.nearest` after `prepare()`, p50 of 50, recall@10",
        "against NumPy brute force over the matching rows:",
        "",
        "| filter | p50 | recall@10 |",
        "| --- | ---: | ---: |",
    ]
    for label in ("all", "1%", "10%", "50%"):
        name = "none" if label == "all" else f"`shard < {label[:-1]}` ({label})"
        lines.append(
            f"| {name} | {near[f'{label} p50'] * 1e3:.2f} ms | {near[f'{label} recall']:.3f} |"
        )
    km = r["kmeans"]
    lines += [
        "",
        f"k-means cluster sizes: largest {km['largest']:,.0f}, smallest {km['smallest']:,.0f}.",
        f"LOF flagged {r['lof']['found']:,.0f} of {args.lof:,} records.",
    ]
    write_keeping_notes(HERE / "results" / "scale.md", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
