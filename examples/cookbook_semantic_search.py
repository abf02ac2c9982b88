"""Cookbook 1 (semantic search at scale), on the bundled Reuters news: filtered nearest
neighbours by text, cursor pagination and batch queries, embedded by default.

The index is created with an embedder (`index_options={"embedder": {"model":
"all-MiniLM-L6-v2", "field": "text"}}`): records that come without a vector are embedded
from their `text`, and `search.nearest(text=...)` embeds the query with the same model.
The bulk of the news arrives with its precomputed MiniLM vectors
(`tests/data/news_minilm384_f16.npy`, so the load takes seconds); a few records come as
text only and are embedded by the index. Answers carry `usage` (records scanned, compute
time, search units) when the EigenLake build has usage accounting; otherwise the script
prints the records the filter keeps and the time it measures itself.

Usage: `python examples/cookbook_semantic_search.py [--limit N] [--path DIR | --url URL
--api-key KEY]`. Runs in well under a minute on the bundled data.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import gzip
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

import eigenlake
from eigenlake import schema as s

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
MODEL = "all-MiniLM-L6-v2"
TEXT_ONLY = 5  # records sent without a vector: the index embeds them


def load_news(limit: int | None) -> tuple[list[dict[str, str]], np.ndarray]:
    """The news rows (id, label, text, split) and their MiniLM vectors, first ``limit``."""
    with gzip.open(DATA / "news.tsv.gz", "rt", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))[:limit]
    vectors = np.load(DATA / "news_minilm384_f16.npy")[: len(rows)].astype(np.float32)
    return rows, vectors


def usage_line(answer: dict[str, Any], kept: int, seconds: float) -> str:
    """What the query cost: the answer's ``usage`` when it has one, else what we measure."""
    usage = answer.get("usage")
    if isinstance(usage, dict):
        return (
            f"usage: {usage.get('records_scanned')} records scanned, "
            f"{usage.get('compute_ms')} ms, {usage.get('search_units')} search units"
        )
    return f"{kept} records pass the filter, {seconds * 1000:.1f} ms measured here"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=None, help="first N news texts (default all)")
    ap.add_argument("--path", default=str(REPO / "out" / "semantic-search-lake"))
    ap.add_argument("--url", default=None, help="a server (eigenlake serve) instead")
    ap.add_argument("--api-key", default=None)
    args = ap.parse_args(argv)

    rows, vectors = load_news(args.limit)
    out: dict[str, Any] = {"path": args.path}
    if args.url is None:
        shutil.rmtree(args.path, ignore_errors=True)  # a fresh store each run
    connect = (
        eigenlake.connect(url=args.url, api_key=args.api_key)
        if args.url
        else eigenlake.connect(path=args.path)
    )
    schema, index_options = (
        s.SchemaBuilder(additional_properties=False)
        .add("doc_id", s.string(required=True, filterable=True))
        .add("label", s.string(filterable=True))
        .add("split", s.string(filterable=True))
        .add("words", s.integer(filterable=True))
        .add("text", s.string(filterable=False))
        .build()
    )
    index_options["embedder"] = {"model": MODEL, "field": "text"}
    with connect as client:
        if args.url:  # a server keeps the index between runs: start afresh
            with contextlib.suppress(eigenlake.NotFoundError):
                client.indexes.delete(namespace="cookbook-01", index="news")
        idx = client.indexes.create_or_get(
            namespace="cookbook-01",
            index="news",
            dimensions=384,
            schema=schema,
            index_options=index_options,
            record_id_property="doc_id",
        )
        props = [
            {
                "doc_id": r["id"],
                "label": r["label"],
                "split": r["split"],
                "words": len(r["text"].split()),
                "text": r["text"],
            }
            for r in rows
        ]
        n = len(props)
        t = time.perf_counter()
        bulk = idx.records.add_many(
            [
                {"properties": p, "vector": v}
                for p, v in zip(props[: n - TEXT_ONLY], vectors[: n - TEXT_ONLY], strict=True)
            ]
        )
        t_bulk = time.perf_counter() - t
        t = time.perf_counter()
        embedded = idx.records.add_many([{"properties": p} for p in props[-TEXT_ONLY:]])
        t_text = time.perf_counter() - t
        print(f"stored {len(bulk):,} records with their vectors in {t_bulk:.2f} s")
        print(f"stored {len(embedded)} text-only records (embedded by the index) in {t_text:.2f} s")

        # A filtered query by text
        query = "opec agrees to cut crude oil output"
        flt = {"$and": [{"split": "train"}, {"words": {"$gte": 40}}]}
        t = time.perf_counter()
        hits = idx.search.nearest(text=query, limit=10, filter=flt)
        seconds = time.perf_counter() - t
        kept = idx.records.count(flt)
        print(f"\nquery {query!r}, filter {flt}:")
        for h in hits["results"][:5]:
            meta = h["metadata"]
            print(f"  {h['distance']:.3f}  [{meta['label']}] {meta['text'][:70]}")
        labels = [h["metadata"]["label"] for h in hits["results"]]
        share = labels.count("crude") / max(len(labels), 1)
        print(f"  {share:.0%} of the top {len(labels)} are 'crude' news")
        print(f"  {usage_line(hits, kept, seconds)}")
        out.update(query=query, filter=flt, hits=hits["results"], crude_share=share)

        # Cursor pagination: the same query and filter, plus the cursor
        seen: list[str] = []
        page = idx.search.nearest(text=query, limit=5, filter=flt)
        for number in range(1, 4):
            seen += [h["uuid"] for h in page["results"]]
            first = page["results"][0]["distance"] if page["results"] else float("nan")
            print(f"  page {number}: {len(page['results'])} hits from distance {first:.3f}")
            if page["next_after"] is None:
                break
            page = idx.search.nearest(text=query, limit=5, filter=flt, after=page["next_after"])
        print(f"  {len(seen)} hits over the pages, {len(set(seen))} distinct")
        out["paged"] = seen

        # A batch of queries: a list of texts, one answer each
        queries = ["central bank raises interest rates", "company to acquire rival", query]
        t = time.perf_counter()
        answers = idx.search.nearest(text=queries, limit=3)
        seconds = time.perf_counter() - t
        print(f"\nbatch of {len(queries)} queries in {seconds * 1000:.0f} ms:")
        for q, a in zip(queries, answers, strict=True):
            print(f"  {q!r}: {[h['metadata']['label'] for h in a['results']]}")
        out["batch"] = [[h["uuid"] for h in a["results"]] for a in answers]

        # A stored text as the query finds itself first (also one embedded by the index)
        probe = props[-1]
        self_hit = idx.search.nearest(text=probe["text"], limit=1)["results"][0]
        print(
            f"\nquerying stored text {probe['doc_id']}: top hit {self_hit['metadata']['doc_id']}"
            f" at distance {self_hit['distance']:.4f}"
        )
        out.update(probe=probe, self_hit=self_hit, count=idx.records.count(), records=n)
    return out


if __name__ == "__main__":
    main()
