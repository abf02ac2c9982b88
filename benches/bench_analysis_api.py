"""The analyses through the public API vs the core's own work, and k-means vs faiss (#19).

    .venv/bin/pip install faiss-cpu threadpoolctl   # benchmark only
    .venv/bin/python benches/bench_analysis_api.py [--n 50000] [--repeats 5] [--out FILE]
        [--before-path DIR]   # also run a build of another version side by side
    # --out keeps the notes that follow the marker of benches/notes.py in FILE

One embedded index of `n` clustered unit vectors (`sphere_blobs` of bench_analytics.py,
384 dimensions, 40 blobs) with a short text per record drawn from words of its blob,
created with `index_options={"ann_index": False}` (an analysis-only index: otherwise the
HNSW graph of a fresh 50k index is built in the background, on the same two cores, during
the timings). For
each analysis, in the same fresh process, alternately:

- API: `idx.search.cluster(num_clusters=50)`, `idx.search.outliers()`,
  `idx.search.topics(text_fields=["text"], num_topics=8)`, every record (`limit=None`);
- core: the same core calls on the same rows already in a NumPy array: `_core.kmeans` (same
  seed, iteration cap and tolerance, so the same iterations) + `_core.silhouette` +
  `_core.centre_distances` (each member's distance to its cluster's mean, which ranks the
  representatives; O(n·d)); `_core.lof`; for topics also the c-TF-IDF keywords
  (`top_keywords`) of the texts already in a list. What the API adds is building the
  answer: gathering the rows and the texts, the members' dicts (`_core.id_member_dicts`:
  their uuid texts made from the id bytes), the representatives' properties, the 2-D projection (`_core.principal_plane`).

k-means through the API is compared with `faiss.Kmeans(spherical=True)` on the same rows,
`niter` = the iterations the API ran (all rows: `max_points_per_centroid` large), in its
own process, twice: with OpenMP's default (spinning) wait and with
`OMP_WAIT_POLICY=passive` (much faster when another job holds a core); the ratio uses the
better of the two. Each process runs every call twice; figures are medians over
`--repeats` processes per side, the sides interleaved. Two threads everywhere (the
machine's cores).
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
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_analytics import best_coretype, sphere_blobs  # noqa: E402
from notes import write_keeping_notes  # noqa: E402

THREADS = 2
DIM = 384
K = 50
TOPICS = 8
WORDS = [
    "market",
    "bank",
    "rates",
    "shares",
    "oil",
    "crude",
    "energy",
    "court",
    "judge",
    "trial",
    "vote",
    "party",
    "election",
    "team",
    "match",
    "season",
    "player",
    "virus",
    "vaccine",
    "hospital",
    "patients",
    "rocket",
    "launch",
    "orbit",
    "chip",
    "software",
    "cloud",
    "storage",
    "drought",
    "rain",
    "harvest",
    "farm",
    "museum",
    "painting",
    "artist",
    "film",
    "actor",
    "studio",
    "ship",
    "port",
    "cargo",
    "rail",
    "train",
    "bridge",
    "school",
    "pupils",
    "exam",
]


def make_texts(y: np.ndarray) -> list[str]:
    """Six words per record, mostly from its blob's own five words."""
    rng = np.random.default_rng(1)
    words = np.array(WORDS)
    own = (y[:, None] * 5 + rng.integers(0, 5, (len(y), 6))) % len(words)
    noise = rng.integers(0, len(words), (len(y), 6))
    pick = np.where(rng.random((len(y), 6)) < 0.8, own, noise)
    return [" ".join(row) for row in words[pick].tolist()]


# ---- children ----------------------------------------------------------------------------


def _limit_threads() -> None:
    os.environ["OPENBLAS_CORETYPE"] = best_coretype()
    from threadpoolctl import threadpool_limits

    threadpool_limits(THREADS)


def child_eigenlake(work: str) -> dict[str, Any]:
    _limit_threads()
    import eigenlake
    from eigenlake import _core
    from eigenlake.analysis.ctfidf import top_keywords

    _core.set_num_threads(THREADS)
    describe = hasattr(_core, "centre_distances")
    x = np.load(f"{work}/x.npy")
    texts = json.loads(Path(f"{work}/texts.json").read_text())
    out: dict[str, list[float]] = {}
    info: dict[str, Any] = {}

    def timed(name: str, fn: Any) -> Any:
        t = time.perf_counter()
        r = fn()
        out.setdefault(name, []).append(time.perf_counter() - t)
        return r

    with eigenlake.connect(path=f"{work}/lake") as client:
        idx = client.indexes.open(namespace="bench", index="api")
        idx.records.count()  # opens the index: the cache is loaded outside the timings
        idx.search.cluster(num_clusters=2, limit=200, text_fields=["text"])  # imports, pool
        idx.search.outliers(limit=200)

        def core_cluster() -> Any:
            labels, _c, _i, it = _core.kmeans(x, K, max_iter=50, seed=0, spherical=True)
            _core.silhouette(x, labels, "cosine")
            if describe:  # the representatives' distances (this version's answer needs them)
                _core.centre_distances(x, labels, "cosine")
            return it

        def core_topics() -> None:
            labels, *_ = _core.kmeans(x, TOPICS, max_iter=50, seed=0, spherical=True)
            _core.silhouette(x, labels, "cosine")
            if describe:
                _core.centre_distances(x, labels, "cosine")
            top_keywords(texts, labels.tolist(), range(TOPICS), top_n=10)

        for _ in range(2):
            res = timed("cluster api", lambda: idx.search.cluster(num_clusters=K, limit=None))
            info["iterations"] = int(res["parameters"]["iterations"])
            info["silhouette"] = res["silhouette"]
            info["core iterations"] = int(timed("cluster core", core_cluster))
            timed("kmeans core", lambda: _core.kmeans(x, K, max_iter=50, seed=0, spherical=True))
        for _ in range(2):
            timed(
                "topics api",
                lambda: idx.search.topics(text_fields=["text"], num_topics=TOPICS, limit=None),
            )
            timed("topics core", core_topics)
        for _ in range(2):
            timed("outliers api", lambda: idx.search.outliers(limit=None))
            timed("outliers core", lambda: _core.lof(x, 20, "cosine"))
    return {"times": out, "info": info}


def child_faiss(work: str, iterations: int) -> dict[str, Any]:
    _limit_threads()
    import faiss

    faiss.omp_set_num_threads(THREADS)
    x = np.load(f"{work}/x.npy")
    out: list[float] = []
    for _ in range(2):
        km = faiss.Kmeans(
            DIM, K, niter=iterations, spherical=True, seed=1, max_points_per_centroid=1 << 30
        )
        t = time.perf_counter()
        km.train(x)
        out.append(time.perf_counter() - t)
    return {"times": {"faiss": out}, "info": {"faiss": faiss.__version__}}


# ---- parent ------------------------------------------------------------------------------


def run_child(
    args: list[str], path: str | None = None, extra: dict[str, str] | None = None
) -> dict[str, Any]:
    env = dict(os.environ, **(extra or {}))
    if path:
        env["PYTHONPATH"] = path
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def build(work: str, n: int) -> None:
    import eigenlake

    x, y = sphere_blobs(n, DIM)
    texts = make_texts(y)
    np.save(f"{work}/x.npy", x)
    Path(f"{work}/texts.json").write_text(json.dumps(texts))
    with eigenlake.connect(path=f"{work}/lake") as client:
        # an analysis-only index: no HNSW graph built in the background during the timings
        idx = client.indexes.create_or_get(
            namespace="bench", index="api", dimensions=DIM, index_options={"ann_index": False}
        )
        idx.records.add_many({"text": texts, "vector": x})


def machine() -> str:
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    import faiss
    from threadpoolctl import threadpool_info

    from eigenlake import _core

    blas = ", ".join(
        f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')})"
        for i in threadpool_info()
    )
    info = _core.build_info()
    return (
        f"- CPU: {cpu}, {os.cpu_count()} vCPUs, shared with other engineers' jobs\n"
        f"- Python {platform.python_version()}, NumPy {np.__version__} ({blas}); "
        f"faiss-cpu {faiss.__version__} (OPENBLAS_CORETYPE={best_coretype()})\n"
        f"- eigenlake {info['version']}, kernels `{info['simd']}`, {THREADS} threads "
        f"everywhere (core pool, BLAS, faiss OpenMP)\n"
    )


def med(runs: list[dict[str, Any]], name: str) -> float:
    return statistics.median(t for r in runs for t in r["times"][name])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=50_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", default=None)
    ap.add_argument("--before-path", default=None, help="PYTHONPATH of another build")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, work, *rest = args.child
        res = child_eigenlake(work) if kind == "eigenlake" else child_faiss(work, int(rest[0]))
        print(json.dumps(res))
        return

    load = [os.getloadavg()[0]]
    sides: dict[str, list[dict[str, Any]]] = {
        "after": [],
        "before": [],
        "faiss": [],
        "faiss passive": [],
    }
    with tempfile.TemporaryDirectory() as work:
        build(work, args.n)
        for r in range(args.repeats):
            order = ["after", "before", "faiss", "faiss passive"]
            for side in order if r % 2 == 0 else order[::-1]:
                if side == "before" and not args.before_path:
                    continue
                if side.startswith("faiss"):
                    its = sides["after"][0]["info"]["iterations"] if sides["after"] else 0
                    if not its:  # the API's iterations are needed first
                        continue
                    # OpenMP threads spin while they wait by default: on a machine shared
                    # with other work a passive wait can be much faster; faiss is timed both
                    # ways and compared at its better median
                    policy = {"OMP_WAIT_POLICY": "passive"} if side.endswith("passive") else {}
                    sides[side].append(run_child(["faiss", work, str(its)], extra=policy))
                else:
                    path = args.before_path if side == "before" else None
                    sides[side].append(run_child(["eigenlake", work], path))
                print(side, json.dumps(sides[side][-1]["times"]), flush=True)
                load.append(os.getloadavg()[0])
    report = render(sides, args, load)
    print(report)
    if args.out:  # the hand-written notes below the marker stay
        write_keeping_notes(Path(args.out), report)


def render(
    sides: dict[str, list[dict[str, Any]]], args: argparse.Namespace, load: list[float]
) -> str:
    after, before, faiss_runs = sides["after"], sides["before"], sides["faiss"]
    info = after[0]["info"]
    rows = [
        f"| analysis (n = {args.n:,}, d = 384) | before: API s | API s | core s "
        "| API / core | goal |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, what in (
        ("cluster", f"cluster, k-means k={K} ({info['iterations']} it) + silhouette"),
        ("outliers", "outliers, LOF k=20"),
        ("topics", f"topics, k={TOPICS} + c-TF-IDF keywords"),
    ):
        api, core = med(after, f"{name} api"), med(after, f"{name} core")
        old = f"{med(before, f'{name} api'):.3f}" if before else "—"
        ok = "met" if api <= 1.15 * core else "not met"
        rows.append(
            f"| {what} | {old} | {api:.3f} | {core:.3f} | {api / core:.3f}× | ≤ 1.15×: {ok} |"
        )
    spin = med(faiss_runs, "faiss") if faiss_runs else float("nan")
    passive = med(sides["faiss passive"], "faiss") if sides["faiss passive"] else float("nan")
    fa = min(spin, passive)
    api, km = med(after, "cluster api"), med(after, "kmeans core")
    its = info["iterations"]
    km_rows = [
        f"| k-means {args.n // 1000}k × 384, k = {K}, {its} iterations, all rows | s "
        "| faiss (better) / this |",
        "| --- | --- | --- |",
        f"| faiss.Kmeans(spherical), niter = {its}, OpenMP default wait | {spin:.3f} "
        f"| {fa / spin:.2f}× |",
        f"| faiss.Kmeans(spherical), niter = {its}, OMP_WAIT_POLICY=passive | {passive:.3f} "
        f"| {fa / passive:.2f}× |",
        f"| `search.cluster` through the API (k-means + exact silhouette + answer) | {api:.3f} "
        f"| {fa / api:.2f}× |",
        f"| `_core.kmeans` alone | {km:.3f} | {fa / km:.2f}× |",
    ]
    if before:
        old = med(before, "cluster api")
        km_rows.append(
            f"| before: `search.cluster` through the API | {old:.3f} | {fa / old:.2f}× |"
        )
    goal = "met" if fa / api >= 1.5 else "not met"
    cmd = " ".join(a for a in sys.argv[1:])
    return (
        "## Analyses through the API vs the core (issue #19)\n\n"
        f"Command: `benches/bench_analysis_api.py {cmd}`: medians of {args.repeats} fresh "
        "processes per side (every call twice in each), sides interleaved; load average "
        f"{min(load):.1f}–{max(load):.1f} during the run.\n\n"
        + machine()
        + "\n"
        + "\n".join(rows)
        + "\n\n"
        + "\n".join(km_rows)
        + f"\n\nGoal k-means through the API ≥ 1.5× faiss: **{goal}** ({fa / api:.2f}×).\n"
    )


if __name__ == "__main__":
    main()
