"""Export benchmark: records out to Arrow / NumPy vs LanceDB, and memory per stored record.

Part 1 (export): 100,000 x 384 float32 vectors with 5 properties stored in EigenLake (embedded)
and in LanceDB, both on disk, both reopened in this process; then, alternating rounds, the
public calls a user makes: ``records.to_arrow()`` and ``records.to_numpy()`` vs LanceDB's
``table.to_arrow()`` (its whole table, vectors included). Ratios are LanceDB time / ours.

Part 2 (memory): an embedded index of 1,000,000 records x 32 dimensions with 2 properties,
reopened in a fresh process: resident memory after the first read, minus the vectors'
bytes, per record. Results go to ``benches/results/export.md``. Not a test: nothing here
asserts.

    .venv/bin/pip install -r benches/requirements-ingest.txt
    .venv/bin/python benches/bench_export.py [--n 100000] [--rounds 5] [--memory-n 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from notes import write_keeping_notes

HERE = Path(__file__).resolve().parent
DIM = 384


def table(n: int, dim: int, seed: int = 0):  # -> pyarrow.Table
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    flat = pa.array(x.reshape(-1), type=pa.float32())
    return pa.table(
        {
            "accession": [f"P{i:07d}" for i in range(n)],
            "organism": [f"organism-{i % 10}" for i in range(n)],
            "length": rng.integers(50, 2000, n),
            "score": rng.random(n),
            "reviewed": rng.random(n) < 0.5,
            "vector": pa.FixedSizeListArray.from_arrays(flat, dim),
        }
    )


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def export_part(n: int, rounds: int, root: str) -> dict[str, list[float]]:
    import lancedb

    import eigenlake

    data = table(n, DIM)
    with eigenlake.connect(path=os.path.join(root, "el")) as c:
        idx = c.indexes.create_or_get(namespace="b", index="t", dimensions=DIM)
        idx.records.add_many(data)
    db = lancedb.connect(os.path.join(root, "lance"))
    db.create_table("t", data)
    del data
    times: dict[str, list[float]] = {
        "eigenlake to_arrow": [],
        "eigenlake to_numpy": [],
        "lancedb to_arrow": [],
    }
    client = eigenlake.connect(path=os.path.join(root, "el"))
    idx = client.indexes.open(namespace="b", index="t")
    tbl = lancedb.connect(os.path.join(root, "lance")).open_table("t")
    for _ in range(rounds):
        t = time.perf_counter()
        out = idx.records.to_arrow()
        times["eigenlake to_arrow"].append(time.perf_counter() - t)
        assert out.num_rows == n
        del out
        t = time.perf_counter()
        _ids, x = idx.records.to_numpy()
        times["eigenlake to_numpy"].append(time.perf_counter() - t)
        del x, _ids
        t = time.perf_counter()
        got = tbl.to_arrow()
        times["lancedb to_arrow"].append(time.perf_counter() - t)
        assert got.num_rows == n
        del got
    client.close()
    return times


def memory_child(path: str, n: int, dim: int) -> None:
    """Run in a fresh process: open the index, read once, print RSS growth as JSON."""
    import eigenlake

    base = rss_mib()
    with eigenlake.connect(path=path) as c:
        idx = c.indexes.open(namespace="b", index="m")
        assert idx.records.count() == n
        idx.search.nearest(vector=np.ones(dim, np.float32), limit=1, filter={"g": 1})
        grown = rss_mib() - base
    print(json.dumps({"rss_mib": grown}))


def memory_part(n: int, root: str, dim: int = 32) -> dict[str, float]:
    import eigenlake

    path = os.path.join(root, "mem")
    rng = np.random.default_rng(1)
    with eigenlake.connect(path=path) as c:
        idx = c.indexes.create_or_get(namespace="b", index="m", dimensions=dim)
        step = 100_000
        for start in range(0, n, step):
            m = min(step, n - start)
            cols = {
                "name": [f"r{i}" for i in range(start, start + m)],
                "g": np.arange(start, start + m) % 7,
            }
            idx.records.add_many(cols, vectors=rng.standard_normal((m, dim)).astype(np.float32))
    out = subprocess.run(
        [sys.executable, __file__, "--memory-child", path, str(n), str(dim)],
        capture_output=True,
        text=True,
        check=True,
    )
    rss = json.loads(out.stdout.strip().splitlines()[-1])["rss_mib"] * 1024 * 1024
    vec = n * dim * 4
    return {
        "records": n,
        "dim": dim,
        "rss_bytes": rss,
        "vector_bytes": vec,
        "beyond": (rss - vec) / n,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--memory-n", type=int, default=1_000_000)
    ap.add_argument("--memory-child", nargs=3)
    ap.add_argument("--out", default=str(HERE / "results" / "export.md"))
    args = ap.parse_args()
    if args.memory_child:
        path, n, dim = args.memory_child
        memory_child(path, int(n), int(dim))
        return
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as root:
        times = export_part(args.n, args.rounds, root)
        mem = memory_part(args.memory_n, root)
    load1 = os.getloadavg()[0]
    med = {k: statistics.median(v) for k, v in times.items()}
    lance = med["lancedb to_arrow"]
    lines = [
        "## Export and memory per record (`benches/bench_export.py`)",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs;"
        f" load average {load0:.2f} at the start, {load1:.2f} at the end. {args.n:,} x {DIM}"
        f" float32 + 5 properties, both stores on disk and reopened; medians of"
        f" {args.rounds} alternating rounds. Goal (#16): EigenLake's `to_arrow` at most 2x"
        " LanceDB's time.",
        "",
        "| call | median s | LanceDB time / ours |",
        "| --- | ---: | ---: |",
    ]
    for name, t in med.items():
        lines.append(f"| {name} | {t:.3f} | {lance / t:.2f}x |")
    lines += [
        "",
        f"Memory at {mem['records']:,} records x {mem['dim']} dimensions (2 properties: a short"
        f" string and an int), reopened in a fresh process: {mem['rss_bytes'] / 2**20:,.0f} MiB"
        f" resident, of which vectors {mem['vector_bytes'] / 2**20:,.0f} MiB:"
        f" **{mem['beyond']:.0f} bytes per record beyond its vector** (uuid, sequence number,"
        " alive flag, properties, filter columns).",
        "",
    ]
    write_keeping_notes(Path(args.out), "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
