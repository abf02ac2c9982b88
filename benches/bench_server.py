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
import contextlib
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


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of process ``pid`` and its live descendants, from /proc: what
    a server spent, whatever else runs on the shared machine."""
    table: dict[int, tuple[int, int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        table[int(entry)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    wanted, ticks = {pid}, 0
    for _ in range(8):  # a few levels of children are plenty
        for p, (parent, _t) in table.items():
            if parent in wanted:
                wanted.add(p)
    for p in wanted:
        ticks += table.get(p, (0, 0))[1]
    return ticks / os.sysconf("SC_CLK_TCK")


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

BASE = "/v1/indexes/bench/vectors"


def eigenlake_bodies(data: np.ndarray) -> list[bytes]:
    return [
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


def eigenlake_search(url: str) -> Callable[[httpx.Client, bytes], httpx.Response]:
    def search(h: httpx.Client, b: bytes) -> httpx.Response:
        return h.post(f"{url}{BASE}/search/near-vector", content=b, headers=JSON)

    return search


def load_eigenlake(
    data: np.ndarray, qbodies: list[bytes], args: argparse.Namespace, store: Path, log: Path
) -> dict[str, dict[str, float]]:
    """Insert, first search (starts the graph build), searches while it builds, then wait
    until the graph is saved; the server is stopped afterwards (its store is kept)."""
    with ServerProcess(store, log_file=log) as srv:
        url = srv.url
        httpx.post(
            f"{url}/v1/indexes/get-or-create",
            json={"namespace": "bench", "index": "vectors", "dimensions": DIM},
            timeout=60,
        ).raise_for_status()
        ins = run_load(
            "eigenlake insert",
            eigenlake_bodies(data),
            lambda h, b: h.post(f"{url}{BASE}/records/insert-many", content=b, headers=JSON),
            args.insert_clients,
            args.insert_seconds,
        )
        t0 = time.perf_counter()
        httpx.post(
            f"{url}{BASE}/search/near-vector", content=qbodies[0], headers=JSON, timeout=1800
        ).raise_for_status()
        warm = time.perf_counter() - t0
        # The first search starts the HNSW build in the background; until it is done queries
        # scan exactly. Measure that window, then steady state once the graph is saved.
        during = run_load(
            "eigenlake search (graph building)",
            qbodies,
            eigenlake_search(url),
            args.search_clients,
            args.max_seconds,
        )
        wait_for_graph(store / "bench" / "vectors", args.build_seconds)
        during["graph_built_s"] = time.perf_counter() - t0
        during["warmup_s"] = warm
    return {"insert": ins, "search during graph build": during}


def wait_for_graph(index_dir: Path, cap: float) -> None:
    """Until the store has saved its HNSW graph (``hnsw.json``: bench-only knowledge of the
    store layout), at most ``cap`` seconds."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < cap and not (index_dir / "hnsw.json").exists():
        time.sleep(1.0)


def start_eigenlake(
    store: Path, log: Path, qbody: bytes, stack: contextlib.ExitStack, env: dict[str, str] | None
) -> tuple[str, int]:
    """A server over a loaded store, warmed by one query (it loads the saved graph); its
    URL and process id."""
    srv = stack.enter_context(ServerProcess(store, log_file=log, env=env))
    httpx.post(
        f"{srv.url}{BASE}/search/near-vector", content=qbody, headers=JSON, timeout=600
    ).raise_for_status()
    assert srv.proc is not None
    return srv.url, srv.proc.pid


# ---- Chroma ----------------------------------------------------------------------------------


def start_chroma(
    chroma: str, workdir: Path, stack: contextlib.ExitStack | None = None
) -> tuple[subprocess.Popen[bytes], str]:
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
    if stack is not None:
        stack.callback(stop_process, proc)
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
    stop_process(proc)
    raise RuntimeError(f"chroma did not start; see {workdir / 'chroma.log'}")


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


def chroma_query_bodies(queries: np.ndarray) -> list[bytes]:
    return [
        dumps(
            {
                "query_embeddings": [q.tolist()],
                "n_results": TOP_K,
                "include": ["metadatas", "distances"],
            }
        )
        for q in queries
    ]


def load_chroma(
    data: np.ndarray, qbodies: list[bytes], args: argparse.Namespace, url: str, insert: bool
) -> tuple[dict[str, float], Callable[[httpx.Client, bytes], httpx.Response]]:
    """Create the collection, insert (unless it is loaded already), warm it with one query;
    the insert figures and the search request."""
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
    ins: dict[str, float] = {}
    if insert:
        ins = run_load(
            "chroma insert",
            bodies,
            lambda h, b: h.post(f"{cols}/{cid}/add", content=b, headers=JSON),
            args.insert_clients,
            args.insert_seconds,
        )
    del bodies

    def search(h: httpx.Client, b: bytes) -> httpx.Response:
        return h.post(f"{cols}/{cid}/query", content=b, headers=JSON)

    t0 = time.perf_counter()
    httpx.post(f"{cols}/{cid}/query", content=qbodies[0], headers=JSON, timeout=1800)
    ins["warmup_s"] = time.perf_counter() - t0
    return ins, search


# ---- rounds ----------------------------------------------------------------------------------

# a server's query bodies, how to send one, and its process id
Target = tuple[list[bytes], Callable[[httpx.Client, bytes], httpx.Response], int]


def median_round(rounds: list[dict[str, float]]) -> dict[str, float]:
    """The round of median req/s (its p50/p99 with it), with every round's req/s."""
    ranked = sorted(rounds, key=lambda r: r["rps"])
    out = dict(ranked[(len(ranked) - 1) // 2])
    out["rounds_rps"] = [r["rps"] for r in rounds]  # type: ignore[assignment]
    for k in ("server_cpu_ms", "client_cpu_ms"):  # medians of their own
        out[k] = float(np.median([r[k] for r in rounds]))
    return out


def run_rounds(
    targets: dict[str, Target],
    args: argparse.Namespace,
) -> dict[str, list[dict[str, float]]]:
    """Search phases of every server, alternating, ``args.rounds`` times; the first server
    of a round rotates so none always runs first (or right after the same neighbour)."""
    names = list(targets)
    out: dict[str, list[dict[str, float]]] = {n: [] for n in names}
    for r in range(args.rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            bodies, send, pid = targets[name]
            server0, client0 = cpu_seconds(pid), time.process_time()
            res = run_load(f"{name} search", bodies, send, args.search_clients, args.max_seconds)
            res["server_cpu_ms"] = (cpu_seconds(pid) - server0) * 1000 / max(res["requests"], 1)
            res["client_cpu_ms"] = (time.process_time() - client0) * 1000 / max(res["requests"], 1)
            res["load"] = os.getloadavg()[0]
            out[name].append(res)
            print(
                f"  round {r + 1} {name}: {res['rps']:.1f} req/s, server CPU {res['server_cpu_ms']:.2f} ms/req"
                f" (load {res['load']:.2f})",
                flush=True,
            )
    return out


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
    results: dict[str, dict[str, dict[str, float]]],
    args: argparse.Namespace,
    out: Path,
    loads: tuple[str, str],
) -> str:
    flags = "".join(f" --baseline {b.split('=', 1)[0]}=…" for b in args.baseline)
    flags += " --reuse DIR" if args.reuse else ""
    lines = [
        "# Server benchmark: EigenLake vs Chroma (loopback)",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with `benches/bench_server.py --n {args.n}"
        f" --rounds {args.rounds}{flags}` ({args.n:,} x {DIM} float32 unit vectors, seed 0; insert-many"
        f" batches of {BATCH} from {args.insert_clients} clients; near-vector top-{TOP_K} from"
        f" {args.search_clients} clients, {args.queries} queries a round; insert capped at"
        f" {args.insert_seconds:.0f} s, search at {args.max_seconds:.0f} s).",
        "Load generator: httpx threads on the same machine, bodies JSON-encoded before timing;"
        " servers and load generator share the cores. Search: the servers' rounds alternate"
        " (first server rotating); the row is the round of median req/s. CPU per request: the"
        " server process (and its children) and the load generator, from /proc, medians over"
        " the rounds: what each side spent, whatever else shares the machine.",
        f"Load average (`uptime`): {loads[0]} at the start, {loads[1]} at the end.",
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
        "| server | phase | requests | errors | req/s | records/s | p50 ms | p99 ms | warm-up s | req/s of each round | server CPU ms/req | load generator CPU ms/req |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for server, phases in results.items():
        for phase, r in phases.items():
            if "requests" not in r:
                continue  # a phase this run skipped (--reuse)
            per = BATCH if phase == "insert" else 1
            warm = f"{r['warmup_s']:.2f}" if "warmup_s" in r else ""
            if "graph_built_s" in r:
                warm = f"graph saved {r['graph_built_s']:.0f} s after the first search"
            each = ", ".join(f"{x:.0f}" for x in r.get("rounds_rps", []))  # type: ignore[attr-defined]
            cpu = " | ".join(
                f"{r[k]:.2f}" if k in r else "" for k in ("server_cpu_ms", "client_cpu_ms")
            )
            lines.append(
                f"| {server} | {phase} | {r['requests']} | {r['errors']} | {r['rps']:.1f} | {r['rps'] * per:,.0f} | {r['p50']:.1f} | {r['p99']:.1f} | {warm} | {each} | {cpu} |"
            )
    if "chroma" in results:
        ours = results["eigenlake"]["search"]["rps"]
        theirs = results["chroma"]["search"]["rps"]
        s_ours = results["eigenlake"]["search"]["server_cpu_ms"]
        s_theirs = results["chroma"]["search"]["server_cpu_ms"]
        lines += [
            "",
            f"near-vector: eigenlake / chroma = **{ours / theirs:.2f}×** req/s (median rounds);"
            f" server CPU per request {s_ours:.2f} vs {s_theirs:.2f} ms"
            f" ({s_theirs / s_ours:.2f}× less).",
        ]
    text = "\n".join(lines) + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    notes = ""
    if out.exists() and not args.replace_notes:
        # hand-written notes below the generated part are kept
        old = out.read_text()
        at = old.find("## Observations")
        notes = "\n" + old[at:] if at >= 0 else ""
    out.write_text(text + "\n" + NOTES + notes)
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


def uptime() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--n", type=int, default=100_000)
    p.add_argument("--queries", type=int, default=2000)
    p.add_argument("--rounds", type=int, default=3, help="alternating search rounds per server")
    p.add_argument("--insert-clients", type=int, default=2)
    p.add_argument("--search-clients", type=int, default=4)
    p.add_argument("--insert-seconds", type=float, default=600.0, help="cap of the insert phase")
    p.add_argument("--max-seconds", type=float, default=60.0, help="cap of each search phase")
    p.add_argument("--build-seconds", type=float, default=900.0, help="cap on waiting for HNSW")
    p.add_argument("--chroma-bin", default=str(DEFAULT_CHROMA))
    p.add_argument("--skip-chroma", action="store_true")
    p.add_argument(
        "--baseline",
        metavar="NAME=PYTHONPATH",
        action="append",
        default=[],
        help="also serve a copy of the store from another source tree (e.g. a checkout's"
        " python/) as 'eigenlake-NAME', in the same rounds; repeatable",
    )
    p.add_argument("--out", default=str(ROOT / "benches" / "results" / "server.md"))
    p.add_argument(
        "--replace-notes", action="store_true", help="drop the hand-written notes of --out"
    )
    p.add_argument(
        "--reuse",
        metavar="DIR",
        help="keep both servers' stores in DIR and, when they hold --n records already,"
        " skip the load phases (search rounds only)",
    )
    p.add_argument("--quick", action="store_true", help="fewer queries and a short time cap")
    args = p.parse_args()
    if args.quick:
        args.queries, args.max_seconds, args.insert_seconds = 200, 20.0, 60.0
    data = make_data(args.n)
    queries = make_data(args.queries, seed=1)
    chroma_bin = args.chroma_bin
    if not (shutil.which(chroma_bin) or Path(chroma_bin).exists()):
        fallback = Path(sys.executable).with_name("chroma")
        chroma_bin = str(fallback) if fallback.exists() else ""
    args.chroma_bin = chroma_bin
    workdir = Path(args.reuse or tempfile.mkdtemp(prefix="eigenlake-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    marker = workdir / "loaded.json"
    loaded = marker.exists() and json.loads(marker.read_text()).get("n") == args.n
    start_load = uptime()
    results: dict[str, dict[str, dict[str, float]]] = {}
    qbodies = [dumps({"vector": q.tolist(), "top_k": TOP_K, "filter": None}) for q in queries]
    store = workdir / "eigenlake"
    try:
        with contextlib.ExitStack() as stack:
            print(f"eigenlake: {args.n:,} x {DIM}", flush=True)
            results["eigenlake"] = {}
            if not loaded:
                results["eigenlake"] = load_eigenlake(
                    data, qbodies, args, store, workdir / "eigenlake.log"
                )
            others = dict(b.split("=", 1) for b in args.baseline)
            for name in others:  # copied while no server has the store open
                shutil.rmtree(workdir / f"store-{name}", ignore_errors=True)
                shutil.copytree(store, workdir / f"store-{name}")
            url, pid = start_eigenlake(store, workdir / "eigenlake.log", qbodies[0], stack, None)
            targets: dict[str, Target] = {"eigenlake": (qbodies, eigenlake_search(url), pid)}
            for name, tree in others.items():
                env = {"PYTHONPATH": str(Path(tree).resolve())}
                other, opid = start_eigenlake(
                    workdir / f"store-{name}", workdir / f"{name}.log", qbodies[0], stack, env
                )
                targets[f"eigenlake-{name}"] = (qbodies, eigenlake_search(other), opid)
                results[f"eigenlake-{name}"] = {}
            if not args.skip_chroma:
                if chroma_bin:
                    print("chroma", flush=True)
                    cproc, curl = start_chroma(chroma_bin, workdir, stack)
                    cq = chroma_query_bodies(queries)
                    ins, send = load_chroma(data, cq, args, curl, insert=not loaded)
                    results["chroma"] = {"insert": ins} if "requests" in ins else {}
                    targets["chroma"] = (cq, send, cproc.pid)
                else:
                    print(
                        "chroma not found; pip install -r benches/requirements-server.txt into a venv",
                        file=sys.stderr,
                    )
            if args.reuse and not args.skip_chroma:
                marker.write_text(json.dumps({"n": args.n}))
            rounds = run_rounds(targets, args)
            for name, rs in rounds.items():
                results[name]["search"] = median_round(rs)
        print(report(results, args, Path(args.out), (start_load, uptime())))
    finally:
        if not args.reuse:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
