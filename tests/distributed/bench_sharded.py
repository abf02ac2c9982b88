"""Ingest / search / k-means time: sharded on a local Ray vs one embedded index.

Not a test (no asserts; pytest does not collect it). Run:
    .venv/bin/python -m tests.distributed.bench_sharded [rows] [shards]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

import numpy as np

import eigenlake
from eigenlake.distributed import connect_ray


def main(n: int = 50_000, shards: int = 2, d: int = 64) -> None:
    import ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, d)).astype(np.float32)
    recs = [
        {"properties": {"document_id": f"d{i}", "g": i % 10}, "vector": v} for i, v in enumerate(x)
    ]
    queries = rng.normal(size=(50, d)).astype(np.float32)
    ray.init(
        num_cpus=2, include_dashboard=False, object_store_memory=200 * 1024**2, log_to_driver=False
    )
    with tempfile.TemporaryDirectory() as tmp:
        single = eigenlake.connect(path=f"{tmp}/single").indexes.create_or_get(
            namespace="b", index="b", dimensions=d
        )
        client = connect_ray(path=f"{tmp}/sharded", num_shards=shards)
        sharded = client.indexes.create_or_get(namespace="b", index="b", dimensions=d)
        for label, idx in (("embedded", single), (f"ray x{shards}", sharded)):
            t0 = time.perf_counter()
            for i in range(0, n, 5000):
                idx.records.add_many(recs[i : i + 5000])
            t1 = time.perf_counter()
            for q in queries:
                idx.search.nearest(vector=q, limit=10, filter={"g": 3})
            t2 = time.perf_counter()
            idx.search.cluster(num_clusters=8, limit=None, representatives_per_cluster=1)
            t3 = time.perf_counter()
            print(
                f"{label:>10}: ingest {n / (t1 - t0):8.0f} rec/s | nearest (filtered) "
                f"{1000 * (t2 - t1) / len(queries):6.1f} ms/query | k-means k=8 {t3 - t2:5.2f} s"
            )
        client.close()
    ray.shutdown()


if __name__ == "__main__":
    main(*[int(a) for a in sys.argv[1:]])
