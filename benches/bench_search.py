"""Search benchmark: EigenLake vs faiss, hnswlib and NumPy, side by side in one run.

Peers: ``.venv/bin/pip install -r benches/requirements-search.txt`` (bench only).
Data: 100,000 x 384 unit vectors in Gaussian blobs (fixed seed) + 1,000 held-out
queries; 2 threads for everyone. Run the peers where they are fastest, e.g.
``OPENBLAS_CORETYPE=SkylakeX .venv/bin/python benches/bench_search.py`` (our code
uses no BLAS); the BLAS kernel in use is printed. Medians of `--repeat` runs.

Idle peer threads spin: faiss's OpenMP workers busy-wait after each call, which takes a
core from whichever library is timed next (measured: our HNSW QPS 7% lower when timed right
after faiss). The bench sets ``OMP_WAIT_POLICY=PASSIVE`` unless it is set (faiss's own
times do not move). OpenBLAS workers spin too, but shortening that
(``OPENBLAS_THREAD_TIMEOUT``) slows faiss's exact search, which calls sgemm block by block,
by ~30%; so it is left alone and every timing round rotates the order of the libraries.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

from eigenlake import _core  # noqa: E402

THREADS = 2


def clustered(n: int, d: int, seed: int, clusters: int = 200, noise: float = 0.6) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, d)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    x = centres[rng.integers(0, clusters, n)]
    x = x + (noise / np.sqrt(d)) * rng.standard_normal((n, d)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return np.ascontiguousarray(x, dtype=np.float32)


def timed(f: Callable[[], object], repeat: int) -> float:
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def recall(got: np.ndarray, want: np.ndarray) -> float:
    hits = sum(len(set(g) & set(w)) for g, w in zip(got, want, strict=True))
    return hits / want.size


def numpy_topk(data: np.ndarray, q: np.ndarray, k: int) -> np.ndarray:
    s = q @ data.T
    part = np.argpartition(-s, k, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(s, part, 1), axis=1)
    return np.take_along_axis(part, order, 1)


def machine() -> dict:
    info: dict = {"python": platform.python_version(), "eigenlake": _core.build_info()}
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in lscpu.splitlines():
            key, _, val = line.partition(":")
            if key.strip() in ("Model name", "CPU(s)", "L1d cache", "L2 cache", "L3 cache"):
                info[key.strip()] = val.strip()
            if key.strip() == "Flags":
                want = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16")
                info["flags"] = [f for f in val.split() if f in want]
    except OSError:
        pass
    info["blas"] = [
        {k: p.get(k) for k in ("internal_api", "architecture", "version", "filepath")}
        for p in threadpool_info()
    ]
    info["OPENBLAS_CORETYPE"] = os.environ.get("OPENBLAS_CORETYPE")
    info["OMP_WAIT_POLICY"] = os.environ.get("OMP_WAIT_POLICY")
    info["OPENBLAS_THREAD_TIMEOUT"] = os.environ.get("OPENBLAS_THREAD_TIMEOUT")
    info["load_avg"] = os.getloadavg()
    return info


def interleaved(funcs: dict, repeat: int) -> dict:
    """Median time of each function, timed in turn so load from others hits all alike."""
    times: dict = {name: [] for name in funcs}
    for i in range(repeat):
        for name in rotated(list(funcs), i):
            t = time.perf_counter()
            funcs[name]()
            times[name].append(time.perf_counter() - t)
    return {name: statistics.median(v) for name, v in times.items()}


def rotated(names: list, i: int) -> list:
    """The timing order of round `i`: each library follows each other one in turn. A fixed
    order would always time the same library right after faiss, whose OpenMP threads
    keep spinning for a while after each call and take CPU from whoever runs next."""
    k = i % len(names)
    return names[k:] + names[:k]


def bench_exact(data, queries, k, repeat, res) -> None:
    import faiss

    n, d = data.shape
    nq = len(queries)
    flops = 2.0 * n * nq * d
    want = numpy_topk(data, queries, k)
    ours, _ = _core.flat_topk(data, queries, k, "ip")
    res["exact_ours_recall"] = recall(ours, want)
    idx = faiss.IndexFlatIP(d)
    idx.add(data)
    a = np.random.default_rng(1).random((4096, 384), dtype=np.float32)
    b = np.random.default_rng(2).random((8192, 384), dtype=np.float32)
    t = interleaved(
        {
            "ours": lambda: _core.flat_topk(data, queries, k, "ip"),
            "faiss": lambda: idx.search(queries, k),
            "numpy": lambda: numpy_topk(data, queries, k),
            "gemm": lambda: a @ b.T,
        },
        repeat,
    )
    for name in ("ours", "faiss", "numpy"):
        res[f"exact_{name}_s"] = t[name]
        res[f"exact_{name}_gflops"] = flops / t[name] / 1e9
    res["numpy_gemm_gflops"] = 2.0 * 4096 * 8192 * 384 / t["gemm"] / 1e9
    # One query at a time (memory-bound).
    m = min(nq, 200)
    one = [queries[i : i + 1] for i in range(m)]
    t = interleaved(
        {
            "ours": lambda: [_core.flat_topk(data, q, k) for q in one],
            "faiss": lambda: [idx.search(q, k) for q in one],
            "numpy": lambda: [numpy_topk(data, q, k) for q in one],
        },
        repeat,
    )
    for name, v in t.items():
        res[f"single_{name}_s"] = v / m


EFS = (16, 24, 32, 48, 64, 96, 128, 192, 256)


def sweep(libs: dict, want: np.ndarray, nq: int, repeat: int) -> dict:
    """Recall and QPS per ef; the libraries are timed in turn at each ef so that load
    from other processes hits them alike."""
    curves: dict = {name: [] for name in libs}
    for ef in EFS:
        times: dict = {name: [] for name in libs}
        for i in range(repeat):
            for name in rotated(list(libs), i):
                t = time.perf_counter()
                libs[name](ef)
                times[name].append(time.perf_counter() - t)
        for name, search in libs.items():
            r = recall(search(ef), want)
            curves[name].append((ef, r, nq / statistics.median(times[name])))
    return curves


def qps_at(curve: list, target: float) -> tuple[int, float] | None:
    """QPS at the smallest ef whose recall reaches `target`."""
    ok = [(ef, qps) for ef, r, qps in curve if r >= target]
    return ok[0] if ok else None


def bench_hnsw(data, queries, k, repeat, res) -> None:
    import faiss
    import hnswlib

    n, d = data.shape
    want, _ = _core.flat_topk(data, queries, k, "ip")
    nq = len(queries)

    h = _core.Hnsw(d, "ip", m=16, ef_construction=200, seed=0)
    t = time.perf_counter()
    h.add(data, 0)
    res["hnsw_build_ours_s"] = time.perf_counter() - t

    p = hnswlib.Index("ip", d)
    p.init_index(n, M=16, ef_construction=200, random_seed=0)
    p.set_num_threads(THREADS)
    t = time.perf_counter()
    p.add_items(data)
    res["hnsw_build_hnswlib_s"] = time.perf_counter() - t

    f = faiss.IndexHNSWFlat(d, 16, faiss.METRIC_INNER_PRODUCT)
    f.hnsw.efConstruction = 200
    t = time.perf_counter()
    f.add(data)
    res["hnsw_build_faiss_s"] = time.perf_counter() - t

    def hl(ef: int) -> np.ndarray:
        p.set_ef(ef)
        return p.knn_query(queries, k)[0]

    def fs(ef: int) -> np.ndarray:
        f.hnsw.efSearch = ef
        return f.search(queries, k)[1]

    libs = {"ours": lambda ef: h.search(data, queries, k, ef=ef)[0], "hnswlib": hl, "faiss": fs}
    for name, curve in sweep(libs, want, nq, repeat).items():
        res[f"hnsw_curve_{name}"] = curve
        for target in (0.95, 0.99):
            res[f"hnsw_{name}_at_{target}"] = qps_at(curve, target)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--queries", type=int, default=1_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-hnsw", action="store_true")
    ap.add_argument("--json", default=None, help="write the raw figures here")
    args = ap.parse_args()

    import faiss

    faiss.omp_set_num_threads(THREADS)
    _core.set_num_threads(THREADS)
    x = clustered(args.n + args.queries, args.dim, seed=42)
    data, queries = x[: args.n], x[args.n :]
    res: dict = {"machine": machine(), "n": args.n, "dim": args.dim, "queries": args.queries}
    with threadpool_limits(THREADS):
        bench_exact(data, queries, 10, args.repeat, res)
        if not args.skip_hnsw:
            bench_hnsw(data, queries, 10, args.repeat, res)
    text = json.dumps(res, indent=1)
    print(text)
    if args.json:
        with open(args.json, "w") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
