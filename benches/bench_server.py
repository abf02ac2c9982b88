"""Server benchmark: EigenLake (`eigenlake serve`) beside Chroma (`chroma run`), loopback only.

Same data for both: N x 384 float32 unit vectors (seeded). Phases, each bounded in request
count and seconds:
  insert  — insert-many in batches of 500 from --insert-clients concurrent clients (this also
            loads the collection);
  search  — near-vector top-10 from --search-clients concurrent clients (after one untimed
            warm-up query, which may build the ANN graph).
Request bodies are encoded before timing, so the load generator's JSON work is not measured.
Results (req/s, p50/p99 ms) and machine info go to benches/results/server.md.

    .venv/bin/python benches/bench_server.py                      # 100,000 x 384
    .venv/bin/python benches/bench_server.py --n 20000 --quick    # smoke run
Chroma comes from benches/requirements-server.txt in its own venv (--chroma-bin).
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
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np

from eigenlake.server.process import ServerProcess, free_port

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CHROMA = Path.home() / ".cache" / "eigenlake" / "bench-chroma" / "bin" / "chroma"
DIM, BATCH, TOP_K = 384, 500, 10
JSON = {"content-type": "application/json"}


def make_data(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, DIM), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return np.round(x, 6)  # six decimals: identical, shorter JSON for both servers


def dumps(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def run_load(
    name: str,
    bodies: list[bytes],
    send: Callable[[httpx.Client, bytes], httpx.Response],
    clients: int,
    max_seconds: float,
) -> dict[str, float]:
    """Send ``bodies`` from ``clients`` threads (each its own connection); stop at the time cap."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    cursor = iter(range(len(bodies)))
    deadline = time.monotonic() + max_seconds

    def worker() -> None:
        with httpx.Client(timeout=120.0) as http:
            while time.monotonic() < deadline:
                with lock:
                    i = next(cursor, None)
                if i is None:
                    return
                t0 = time.perf_counter()
                resp = send(http, bodies[i])
                dt = time.perf_counter() - t0
                with lock:
                    if resp.status_code >= 300:
                        errors[0] += 1
                        if errors[0] <= 3:
                            print(
                                f"  {name}: HTTP {resp.status_code} {resp.text[:200]}",
                                file=sys.stderr,
                            )
                    latencies.append(dt)

    start = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    lat = np.array(latencies) * 1000
    return {
        "requests": len(latencies),
        "errors": errors[0],
        "seconds": wall,
        "rps": len(latencies) / wall if wall else 0.0,
        "p50": float(np.percentile(lat, 50)) if len(lat) else float("nan"),
        "p99": float(np.percentile(lat, 99)) if len(lat) else float("nan"),
    }


# ---- EigenLake -------------------------------------------------------------------------------


def bench_eigenlake(
    data: np.ndarray, queries: np.ndarray, args: argparse.Namespace, workdir: Path
) -> dict[str, dict[str, float]]:
    base = "/v1/indexes/bench/vectors"
    with ServerProcess(workdir / "eigenlake", log_file=workdir / "eigenlake.log") as srv:
        url = srv.url
        httpx.post(
            f"{url}/v1/indexes/get-or-create",
            json={"namespace": "bench", "index": "vectors", "dimensions": DIM},
            timeout=60,
        ).raise_for_status()
        bodies = [
            dumps(
                {
                    "objects": [
                        {"properties": {"i": int(j)}, "vector": data[j].tolist()}
                        for j in range(s, min(s + BATCH, len(data)))
                    ],
                    "on_error": "raise",
                }
            )
            for s in range(0, len(data), BATCH)
        ]
        ins = run_load(
            "eigenlake insert",
            bodies,
            lambda h, b: h.post(
                f"{url}{base}/records/insert-many",
                content=b,
                headers={"content-type": "application/json"},
            ),
            args.insert_clients,
            args.insert_seconds,
        )
        del bodies
        qbodies = [dumps({"vector": q.tolist(), "top_k": TOP_K, "filter": None}) for q in queries]

        def search(h: httpx.Client, b: bytes) -> httpx.Response:
            return h.post(f"{url}{base}/search/near-vector", content=b, headers=JSON)

        t0 = time.perf_counter()
        httpx.post(
            f"{url}{base}/search/near-vector", content=qbodies[0], headers=JSON, timeout=1800
        ).raise_for_status()
        warm = time.perf_counter() - t0
        # The first search starts the HNSW build in the background; until it is done queries
        # scan exactly. Measure that window, then steady state once the graph is saved.
        during = run_load(
            "eigenlake search (graph building)",
            qbodies,
            search,
            args.search_clients,
            args.max_seconds,
        )
        wait_for_graph(workdir / "eigenlake" / "bench" / "vectors", args.build_seconds)
        during["graph_built_s"] = time.perf_counter() - t0
        srch = run_load("eigenlake search", qbodies, search, args.search_clients, args.max_seconds)
    srch["warmup_s"] = warm
    return {"insert": ins, "search during graph build": during, "search": srch}


def wait_for_graph(index_dir: Path, cap: float) -> None:
    """Until the store has saved its HNSW graph (``hnsw.json``: bench-only knowledge of the
    store layout), at most ``cap`` seconds."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < cap and not (index_dir / "hnsw.json").exists():
        time.sleep(1.0)


# ---- Chroma ----------------------------------------------------------------------------------


def start_chroma(chroma: str, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = dict(os.environ, ANONYMIZED_TELEMETRY="False", CHROMA_TELEMETRY_ENABLED="false")
    log = open(workdir / "chroma.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            chroma,
            "run",
            "--path",
            str(workdir / "chroma"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.terminate()
    raise RuntimeError(f"chroma did not start; see {workdir / 'chroma.log'}")


def bench_chroma(
    data: np.ndarray, queries: np.ndarray, args: argparse.Namespace, workdir: Path
) -> dict[str, dict[str, float]]:
    proc, url = start_chroma(args.chroma_bin, workdir)
    try:
        cols = f"{url}/api/v2/tenants/default_tenant/databases/default_database/collections"
        body = {
            "name": "vectors",
            "get_or_create": True,
            "configuration": {"hnsw": {"space": "cosine"}},
        }
        resp = httpx.post(cols, json=body, timeout=60)
        resp.raise_for_status()
        cid = resp.json()["id"]
        bodies = [
            dumps(
                {
                    "ids": [str(j) for j in range(s, min(s + BATCH, len(data)))],
                    "embeddings": data[s : s + BATCH].tolist(),
                    "metadatas": [{"i": int(j)} for j in range(s, min(s + BATCH, len(data)))],
                }
            )
            for s in range(0, len(data), BATCH)
        ]
        ins = run_load(
            "chroma insert",
            bodies,
            lambda h, b: h.post(
                f"{cols}/{cid}/add", content=b, headers={"content-type": "application/json"}
            ),
            args.insert_clients,
            args.insert_seconds,
        )
        del bodies
        qbodies = [
            dumps(
                {
                    "query_embeddings": [q.tolist()],
                    "n_results": TOP_K,
                    "include": ["metadatas", "distances"],
                }
            )
            for q in queries
        ]
        t0 = time.perf_counter()
        httpx.post(
            f"{cols}/{cid}/query",
            content=qbodies[0],
            headers={"content-type": "application/json"},
            timeout=1800,
        ).raise_for_status()
        warm = time.perf_counter() - t0
        srch = run_load(
            "chroma search",
            qbodies,
            lambda h, b: h.post(
                f"{cols}/{cid}/query", content=b, headers={"content-type": "application/json"}
            ),
            args.search_clients,
            args.max_seconds,
        )
        srch["warmup_s"] = warm
        return {"insert": ins, "search": srch}
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


# ---- report ----------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    import eigenlake

    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    mem = next(
        (
            ln.split()[1]
            for ln in Path("/proc/meminfo").read_text().splitlines()
            if ln.startswith("MemTotal")
        ),
        "0",
    )
    info = eigenlake.build_info()
    return {
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "memory": f"{int(mem) / 1024 / 1024:.1f} GiB",
        "os": platform.platform(),
        "python": platform.python_version(),
        "eigenlake": f"{eigenlake.__version__} (simd {info.get('simd')}, threads {info.get('threads', info.get('num_threads'))})",
    }


def chroma_version(chroma: str) -> str:
    py = Path(chroma).with_name("python")
    try:
        out = subprocess.run(
            [str(py), "-c", "import chromadb; print(chromadb.__version__)"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def report(
    results: dict[str, dict[str, dict[str, float]]], args: argparse.Namespace, out: Path
) -> str:
    lines = [
        "# Server benchmark: EigenLake vs Chroma (loopback)",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with `benches/bench_server.py --n {args.n}`"
        f" ({args.n:,} x {DIM} float32 unit vectors, seed 0; insert-many batches of {BATCH} from"
        f" {args.insert_clients} clients; near-vector top-{TOP_K} from {args.search_clients} clients,"
        f" {args.queries} queries; insert capped at {args.insert_seconds:.0f} s, search at"
        f" {args.max_seconds:.0f} s).",
        "Load generator: httpx threads on the same machine, bodies JSON-encoded before timing;"
        " servers and load generator share the cores.",
        "",
        "| machine | |",
        "| --- | --- |",
    ]
    for k, v in machine().items():
        lines.append(f"| {k} | {v} |")
    if "chroma" in results:
        lines.append(
            f"| chroma | {chroma_version(args.chroma_bin)} (`chroma run`, hnsw space cosine) |"
        )
    lines += [
        "",
        "| server | phase | requests | errors | req/s | records/s | p50 ms | p99 ms | warm-up s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for server, phases in results.items():
        for phase, r in phases.items():
            per = BATCH if phase == "insert" else 1
            warm = f"{r['warmup_s']:.2f}" if "warmup_s" in r else ""
            if "graph_built_s" in r:
                warm = f"graph saved {r['graph_built_s']:.0f} s after the first search"
            lines.append(
                f"| {server} | {phase} | {r['requests']} | {r['errors']} | {r['rps']:.1f} | {r['rps'] * per:,.0f} | {r['p50']:.1f} | {r['p99']:.1f} | {warm} |"
            )
    text = "\n".join(lines) + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n" + NOTES)
    return text


NOTES = """## Reading the numbers

- insert: one request = one insert-many of 500 records; records/s = req/s x 500. EigenLake
  acknowledges after its SQLite transaction commits (WAL, synchronous=FULL).
- search: warm-up is the first query, untimed. Above 20,000 rows EigenLake's first search
  starts building the HNSW graph in the background and scans exactly meanwhile ("search
  during graph build", which competes with the build for the cores); "search" is measured
  after the graph is saved. Chroma builds its graph during inserts instead.
- Both servers run with their defaults, no API key, on 127.0.0.1; nothing leaves the machine.
"""


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--n", type=int, default=100_000)
    p.add_argument("--queries", type=int, default=2000)
    p.add_argument("--insert-clients", type=int, default=2)
    p.add_argument("--search-clients", type=int, default=4)
    p.add_argument("--insert-seconds", type=float, default=600.0, help="cap of the insert phase")
    p.add_argument("--max-seconds", type=float, default=60.0, help="cap of each search phase")
    p.add_argument("--build-seconds", type=float, default=900.0, help="cap on waiting for HNSW")
    p.add_argument("--chroma-bin", default=str(DEFAULT_CHROMA))
    p.add_argument("--skip-chroma", action="store_true")
    p.add_argument("--out", default=str(ROOT / "benches" / "results" / "server.md"))
    p.add_argument("--quick", action="store_true", help="fewer queries and a short time cap")
    args = p.parse_args()
    if args.quick:
        args.queries, args.max_seconds, args.insert_seconds = 200, 20.0, 60.0
    data = make_data(args.n)
    queries = make_data(args.queries, seed=1)
    workdir = Path(tempfile.mkdtemp(prefix="eigenlake-bench-"))
    results: dict[str, dict[str, dict[str, float]]] = {}
    try:
        print(f"eigenlake: {args.n:,} x {DIM}", flush=True)
        results["eigenlake"] = bench_eigenlake(data, queries, args, workdir)
        print(json.dumps(results["eigenlake"], indent=1), flush=True)
        if not args.skip_chroma:
            if shutil.which(args.chroma_bin) or Path(args.chroma_bin).exists():
                print("chroma", flush=True)
                results["chroma"] = bench_chroma(data, queries, args, workdir)
                print(json.dumps(results["chroma"], indent=1), flush=True)
            else:
                print(
                    f"chroma not found at {args.chroma_bin}; pip install -r benches/requirements-server.txt into a venv",
                    file=sys.stderr,
                )
        print(report(results, args, Path(args.out)))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
