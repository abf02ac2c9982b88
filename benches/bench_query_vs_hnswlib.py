"""One query at a time through the public API (`idx.search.nearest`) vs hnswlib called from
Python, side by side in one run, at 5k, 20k and 100k rows (384-d clustered unit vectors;
`--million` adds 1,000,000: two graph builds of ~10+ minutes each on 2 CPUs); and filtered
queries at 1%, 10% and 50% selectivity vs a NumPy exact scan of the matching rows.

    .venv/bin/pip install -r benches/requirements-search.txt   # hnswlib (bench only)
    .venv/bin/python benches/bench_query_vs_hnswlib.py [--sizes 5000 20000 100000] [--million]

Our index uses its defaults (exact scan up to `exact_threshold` = 2,500 rows, HNSW
M=16/efC=200/ef=64 above, built in the background after the writes; `search.prepare()`
waits for it); hnswlib uses the same M/efC/ef.
Alternating rounds (ours, hnswlib, hnswlib, ours, ...) so machine load hits both alike;
p50 per query (the call alone: hits become row numbers for the recall after the clock
stops, on both sides) and recall@10 against NumPy brute force. Filtered: every record has an
integer property `bucket` (0-99, drawn at random, so unrelated to the clusters); the filter
`{"bucket": {"$lt": s}}` keeps s% of the rows; the NumPy peer scans a contiguous copy of
exactly those rows (made before timing: the strictest exact scan) with one matrix-vector
product and a partial sort. The generated section goes on top of
`benches/results/query_vs_hnswlib.md` (the notes below it are kept); `--json` also writes
the figures, `--no-write` leaves the file alone (before/after runs).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hnswlib
import numpy as np

import eigenlake

HERE = Path(__file__).resolve().parent
D, K = 384, 10
SELECTIVITIES = (1, 10, 50)  # % of the rows a filter keeps


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


def timed(fn: Callable[[np.ndarray], Any], qs: np.ndarray, times: list[float]) -> list:
    hits = []
    for q in qs:
        t = time.perf_counter_ns()
        hits.append(fn(q))
        times.append(time.perf_counter_ns() - t)
    return hits


def numpy_topk(sub: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Exact top-K rows of ``sub`` by inner product (positions in ``sub``), best first."""
    s = sub @ q
    top = np.argpartition(-s, K)[:K]
    return top[np.argsort(-s[top])]


def alternate(pair: list[tuple[Callable, list[float]]], qs: np.ndarray, rounds: int) -> list:
    """Rounds of (a, b), (b, a), ...: each function's hits of its last round."""
    last: list = [None, None]
    for r in range(rounds):
        order = [0, 1] if r % 2 == 0 else [1, 0]
        for i in order:
            fn, times = pair[i]
            last[i] = timed(fn, qs, times)
    return last


def rows_of(answers: list[Any], row_of: dict[str, int]) -> list[list[int]]:
    """Our answers' hits as row numbers (for recall), outside the timed calls."""
    return [[row_of[hit["uuid"]] for hit in a["results"]] for a in answers]


def recall(hits: list[list[int]], truth: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(b)) / K for a, b in zip(hits, truth, strict=True)]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[5_000, 20_000, 100_000])
    ap.add_argument("--million", action="store_true", help="add 1,000,000 rows (long)")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--no-filtered", action="store_true", help="skip the filtered queries")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--no-write", action="store_true", help="leave results/*.md alone")
    ap.add_argument(
        "--keep",
        type=Path,
        help="keep the indexes (ours and hnswlib's) in this directory and reuse them when a"
        " later run finds them (the data are seeded: a 1M before/after pair builds once)",
    )
    args = ap.parse_args()
    sizes = args.sizes + ([1_000_000] if args.million else [])
    eigenlake.set_num_threads(2)
    load = os.getloadavg()
    rows = []
    filtered = []
    root = str(args.keep) if args.keep else tempfile.mkdtemp(prefix="eigenlake-vs-hnswlib-")
    try:
        with eigenlake.connect(path=root) as client:
            for n in sizes:
                x, qs = data(n, args.queries)
                truth = np.argsort(-(qs @ x.T), axis=1)[:, :K]
                bucket = np.random.default_rng(1).integers(0, 100, n)
                idx = client.indexes.create_or_get(namespace="b", index=f"n{n}", dimensions=D)
                ids_file = Path(root) / f"ids-{n}.json"
                if args.keep and ids_file.exists() and idx.records.count() == n:
                    ids = json.loads(ids_file.read_text())  # kept from an earlier run
                else:
                    if idx.records.count():
                        idx.manage.delete()
                        idx = client.indexes.create_or_get(
                            namespace="b", index=f"n{n}", dimensions=D
                        )
                    ids = list(idx.records.add_many({"bucket": bucket.tolist()}, vectors=x))
                    ids_file.write_text(json.dumps(ids))
                row_of = {u: i for i, u in enumerate(ids)}
                ready = idx.search.prepare()  # the graph covers every row from here on
                h = hnswlib.Index(space="ip", dim=D)
                graph_file = Path(root) / f"hnswlib-{n}.bin"
                if args.keep and graph_file.exists():
                    h.load_index(str(graph_file), max_elements=n)
                else:
                    h.init_index(max_elements=n, M=16, ef_construction=200, random_seed=0)
                    h.set_num_threads(2)
                    h.add_items(x)
                    if args.keep:
                        h.save_index(str(graph_file))
                h.set_ef(64)
                h.set_num_threads(1)  # one query at a time, as the API is called
                ours_t: list[float] = []
                theirs_t: list[float] = []

                # each timed call is the user's call alone; hits become row numbers after
                # the clock stops (`rows_of`), on both sides
                def ours_one(q: np.ndarray, idx: object = idx) -> Any:
                    return idx.search.nearest(vector=q, limit=K)  # type: ignore[attr-defined]

                def theirs_one(q: np.ndarray, h: hnswlib.Index = h) -> Any:
                    return h.knn_query(q, k=K)[0][0]

                for q in qs[:20]:
                    ours_one(q)
                    theirs_one(q)
                pair = [(ours_one, ours_t), (theirs_one, theirs_t)]
                ours_raw, theirs_raw = alternate(pair, qs, args.rounds)
                ours_hits = rows_of(ours_raw, row_of)
                theirs_hits = [a.tolist() for a in theirs_raw]
                rows.append(
                    {
                        "rows": n,
                        "path": ready["method"],
                        "ours_us": p50_us(ours_t),
                        "ours_recall": recall(ours_hits, truth),
                        "hnswlib_us": p50_us(theirs_t),
                        "hnswlib_recall": recall(theirs_hits, truth),
                    }
                )
                print(rows[-1], flush=True)
                del h
                if not args.no_filtered:
                    filtered += measure_filtered(idx, x, qs, bucket, row_of, n, args.rounds)
                if not args.keep:
                    idx.manage.delete()
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    end = os.getloadavg()
    if args.json:
        args.json.write_text(
            json.dumps({"load": [load[0], end[0]], "rows": rows, "filtered": filtered})
        )
    lines = report(args, load, end, rows, filtered)
    print("\n".join(lines))
    if not args.no_write:
        out = HERE / "results" / "query_vs_hnswlib.md"
        old = out.read_text() if out.exists() else ""
        out.write_text("\n".join(lines) + "\n\n" + old)


def measure_filtered(
    idx: object,
    x: np.ndarray,
    qs: np.ndarray,
    bucket: np.ndarray,
    row_of: dict,
    n: int,
    rounds: int,
) -> list[dict]:
    """Filtered queries through the API vs NumPy's exact scan of the matching rows."""
    out = []
    for pct in SELECTIVITIES:
        flt = {"bucket": {"$lt": pct}}
        keep = np.flatnonzero(bucket < pct)
        sub = np.ascontiguousarray(x[keep])  # the matching rows, copied before timing
        truth = [keep[numpy_topk(sub, q)].tolist() for q in qs]
        ours_t: list[float] = []
        numpy_t: list[float] = []
        numpy_f_t: list[float] = []

        def ours_one(q: np.ndarray, flt: dict = flt) -> Any:
            return idx.search.nearest(vector=q, limit=K, filter=flt)  # type: ignore[attr-defined]

        def numpy_one(q: np.ndarray, sub: np.ndarray = sub, keep: np.ndarray = keep) -> Any:
            return keep[numpy_topk(sub, q)]

        def numpy_filtering(q: np.ndarray, pct: int = pct) -> Any:
            # what a user without an index does: the filter, the rows, the scan
            rows = np.flatnonzero(bucket < pct)
            return rows[numpy_topk(x[rows], q)]

        for q in qs[:10]:
            ours_one(q)
            numpy_one(q)
            numpy_filtering(q)
        ours_raw, _ = alternate([(ours_one, ours_t), (numpy_one, numpy_t)], qs, rounds)
        ours_hits = rows_of(ours_raw, row_of)
        alternate([(numpy_filtering, numpy_f_t), (ours_one, [])], qs, 1)
        out.append(
            {
                "rows": n,
                "selectivity": pct,
                "matching": len(keep),
                "ours_us": p50_us(ours_t),
                "ours_recall": recall(ours_hits, np.array(truth)),
                "numpy_us": p50_us(numpy_t),
                "numpy_filtering_us": p50_us(numpy_f_t),
            }
        )
        print(out[-1], flush=True)
    return out


def report(
    args: argparse.Namespace, load: tuple, end: tuple, rows: list[dict], filtered: list[dict]
) -> list[str]:
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
    for r in rows:
        lines.append(
            f"| {r['rows']:,} | {r['path']} | {r['ours_us']:.0f} | {r['ours_recall']:.3f} "
            f"| {r['hnswlib_us']:.0f} | {r['hnswlib_recall']:.3f} "
            f"| {r['hnswlib_us'] / r['ours_us']:.2f}x |"
        )
    if filtered:
        lines += [
            "",
            'Filtered (`filter={"bucket": {"$lt": s}}`, s% of the rows) vs NumPy\'s exact '
            "scan of a contiguous copy of the matching rows made before timing, and NumPy "
            "filtering per query (`rows = flatnonzero(bucket < s)`, `x[rows] @ q`, partial "
            "sort: what one does without an index):",
            "",
            "| rows | kept | matching rows | ours p50 µs | ours recall@10 | NumPy p50 µs "
            "| ours / NumPy speed | NumPy filtering p50 µs | ours / NumPy filtering |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for f in filtered:
            lines.append(
                f"| {f['rows']:,} | {f['selectivity']}% | {f['matching']:,} | {f['ours_us']:.0f} "
                f"| {f['ours_recall']:.3f} | {f['numpy_us']:.0f} "
                f"| {f['numpy_us'] / f['ours_us']:.2f}x | {f['numpy_filtering_us']:.0f} "
                f"| {f['numpy_filtering_us'] / f['ours_us']:.2f}x |"
            )
    return lines


if __name__ == "__main__":
    main()
