"""Cookbook 2 pipeline on 8,000 bundled proteins, embedding excluded; median of repeats.

Steps timed: ingest (add_many), DBSCAN (step 4), k-means auto-tuned over 8..15 (step 5),
multi-scale coarse + fine (step 6), the agent call, and the auto-tag variation (one
`records.update` per member, as the cookbook writes it). Prints a Markdown table.
Usage: `.venv/bin/python benches/bench_cookbook.py [--repeats 3] [--no-tag]`.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import eigenlake
from eigenlake import schema as s
from eigenlake.embed import ProteinEmbedder, load_proteins

REPO = Path(__file__).resolve().parents[1]
N = 8_000
LONG = {"length": {"$gte": 100}}


def pipeline(payload: list[dict[str, Any]], tag: bool) -> dict[str, float]:
    times: dict[str, float] = {}

    def step(name: str, fn: Callable[..., Any], *a: Any, **kw: Any) -> Any:
        t = time.perf_counter()
        out = fn(*a, **kw)
        times[name] = time.perf_counter() - t
        return out

    schema, options = (
        s.SchemaBuilder(additional_properties=False)
        .add("accession", s.string(required=True))
        .add("organism", s.string())
        .add("protein_family", s.string())
        .add("sequence", s.string(filterable=False))
        .add("length", s.integer())
        .build()
    )
    with tempfile.TemporaryDirectory() as d, eigenlake.connect(path=d) as client:
        idx = client.indexes.create_or_get(
            namespace="bench",
            index="proteins",
            dimensions=320,
            schema=schema,
            index_options=options,
        )
        uuids = step("ingest (add_many)", idx.records.add_many, payload, on_error="continue")
        accession_of = {
            u: p["properties"]["accession"] for u, p in zip(uuids, payload, strict=True)
        }
        db = step(
            "DBSCAN, auto eps",
            idx.search.cluster,
            filter=LONG,
            limit=10_000,
            algorithm="dbscan",
            dbscan_min_samples=5,
        )
        step(
            "k-means auto-tune 8..15",
            idx.search.cluster,
            filter=LONG,
            limit=10_000,
            auto_tune=True,
            min_clusters=8,
            max_clusters=15,
        )
        coarse = step(
            "multi-scale coarse",
            idx.search.cluster,
            filter=LONG,
            limit=10_000,
            algorithm="dbscan",
            dbscan_min_samples=20,
        )
        largest = max(coarse["clusters"], key=lambda c: c["count"])
        members = [accession_of[m["uuid"]] for m in largest["members"]]
        step(
            "multi-scale fine",
            idx.search.cluster,
            filter={"accession": {"$in": members}},
            limit=5_000,
            auto_tune=True,
            min_clusters=3,
            max_clusters=8,
        )
        step(
            "agent (dbscan)",
            idx.agent.query,
            "Cluster proteins by structural family",
            mode="cluster",
            algorithm="dbscan",
            dbscan_min_samples=5,
        )
        if tag:
            t = time.perf_counter()
            for c in db["clusters"]:
                for m in c["members"]:
                    idx.records.update(m["uuid"], properties={"cluster_id": c["cluster_id"]})
            times["auto-tag (records.update each)"] = time.perf_counter() - t
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-tag", action="store_true")
    args = ap.parse_args()
    rows = load_proteins(REPO / "data" / "proteins.tsv.gz")[:N]
    embed = ProteinEmbedder()
    payload = [
        {
            "properties": {
                "accession": r["accession"],
                "organism": r["organism"] or "Unknown",
                "protein_family": r["family"] or "Unknown",
                "sequence": r["sequence"],
                "length": len(r["sequence"]),
            },
            "vector": embed(r["sequence"]),
        }
        for r in rows
    ]
    runs = [pipeline(payload, tag=not args.no_tag) for _ in range(args.repeats)]
    print(f"{eigenlake.build_info()}\n\n| step | median s |\n| --- | ---: |")
    for name in runs[0]:
        print(f"| {name} | {statistics.median(r[name] for r in runs):.3f} |")
    analysis = [
        sum(v for k, v in r.items() if not k.startswith(("ingest", "auto-tag"))) for r in runs
    ]
    total = [sum(v for k, v in r.items() if not k.startswith("auto-tag")) for r in runs]
    print(f"| analysis steps (4, 5, 6, agent) | {statistics.median(analysis):.3f} |")
    print(f"| pipeline without auto-tag | {statistics.median(total):.3f} |")


if __name__ == "__main__":
    main()
