"""Deleted rows leave the cache (and the graph) once they are a large share of it."""

from __future__ import annotations

import os

import numpy as np
import pytest

import eigenlake
from eigenlake.embedded import ann
from eigenlake.embedded import index as index_mod

DIM = 12
N = 2400


def brute(data: np.ndarray, live: list[int], q: np.ndarray, k: int) -> list[int]:
    unit = data / np.linalg.norm(data, axis=1, keepdims=True)
    sims = unit[live] @ (q / np.linalg.norm(q))
    return [live[i] for i in np.argsort(-sims, kind="stable")[:k]]


@pytest.mark.parametrize("options", [{}, {"exact_threshold": 100}], ids=["exact", "graph"])
def test_reads_after_many_deletes_compact_the_cache(
    tmp_path, monkeypatch: pytest.MonkeyPatch, options: dict
) -> None:
    monkeypatch.setattr(index_mod, "COMPACT_MIN_DEAD", 50)
    data = np.random.default_rng(7).standard_normal((N, DIM)).astype(np.float32)
    path = str(tmp_path / "store")
    with eigenlake.connect(path=path) as client:
        idx = client.indexes.create_or_get(
            namespace="c", index="i", dimensions=DIM, index_options=options
        )
        uids = idx.records.add_many(
            [{"properties": {"i": i}, "vector": v} for i, v in enumerate(data)]
        )
        idx.search.nearest(vector=data[0], limit=1)
        if idx._ann is not None:
            idx._ann.wait()
            idx.close()  # saves the graph
            idx = client.indexes.open(namespace="c", index="i")
            idx.search.nearest(vector=data[0], limit=1)
            assert any(n.startswith("hnsw") for n in os.listdir(idx._dir))
        # 500 deletes: under a quarter of the rows, nothing moves
        gone = list(range(0, 1000, 2))
        idx.records.remove_many(filter={"i": {"$in": gone}})
        idx.search.nearest(vector=data[1], limit=1)
        assert idx._cache.n == N
        # 700 deletes: over a quarter, the live rows are kept and the dead ones dropped
        more = list(range(1001, 1401, 2))
        idx.records.remove_many(filter={"i": {"$in": more}})
        gone += more
        live = sorted(set(range(N)) - set(gone))
        q = np.random.default_rng(8).standard_normal(DIM).astype(np.float32)
        want = [uids[i] for i in brute(data, live, q, 10)]
        hits = idx.search.nearest(vector=q, limit=10)["results"]
        if options:
            # the old graph keeps answering while the compacted one is built beside it
            old = idx._ann
            assert idx._compaction is not None and old is not None and old.covered == N
            assert len({h["uuid"] for h in hits} & set(want)) >= 9
            idx._compaction.wait()
            hits = idx.search.nearest(vector=q, limit=10)["results"]  # swaps it in
            assert idx._compaction is None and idx._ann is not old
            assert len(idx._ann.graph) == len(live) and not idx._ann.building
            saved = ann.load_graph(idx._dir, DIM)
            assert saved is not None and len(saved[1]) == len(live)
            assert len({h["uuid"] for h in hits} & set(want)) >= 9
        else:
            assert [h["uuid"] for h in hits] == want
            assert not any(n.startswith("hnsw") for n in os.listdir(idx._dir))
        assert idx._cache.n == len(live) == idx._cache.live_count
        listed = idx.records.list(limit=5000)["objects"]
        assert sorted(o["metadata"]["i"] for o in listed) == live
    with eigenlake.connect(path=path) as client:
        idx = client.indexes.open(namespace="c", index="i")
        hits = idx.search.nearest(vector=q, limit=10)["results"]
        assert len({h["uuid"] for h in hits} & set(want)) >= 9


def test_a_failed_compaction_build_falls_back_to_reloading_live_rows(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index_mod, "COMPACT_MIN_DEAD", 50)

    class Broken(ann.Compaction):
        def __init__(self, data, seqs, metric, params) -> None:  # type: ignore[no-untyped-def]
            super().__init__(data[:0], seqs, metric, params)
            self.wait()
            self.error = MemoryError("no room for the new graph")

    monkeypatch.setattr(ann, "Compaction", Broken)
    data = np.random.default_rng(9).standard_normal((N, DIM)).astype(np.float32)
    with eigenlake.connect(path=str(tmp_path / "store")) as client:
        idx = client.indexes.create_or_get(
            namespace="c", index="i", dimensions=DIM, index_options={"exact_threshold": 100}
        )
        uids = idx.records.add_many(
            [{"properties": {"i": i}, "vector": v} for i, v in enumerate(data)]
        )
        idx.search.nearest(vector=data[0], limit=1)
        idx._ann.wait()
        gone = list(range(0, 2 * 700, 2))
        idx.records.remove_many(filter={"i": {"$in": gone}})
        idx.search.nearest(vector=data[1], limit=1)  # starts the (broken) job
        assert isinstance(idx._compaction, Broken)
        live = sorted(set(range(N)) - set(gone))
        q = data[3]
        hits = idx.search.nearest(vector=q, limit=10)["results"]  # finds it failed
        assert idx._compaction is None
        assert idx._cache.n == len(live) == idx._cache.live_count
        want = {uids[i] for i in brute(data, live, q, 10)}
        assert len({h["uuid"] for h in hits} & want) >= 9
