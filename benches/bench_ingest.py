"""Ingest benchmark: EigenLake vs Chroma and LanceDB (embedded, same data, same run).

Data: 100,000 x 384 float32 unit vectors in Gaussian blobs (fixed seed) with 5 properties
(accession, organism, length, score, reviewed). EigenLake ingests it three ways through the
public ``records.add_many``: the Arrow table LanceDB gets (``eigenlake-arrow``), the same
table as a pandas DataFrame (``eigenlake-pandas``) and as record dicts (``eigenlake``). Each engine runs in its own process so
memory is measured per engine (peak RSS above the process's RSS with the data in memory,
as a ratio to the raw vector bytes). Figures: bulk-insert throughput, reopen-to-ready in a
fresh process, filtered-listing latency (median), memory. Results go to
``benches/results/ingest.md``. Not a test: nothing here asserts.

    .venv/bin/pip install -r benches/requirements-ingest.txt
    .venv/bin/python benches/bench_ingest.py [--n 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from notes import write_keeping_notes

DIM = 384
ORGANISMS = [f"organism-{i}" for i in range(10)]
FILTER_SQL = "organism = 'organism-3' AND length >= 500"
HERE = Path(__file__).resolve().parent


def rss_mib() -> float:
    return _status_mib("VmRSS")


def _status_mib(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def reset_peak() -> None:
    """Restart the kernel's peak-RSS counter (VmHWM) so a step's peak excludes setup."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def peak_mib() -> float:
    return _status_mib("VmHWM")


def dataset(n: int) -> tuple[np.ndarray, dict[str, list[Any]]]:
    rng = np.random.default_rng(42)
    centres = rng.standard_normal((200, DIM)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    x = centres[rng.integers(0, 200, n)]
    x = x + (0.6 / np.sqrt(DIM)) * rng.standard_normal((n, DIM)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    cols = {
        "accession": [f"P{i:07d}" for i in range(n)],
        "organism": [ORGANISMS[i % 10] for i in range(n)],
        "length": rng.integers(10, 1000, n).tolist(),
        "score": rng.random(n).round(4).tolist(),
        "reviewed": (rng.random(n) < 0.5).tolist(),
    }
    return np.ascontiguousarray(x, dtype=np.float32), cols


def median_ms(f: Any, repeat: int = 30) -> float:
    f()  # warm
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return 1000 * statistics.median(ts)


# ---- engines: each function runs inside its own worker process ---------------------------


def eigenlake_prepare(x: np.ndarray, cols: dict[str, list[Any]]) -> Any:
    names = list(cols)
    return [
        {"properties": dict(zip(names, vals, strict=True)), "vector": x[i]}
        for i, vals in enumerate(zip(*cols.values(), strict=True))
    ]


def eigenlake_arrow_prepare(x: np.ndarray, cols: dict[str, list[Any]]) -> Any:
    return lance_prepare(x, cols)  # the very table LanceDB gets


def eigenlake_pandas_prepare(x: np.ndarray, cols: dict[str, list[Any]]) -> Any:
    return lance_prepare(x, cols).to_pandas()  # vector column: one float32 array a row


def eigenlake_ingest(path: str, records: Any) -> float:
    import eigenlake
    from eigenlake import schema as s

    schema, options = (
        s.SchemaBuilder()
        .add("accession", s.string(required=True))
        .add("organism", s.string())
        .add("length", s.integer())
        .add("score", s.number())
        .add("reviewed", s.boolean())
        .build()
    )
    with eigenlake.connect(path=path) as client:
        idx = client.indexes.create_or_get(
            namespace="bench",
            index="ingest",
            dimensions=DIM,
            schema=schema,
            index_options=options,
        )
        t = time.perf_counter()
        idx.records.add_many(records)  # durable (committed) when it returns
        return time.perf_counter() - t


def eigenlake_open(path: str) -> Any:
    import eigenlake

    client = eigenlake.connect(path=path)
    idx = client.indexes.open(namespace="bench", index="ingest")
    flt = {"organism": "organism-3", "length": {"$gte": 500}}
    return (client, idx), lambda: idx.records.list(filter=flt, limit=100)


def chroma_prepare(x: np.ndarray, cols: dict[str, list[Any]]) -> Any:
    metas = [dict(zip(cols, vals, strict=True)) for vals in zip(*cols.values(), strict=True)]
    return x, cols["accession"], metas


def chroma_ingest(path: str, payload: Any) -> float:
    import chromadb

    x, ids, metas = payload
    client = chromadb.PersistentClient(path=path)
    coll = client.create_collection("ingest", metadata={"hnsw:space": "cosine"})
    step = client.get_max_batch_size()
    t = time.perf_counter()
    for i in range(0, len(x), step):
        coll.add(ids=ids[i : i + step], embeddings=x[i : i + step], metadatas=metas[i : i + step])
    return time.perf_counter() - t


def chroma_open(path: str) -> Any:
    import chromadb

    client = chromadb.PersistentClient(path=path)
    coll = client.get_collection("ingest")
    flt = {"$and": [{"organism": "organism-3"}, {"length": {"$gte": 500}}]}
    return (client, coll), lambda: coll.get(where=flt, limit=100)


def lance_prepare(x: np.ndarray, cols: dict[str, list[Any]]) -> Any:
    import pyarrow as pa

    vec = pa.FixedSizeListArray.from_arrays(pa.array(x.reshape(-1)), DIM)
    return pa.table({**{k: pa.array(v) for k, v in cols.items()}, "vector": vec})


def lance_ingest(path: str, table: Any) -> float:
    import lancedb

    db = lancedb.connect(path)
    t = time.perf_counter()
    db.create_table("ingest", data=table)
    return time.perf_counter() - t


def lance_open(path: str) -> Any:
    import lancedb

    table = lancedb.connect(path).open_table("ingest")
    return table, lambda: table.search().where(FILTER_SQL).limit(100).to_list()


ENGINES = {
    "eigenlake-arrow": (eigenlake_arrow_prepare, eigenlake_ingest, eigenlake_open),
    "eigenlake-pandas": (eigenlake_pandas_prepare, eigenlake_ingest, eigenlake_open),
    "eigenlake": (eigenlake_prepare, eigenlake_ingest, eigenlake_open),
    "chromadb": (chroma_prepare, chroma_ingest, chroma_open),
    "lancedb": (lance_prepare, lance_ingest, lance_open),
}


def worker(engine: str, phase: str, path: str, n: int) -> dict[str, float]:
    prepare, ingest, open_ = ENGINES[engine]
    if phase == "ingest":
        x, cols = dataset(n)
        payload = prepare(x, cols)  # the caller's data, in the shape each API takes
        del x, cols
        reset_peak()
        base = rss_mib()
        t = time.perf_counter()
        call = ingest(path, payload)
        took = time.perf_counter() - t
        return {"call_s": call, "ingest_s": took, "ingest_peak_extra_mib": peak_mib() - base}
    reset_peak()
    base = rss_mib()
    t = time.perf_counter()
    handle, query = open_(path)
    query()  # ready = first filtered answer served
    ready = time.perf_counter() - t
    latency = median_ms(query)
    out = {"ready_s": ready, "list_ms": latency, "open_peak_extra_mib": peak_mib() - base}
    del handle
    return out


def run_worker(engine: str, phase: str, path: str, n: int) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--worker", engine, phase, path, str(n)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{engine} {phase} failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def machine() -> str:
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import eigenlake

    return (
        f"{cpu}, {os.cpu_count()} vCPUs, {mem:.1f} GiB RAM, {platform.platform()}, "
        f"Python {platform.python_version()}, eigenlake build {eigenlake.build_info()}"
    )


def versions() -> str:
    from importlib.metadata import version

    return ", ".join(f"{p} {version(p)}" for p in ("chromadb", "lancedb", "numpy"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--engines", default="eigenlake-arrow,eigenlake-pandas,eigenlake,lancedb,chromadb"
    )
    ap.add_argument("--out", default=str(HERE / "results" / "ingest.md"))
    ap.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        engine, phase, path, n = args.worker
        print(json.dumps(worker(engine, phase, path, int(n))))
        return
    # workers import as an installed package does: from compiled bytecode (pip compiles it;
    # a source tree under PYTHONDONTWRITEBYTECODE would recompile every module per worker)
    import compileall

    import eigenlake

    compileall.compile_dir(os.path.dirname(eigenlake.__file__), quiet=1)
    raw_mib = args.n * DIM * 4 / 2**20
    load_before = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    engines = args.engines.split(",")
    runs: dict[str, list[dict[str, float]]] = {e: [] for e in engines}
    for _ in range(args.repeat):  # rounds: every engine once per round, side by side
        for engine in engines:
            d = tempfile.mkdtemp(prefix=f"bench-{engine}-")
            try:
                res = run_worker(engine, "ingest", d, args.n)
                res.update(run_worker(engine, "open", d, args.n))
                runs[engine].append(res)
                print(engine, json.dumps(res), flush=True)
            finally:
                shutil.rmtree(d, ignore_errors=True)
    rows = []
    for engine in engines:
        med = {k: statistics.median(r[k] for r in runs[engine]) for k in runs[engine][0]}
        rows.append((engine, med))
    lance = dict(rows).get("lancedb")
    chroma = dict(rows).get("chromadb")
    lines = [
        "# Ingest benchmark",
        "",
        f"`benches/bench_ingest.py --n {args.n} --repeat {args.repeat}`, medians of {args.repeat} runs,"
        " each engine in fresh processes, side by side in one run.",
        "",
        f"- machine: {machine()}; load average before the run {load_before}",
        f"- peers: {versions()}",
        f"- data: {args.n:,} x {DIM} float32 unit vectors in 200 Gaussian blobs + 5 properties;"
        f" raw vectors {raw_mib:.0f} MiB",
        "- insert: one bulk call (EigenLake `add_many` of the Arrow table, of it as a"
        " DataFrame, or of record dicts; Chroma `add` in max-size batches; LanceDB"
        " `create_table` from the same Arrow table), timed until the call returns (durable:"
        " EigenLake has committed and fsynced); `+ open/close`: the worker's connect, create,"
        " call and close",
        "- ready: fresh process, open + first filtered answer"
        f" (`organism == organism-3 and length >= 500`, limit 100, `{FILTER_SQL}` for Lance)",
        "- memory: peak RSS above the process's RSS before the step (input payload already"
        " built; imports not yet done for open), / raw vector bytes",
        "",
        "| engine | insert rec/s | × LanceDB | × Chroma | rec/s + open/close | reopen-to-ready s"
        " | filtered list ms | ingest mem × raw | open mem × raw |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for engine, m in rows:
        vs_lance = f"{lance['call_s'] / m['call_s']:.2f}" if lance else "—"
        vs_chroma = f"{chroma['call_s'] / m['call_s']:.1f}" if chroma else "—"
        lines.append(
            f"| {engine} | {args.n / m['call_s']:,.0f} | {vs_lance} | {vs_chroma}"
            f" | {args.n / m['ingest_s']:,.0f} | {m['ready_s']:.2f} | {m['list_ms']:.1f} "
            f"| {m['ingest_peak_extra_mib'] / raw_mib:.2f} | {m['open_peak_extra_mib'] / raw_mib:.2f} |"
        )
    lines += [
        "",
        "Notes: EigenLake acknowledges after its SQLite transaction commits (WAL,"
        " `synchronous=FULL`, fsync); its HNSW graph is built later, in the background, on the"
        " first search above `exact_threshold` (queries scan exactly meanwhile), whereas Chroma"
        " builds its HNSW during `add`, which dominates its insert time. LanceDB writes Arrow"
        " files without a vector index. Filtered listing: EigenLake evaluates the filter on"
        " in-memory NumPy columns (strings as categorical codes); the peers scan their stores.",
    ]
    write_keeping_notes(Path(args.out), "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
