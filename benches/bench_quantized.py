"""Quantized exact search (issue #19) vs our f32 exact scan and faiss IndexFlatIP, side by
side in one run. Writes `benches/results/quantized.md` (and the raw figures as JSON).

    OPENBLAS_CORETYPE=SkylakeX .venv/bin/python benches/bench_quantized.py [--repeat 5]

Data as `bench_search.py`: 100,000 x 384 unit vectors in 200 Gaussian blobs (seed 42) +
1,000 held-out queries, top-10 by inner product, 2 threads for everyone; then the same on
uniform random unit vectors (no clusters), whose top-10 stand further apart. Libraries are
timed in turn, the order rotating every round (`bench_search.interleaved`); medians.
Every answer of the quantized scan is checked against `flat_topk` one query at a time
(ids equal, scores bit-equal) before anything is timed.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from bench_search import THREADS, clustered, interleaved, machine  # noqa: E402
from eigenlake import _core  # noqa: E402

HERE = Path(__file__).resolve().parent


def uniform(n: int, d: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def exact_mismatches(qf, data: np.ndarray, queries: np.ndarray, k: int) -> int:
    """Queries whose quantized answer differs from flat_topk one query at a time."""
    ids, scores = qf.search(data, queries, k)
    bad = 0
    for i in range(len(queries)):
        wi, ws = _core.flat_topk(data, queries[i : i + 1], k)
        same_ids = (wi[0] == ids[i]).all()
        bad += int(not (same_ids and (ws[0].view(np.uint32) == scores[i].view(np.uint32)).all()))
    return bad


def run(name: str, data: np.ndarray, queries: np.ndarray, k: int, repeat: int) -> dict:
    import faiss

    n, d = data.shape
    res: dict = {"data": name, "n": n, "dim": d, "queries": len(queries)}
    t = time.perf_counter()
    qf = _core.QuantizedFlat(data)
    res["build_s"] = time.perf_counter() - t
    res["code_bytes"] = qf.memory_bytes
    res["f32_bytes"] = data.nbytes
    res["mismatches"] = exact_mismatches(qf, data, queries, k)
    qf.search(data, queries, k)
    res["candidates_per_query_batched"] = qf.last_candidates / len(queries)
    idx = faiss.IndexFlatIP(d)
    idx.add(data)
    fi = idx.search(queries, k)[1]
    qi = qf.search(data, queries, k)[0]
    res["same_ids_as_faiss"] = float((fi == qi).mean())
    t = interleaved(
        {
            "quant": lambda: qf.search(data, queries, k),
            "f32": lambda: _core.flat_topk(data, queries, k, "ip"),
            "faiss": lambda: idx.search(queries, k),
        },
        repeat,
    )
    res.update({f"batched_{a}_s": v for a, v in t.items()})
    m = min(len(queries), 200)
    one = [queries[i : i + 1] for i in range(m)]
    cands = []
    for q in one:
        qf.search(data, q, k)
        cands.append(qf.last_candidates)
    res["candidates_per_query_single_median"] = float(np.median(cands))
    res["candidates_per_query_single_max"] = int(np.max(cands))
    t = interleaved(
        {
            "quant": lambda: [qf.search(data, q, k) for q in one],
            "f32": lambda: [_core.flat_topk(data, q, k) for q in one],
            "faiss": lambda: [idx.search(q, k) for q in one],
        },
        repeat,
    )
    res.update({f"single_{a}_ms": v / m * 1e3 for a, v in t.items()})
    return res


def table(r: dict) -> str:
    b, s = r, r
    rows = [
        "| measure | quantized | our f32 scan | faiss IndexFlatIP | quantized vs f32 | vs faiss |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        f"| batched, {r['queries']:,} queries | {b['batched_quant_s']:.3f} s | "
        f"{b['batched_f32_s']:.3f} s | {b['batched_faiss_s']:.3f} s | "
        f"**{b['batched_f32_s'] / b['batched_quant_s']:.2f}x** | "
        f"**{b['batched_faiss_s'] / b['batched_quant_s']:.2f}x** |",
        f"| one query at a time (per query) | {s['single_quant_ms']:.2f} ms | "
        f"{s['single_f32_ms']:.2f} ms | {s['single_faiss_ms']:.2f} ms | "
        f"**{s['single_f32_ms'] / s['single_quant_ms']:.2f}x** | "
        f"{s['single_faiss_ms'] / s['single_quant_ms']:.2f}x |",
    ]
    notes = (
        f"Rows re-scored on the float rows per query: {r['candidates_per_query_batched']:.0f} "
        f"(batched mean), {r['candidates_per_query_single_median']:.0f} median / "
        f"{r['candidates_per_query_single_max']} max (single). Codes "
        f"{r['code_bytes'] / 2**20:.1f} MiB beside {r['f32_bytes'] / 2**20:.1f} MiB of f32 rows "
        f"({r['code_bytes'] / r['f32_bytes']:.0%}); built in {r['build_s']:.2f} s. Answers "
        f"differing from `flat_topk` one query at a time: {r['mismatches']} of {r['queries']}; "
        f"ids equal to faiss's in {r['same_ids_as_faiss']:.2%} of slots (faiss ranks by BLAS "
        "sums, so near-ties may order differently)."
    )
    return "\n".join(rows) + "\n\n" + notes + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--queries", type=int, default=1_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", default=str(HERE / "results" / "quantized.md"))
    args = ap.parse_args()

    import faiss

    faiss.omp_set_num_threads(THREADS)
    _core.set_num_threads(THREADS)
    load_before = os.getloadavg()
    x = clustered(args.n + args.queries, args.dim, seed=42)
    u = uniform(args.n + args.queries, args.dim, seed=7)
    runs = []
    with threadpool_limits(THREADS):
        for name, m in (("clustered", x), ("uniform", u)):
            runs.append(run(name, m[: args.n], m[args.n :], 10, args.repeat))
    info = machine()
    raw = {"machine": info, "load_before": load_before, "runs": runs}
    Path(args.out).with_suffix(".json").write_text(json.dumps(raw, indent=1))
    print(json.dumps(raw, indent=1))
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    text = f"""# Quantized exact search (issue #19)

`benches/bench_quantized.py --repeat {args.repeat}` ({when}): `_core.QuantizedFlat` (int8
codes, a proved per-row error bound, candidates re-scored with the f32 one-query kernel, so
the top-k is exact) vs our f32 `flat_topk` vs faiss IndexFlatIP, {args.n:,} x {args.dim}
unit vectors, top-10 by inner product, {THREADS} threads each, libraries timed in turn with
the order rotating, medians of {args.repeat}. Integer kernel: `{_core.QuantizedFlat.kernel()}`;
CPU: {info.get("Model name")} ({info.get("CPU(s)")} vCPUs, flags {", ".join(info.get("flags", []))});
load average before {load_before[0]:.1f} / after {info["load_avg"][0]:.1f} (the machine
is shared: ratios are the figure to read, absolute times move with the load).

Goal (#19): batched >= 2x faiss IndexFlatIP, one query at a time >= 2x our f32 scan.

## Clustered unit vectors (as `bench_search.py`: 200 Gaussian blobs, seed 42)

{table(runs[0])}
## Uniform random unit vectors (no clusters)

{table(runs[1])}
## Why it is exact, and where the time goes

Each row is stored as int8 codes with its own scale; a query is coded the same way. The
scan computes the exact integer product of the codes (AVX-512 VNNI `vpdpbusd`: 64
multiply-adds per instruction, 4x an f32 FMA; AMX-INT8 tiles for batches where the CPU
and OS allow; AVX2 and scalar fallbacks) and from it an
interval that provably holds the score the f32 kernel would return: |dot(q, x) - A| <=
|q|·(|r| + gamma·|x|) + |rho|·|s·c| (r, rho the rounding residues of row and query, gamma
the f32 kernel's worst-case summation error; every f32 rounding of the bound itself is
covered by margins; derivation in `rust/eigenlake-core/src/quant/encode.rs`). Every row
whose upper bound reaches the k-th best lower bound is re-scored with the f32 kernel;
any other row has k rows strictly better than it. The bound is a worst case (Cauchy-Schwarz
on the residues), so a few hundred rows per query are re-scored where the top-10 sit in a
dense cluster and fewer on uniform data; the re-scoring reads f32 rows at random, which is
what keeps the batched figure from the 4x the kernel alone would give.
"""
    Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
