"""Analytics side by side with the peers, 2 threads, one process per measurement.

    .venv/bin/pip install -r benches/requirements-analytics.txt
    .venv/bin/python benches/bench_analytics.py [--quick] [--repeats 3] [--out FILE]

k-means vs faiss.Kmeans(spherical) and scikit-learn KMeans; DBSCAN, silhouette and LOF vs
scikit-learn, on clustered unit vectors (Gaussian blobs around random centres on the
sphere, fixed seed). Each figure is the median of `--repeats` runs in fresh processes;
"peak MiB" is the growth of the process's peak RSS during the call (inputs excluded).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

THREADS = 2
SEED = 0


def sphere_blobs(n: int, d: int, k: int = 40, spread: float = 0.6) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors: k random unit centres plus isotropic noise of norm ~`spread`."""
    rng = np.random.default_rng(SEED)
    c = rng.normal(size=(k, d))
    c /= np.linalg.norm(c, axis=1, keepdims=True)
    y = rng.integers(0, k, n)
    x = c[y] + spread * rng.normal(size=(n, d)) / np.sqrt(d)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32), y.astype(np.int64)


def run_case(impl: str, algo: str, path: str, params: dict[str, Any]) -> dict[str, float]:
    """Child process: load, set threads, time one call, report time and peak RSS growth."""
    os.environ.setdefault("OMP_NUM_THREADS", str(THREADS))
    # each peer at its best: faiss's own OpenBLAS falls back to a pre-AVX kernel when the
    # core type is unset (the machine notes on measuring fairly)
    os.environ["OPENBLAS_CORETYPE"] = best_coretype()
    from threadpoolctl import threadpool_limits

    threadpool_limits(THREADS)
    x = np.load(path)
    y = np.load(path.replace(".npy", "_y.npy"))
    fn = make_call(impl, algo, x, y, params)
    base = rss()
    peak = [base]
    done = threading.Event()

    def sample() -> None:  # ru_maxrss would include peaks from before the call
        while not done.wait(0.002):
            peak[0] = max(peak[0], rss())

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    t = time.perf_counter()
    fn()
    dt = time.perf_counter() - t
    done.set()
    th.join()
    peak[0] = max(peak[0], rss())
    return {"time": dt, "peak_mib": (peak[0] - base) / 2**20}


def best_coretype() -> str:
    with open("/proc/cpuinfo") as f:
        return "SkylakeX" if "avx512f" in f.read() else "Haswell"


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def make_call(impl: str, algo: str, x: np.ndarray, y: np.ndarray, p: dict[str, Any]):  # noqa: ANN201
    if impl == "eigenlake":
        from eigenlake import _core

        _core.set_num_threads(THREADS)
        _core.kmeans(x[:200], 2)  # warm the pool outside the timing
        calls = {
            "kmeans": lambda: _core.kmeans(x, p["k"], max_iter=p["iters"], tol=0.0),
            "dbscan": lambda: _core.dbscan(x, p["eps"], p["min_samples"], "cosine"),
            "silhouette": lambda: _core.silhouette(x, y, "cosine"),
            "lof": lambda: _core.lof(x, 20, "cosine"),
        }
        return calls[algo]
    if impl == "faiss":
        import faiss

        faiss.omp_set_num_threads(THREADS)
        km = faiss.Kmeans(
            x.shape[1],
            p["k"],
            niter=p["iters"],
            spherical=True,
            seed=SEED + 1,
            max_points_per_centroid=1 << 30,
        )
        return lambda: km.train(x)
    from sklearn.cluster import DBSCAN, KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.neighbors import LocalOutlierFactor

    calls = {
        "kmeans": lambda: KMeans(
            p["k"], n_init=1, max_iter=p["iters"], tol=0.0, random_state=SEED
        ).fit(x),
        "dbscan": lambda: DBSCAN(
            eps=p["eps"], min_samples=p["min_samples"], metric="cosine", n_jobs=1
        ).fit(x),
        "silhouette": lambda: silhouette_score(x, y, metric="cosine"),
        "lof": lambda: LocalOutlierFactor(20, metric="cosine", algorithm="brute", n_jobs=1).fit(x),
    }
    return calls[algo]


def measure(
    impl: str, algo: str, path: str, params: dict[str, Any], repeats: int
) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    runs = []
    for _ in range(repeats):
        with ctx.Pool(1) as pool:
            runs.append(pool.apply(run_case, (impl, algo, path, params)))
    return {
        "time": statistics.median(r["time"] for r in runs),
        "peak_mib": statistics.median(r["peak_mib"] for r in runs),
    }


def eps_for(x: np.ndarray, k: int = 10) -> float:
    """Median cosine distance to the k-th neighbour (self first) on a sample: a typical
    DBSCAN eps from the k-distance curve."""
    s = x[np.random.default_rng(1).choice(len(x), min(len(x), 2000), replace=False)]
    d = 1 - s @ x.T
    return float(np.median(np.partition(d, k - 1, axis=1)[:, k - 1]))


def machine() -> str:
    cpu = "?"
    flags = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name") and cpu == "?":
                cpu = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                fl = line.split()
                flags = " ".join(f for f in ("avx2", "fma", "avx512f", "avx512_vnni") if f in fl)
    from threadpoolctl import threadpool_info

    from eigenlake import _core

    blas = ", ".join(
        f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')})"
        for i in threadpool_info()
    )
    info = _core.build_info()
    return (
        f"- CPU: {cpu}, {os.cpu_count()} vCPUs, flags: {flags}; load avg at start "
        f"{os.getloadavg()[0]:.1f} (machine shared with other jobs)\n"
        f"- Python {platform.python_version()}, NumPy {np.__version__}; BLAS seen by NumPy: {blas}\n"
        f"- peers run with OPENBLAS_CORETYPE={best_coretype()} (their fastest kernel); "
        f"scikit-learn with n_jobs=1, BLAS limited to {THREADS} threads\n"
        f"- eigenlake {info['version']}, kernels: `{info['simd']}`, threads {THREADS}\n"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="small sizes only")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--big-repeats", type=int, default=1, help="repeats of the 100k k-means")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()

    cases: list[tuple[str, int, int, dict[str, Any], list[str]]] = [
        ("kmeans", 8000, 320, {"k": 20, "iters": 25}, ["eigenlake", "faiss", "sklearn"]),
    ]
    if not args.quick:
        cases.append(
            ("kmeans", 100_000, 384, {"k": 100, "iters": 25}, ["eigenlake", "faiss", "sklearn"])
        )
    sizes = [(8000, 320)] if args.quick else [(8000, 320), (20_000, 384)]
    for n, d in sizes:
        for algo in ("dbscan", "silhouette", "lof"):
            cases.append((algo, n, d, {"min_samples": 10}, ["eigenlake", "sklearn"]))

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for algo, n, d, params, impls in cases:
            path = str(Path(tmp) / f"x_{n}_{d}.npy")
            if not Path(path).exists():
                x, y = sphere_blobs(n, d)
                np.save(path, x)
                np.save(path.replace(".npy", "_y.npy"), y)
            if algo == "dbscan":
                params = {**params, "eps": eps_for(np.load(path))}
            reps = args.big_repeats if n >= 100_000 else args.repeats
            res = {impl: measure(impl, algo, path, params, reps) for impl in impls}
            rows.append((algo, n, d, params, res))
            line = "  ".join(f"{i} {r['time']:.3f}s/{r['peak_mib']:.0f}MiB" for i, r in res.items())
            print(f"{algo} {n}x{d} {params}: {line}", flush=True)

    report = render(rows, machine(), args)
    print(report)
    if args.out:
        Path(args.out).write_text(report)


def render(rows: list, mach: str, args: argparse.Namespace) -> str:
    out = [
        "| work | data | eigenlake s (peak MiB) | peer s (peak MiB) | peer / eigenlake time |",
        "| --- | --- | --- | --- | --- |",
    ]
    for algo, n, d, params, res in rows:
        me = res["eigenlake"]
        for peer, r in res.items():
            if peer == "eigenlake":
                continue
            extra = f", k={params['k']}, {params['iters']} it" if algo == "kmeans" else ""
            if algo == "dbscan":
                extra = f", eps={params['eps']:.3f}, min_samples={params['min_samples']}"
            out.append(
                f"| {algo} vs {peer} | {n}×{d}{extra} | {me['time']:.3f} ({me['peak_mib']:.0f}) "
                f"| {r['time']:.3f} ({r['peak_mib']:.0f}) | {r['time'] / me['time']:.2f}× |"
            )
    cmd = " ".join(sys.argv[1:])
    return (
        f"Command: `benches/bench_analytics.py {cmd}`, median of {args.repeats} runs\n\n{mach}\n"
        + "\n".join(out)
        + "\n"
    )


if __name__ == "__main__":
    main()
