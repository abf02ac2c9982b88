"""``eigenlake demo``: a short tour of the API on generated data, in a temporary store."""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np

THEMES = {
    "storage": "disk write fsync page cache durable journal",
    "search": "query nearest neighbour graph recall index",
    "clustering": "centroid kmeans silhouette group partition",
    "anomaly": "outlier density neighbour score rare",
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "demo",
        help="a short tour on generated data (nothing is kept)",
        description="Store 2,000 generated records in a temporary embedded store, then search, "
        "cluster, find outliers and topics, printing each call and its answer.",
        epilog="example:\n  eigenlake demo --records 5000",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--records", type=int, default=2000, help="how many (default 2000)")
    p.set_defaults(run=run)


def _records(n: int, dim: int = 32, seed: int = 0) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    names = list(THEMES)
    centres = rng.standard_normal((len(names), dim)) * 3
    out = []
    for i in range(n):
        t = i % len(names)
        words = THEMES[names[t]].split()
        text = " ".join(rng.choice(words, size=5))
        vec = centres[t] + rng.standard_normal(dim)
        if i % 200 == 0:  # a few records far from every theme
            vec = rng.standard_normal(dim) * 12
        out.append(
            {"properties": {"theme": names[t], "text": text, "year": 2020 + i % 5}, "vector": vec}
        )
    return out


def run(args: argparse.Namespace) -> int:
    import eigenlake

    if args.records < 50:
        raise ValueError("--records must be at least 50")
    with tempfile.TemporaryDirectory() as tmp, eigenlake.connect(path=tmp) as client:
        print(f">>> client = eigenlake.connect(path={tmp!r})")
        idx = client.indexes.create_or_get(namespace="demo", index="notes", dimensions=32)
        recs = _records(args.records)
        t = time.perf_counter()
        idx.records.add_many(recs)
        print(
            f">>> idx.records.add_many(<{len(recs):,} records>)   # {time.perf_counter() - t:.2f} s"
        )
        print(f">>> idx.records.count({{'year': 2024}})  ->  {idx.records.count({'year': 2024})}")
        hits = idx.search.nearest(
            vector=recs[1]["vector"], limit=3, filter={"year": {"$gte": 2022}}
        )
        print(">>> idx.search.nearest(vector=..., limit=3, filter={'year': {'$gte': 2022}})")
        for h in hits["results"]:
            print(f"    {h['distance']:.3f}  {h['metadata']['theme']:<10}  {h['metadata']['text']}")
        res = idx.search.cluster(auto_tune=True, max_clusters=6, text_fields=["text"], limit=None)
        print(">>> idx.search.cluster(auto_tune=True, max_clusters=6, text_fields=['text'])")
        for c in res["clusters"]:
            print(f"    cluster {c['cluster_id']}: {c['count']:>5} records  {c.get('summary', '')}")
        out = idx.search.outliers(limit=None, max_results=3)
        print(">>> idx.search.outliers(max_results=3)")
        for o in out["outliers"]:
            print(f"    score {o['score']:.2f}  {o['uuid']}")
        print(">>> idx.agent.query('group the notes with year >= 2023', limit=None)")
        ans = idx.agent.query("group the notes with year >= 2023", num_clusters=4, limit=None)
        print(
            f"    action={ans['action']} filter={ans['filter']} clusters={len(ans.get('clusters', []))}"
        )
    print("done: the store was temporary. Next: eigenlake --help, README.md, examples/")
    return 0
