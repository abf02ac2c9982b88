"""Above ``exact_threshold`` search goes through HNSW: recall vs exact, persistence, reopen."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import eigenlake
from eigenlake.embedded import ann

DIM = 24
N = 1500


def _data(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((20, DIM))
    return (centers[rng.integers(0, 20, N)] + 0.3 * rng.standard_normal((N, DIM))).astype("f4")


def _exact(data: np.ndarray, q: np.ndarray, keep: np.ndarray, k: int) -> set[int]:
    unit = data / np.linalg.norm(data, axis=1, keepdims=True)
    sims = unit @ (q / np.linalg.norm(q))
    sims[~keep] = -np.inf
    return set(np.argsort(-sims)[:k].tolist())


def _open(path: str):
    client = eigenlake.connect(path=path)
    idx = client.indexes.create_or_get(
        namespace="h", index="g", dimensions=DIM, index_options={"exact_threshold": 200}
    )
    return client, idx


def test_graph_search_recall_and_reopen(tmp_path: Path) -> None:
    data = _data()
    path = str(tmp_path / "store")
    client, idx = _open(path)
    uids = idx.records.add_many(
        [{"properties": {"i": i, "even": i % 2 == 0}, "vector": v} for i, v in enumerate(data)]
    )
    pos = {u: i for i, u in enumerate(uids)}
    queries = np.random.default_rng(1).standard_normal((20, DIM)).astype("f4")
    idx.search.nearest(vector=queries[0], limit=10)  # starts the background build
    idx._ann.wait()
    assert len(idx._ann.graph) == N
    everyone = np.ones(N, bool)
    hits = misses = 0
    for q in queries:
        got = {pos[h["uuid"]] for h in idx.search.nearest(vector=q, limit=10)["results"]}
        want = _exact(data, q, everyone, 10)
        hits += len(got & want)
        misses += len(want - got)
    assert hits / (hits + misses) >= 0.95
    assert any(n.startswith("hnsw-") for n in os.listdir(tmp_path / "store" / "h" / "g"))

    # delete some, add more, reopen: saved links are reused, new rows added
    idx.records.remove_many(filter={"i": {"$lt": 50}})
    more = _data(seed=5)[:100]
    idx.records.add_many(
        [{"properties": {"i": N + i, "even": True}, "vector": v} for i, v in enumerate(more)]
    )
    client.close()
    client, idx = _open(path)
    idx.records.exists(uids[0])  # opens the index
    # the saved graph's layout is kept: deleted records stay as dead rows, not compacted
    assert idx._cache.n == N + 100 and len(idx._ann.graph) == N
    for q in queries[:5]:
        res = idx.search.nearest(vector=q, limit=10, filter={"even": True})["results"]
        got = [h["metadata"] for h in res]
        assert all(m["even"] and m["i"] >= 50 for m in got)
        assert len(got) == 10
    q = more[3]
    assert idx.search.nearest(vector=q, limit=1)["results"][0]["metadata"]["i"] == N + 3
    client.close()


def test_numpy_scan_matches_flat_topk() -> None:
    from eigenlake.embedded import ann

    rng = np.random.default_rng(3)
    data = rng.standard_normal((300, DIM)).astype("f4")
    queries = rng.standard_normal((4, DIM)).astype("f4")
    mask = rng.random(300) < 0.5
    for metric in ("ip", "l2"):
        a_ids, a_scores = ann.exact_topk(data, queries, 7, metric, mask)
        b_ids, b_scores = ann.numpy_topk(data, queries, 7, metric, mask)
        np.testing.assert_array_equal(a_ids, b_ids)
        np.testing.assert_allclose(a_scores, b_scores, rtol=1e-4, atol=1e-3)
    ids, _ = ann.numpy_topk(data, queries, 7, "ip", np.zeros(300, bool))
    assert (ids == -1).all()


def test_hnsw_settings_come_from_index_options(tmp_path: Path) -> None:
    import pytest

    from eigenlake.errors import ValidationError

    with eigenlake.connect(path=str(tmp_path / "store")) as client:
        idx = client.indexes.create_or_get(
            namespace="h",
            index="opts",
            dimensions=DIM,
            index_options={"exact_threshold": 100, "hnsw": {"m": 8, "ef_search": 5}},
        )
        data = _data()
        idx.records.add_many([{"properties": {"i": i}, "vector": v} for i, v in enumerate(data)])
        q = data[0] + 0.01
        idx.search.nearest(vector=q, limit=3)
        idx._ann.wait()
        assert idx._ann.ef_search == 5
        # a beam of 5 still finds the query's own near-duplicate
        first = idx.search.nearest(vector=q, limit=3)["results"][0]
        assert first["metadata"]["i"] == 0

        for bad, field in [
            ({"hnsw": {"m": 1}}, "index_options.hnsw.m"),
            ({"hnsw": {"ef_search": "64"}}, "index_options.hnsw.ef_search"),
            ({"hnsw": {"efSearch": 64}}, "index_options.hnsw"),
            ({"exact_threshold": -1}, "index_options.exact_threshold"),
        ]:
            with pytest.raises(ValidationError, match=field.replace(".", r"\.")):
                client.indexes.create_or_get(
                    namespace="h", index="bad", dimensions=DIM, index_options=bad
                )


def _graph_files(directory: str) -> list[str]:
    return sorted(n for n in os.listdir(directory) if n.startswith("hnsw"))


def _built(client, name: str, data: np.ndarray):  # type: ignore[no-untyped-def]
    """Index ``h/<name>`` over ``data`` with its graph built and saved."""
    idx = client.indexes.create_or_get(
        namespace="h", index=name, dimensions=DIM, index_options={"exact_threshold": 200}
    )
    uids = idx.records.add_many([{"properties": {"i": i}, "vector": v} for i, v in enumerate(data)])
    idx.search.nearest(vector=data[0], limit=1)
    idx._ann.wait()
    idx.close()  # saves the graph
    assert _graph_files(idx._dir)
    return idx, uids


def _recall(idx, data: np.ndarray, uids: list[str], queries: np.ndarray) -> float:  # type: ignore[no-untyped-def]
    pos = {u: i for i, u in enumerate(uids)}
    everyone = np.ones(len(data), bool)
    hits = 0
    for q in queries:
        got = {pos[h["uuid"]] for h in idx.search.nearest(vector=q, limit=10)["results"]}
        hits += len(got & _exact(data, q, everyone, 10))
    return hits / (10 * len(queries))


def test_a_graph_copied_from_another_index_is_refused(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    import shutil

    path = str(tmp_path / "store")
    a_data, b_data = _data(seed=1), _data(seed=2)
    queries = np.random.default_rng(3).standard_normal((20, DIM)).astype("f4")
    with eigenlake.connect(path=path) as client:
        a, _ = _built(client, "a", a_data)
        b, b_uids = _built(client, "b", b_data)
    # same dimensions, same rows count and seqs: only the index id tells them apart
    for name in _graph_files(b._dir):
        os.remove(os.path.join(b._dir, name))
    for name in _graph_files(a._dir):
        shutil.copy(os.path.join(a._dir, name), os.path.join(b._dir, name))
    with eigenlake.connect(path=path) as client:
        b = client.indexes.open(namespace="h", index="b")
        adopted = b._ann is not None
        # adopted, a's links over b's vectors found 0.4 of the true neighbours
        assert _recall(b, b_data, b_uids, queries) == 1.0  # exact scans while it rebuilds
        assert not adopted and "saved for another index" in caplog.text
        b._ann.wait()
        assert len(b._ann.graph) == N
        # a graph of its own (0.9: the parallel build is not bit-reproducible)
        assert _recall(b, b_data, b_uids, queries) >= 0.9
    with eigenlake.connect(path=path) as client:  # the rebuilt graph is its own: kept
        b = client.indexes.open(namespace="h", index="b")
        assert b._ann is not None and len(b._ann.graph) == N
        assert _recall(b, b_data, b_uids, queries) >= 0.9


@pytest.mark.parametrize("header", ["[]", "5", '"x"', "null", '{"token": 5}', '{"token": "../x"}'])
def test_a_graph_header_that_is_no_graph_header_is_rebuilt(tmp_path: Path, header: str) -> None:
    path = str(tmp_path / "store")
    data = _data()
    queries = np.random.default_rng(1).standard_normal((20, DIM)).astype("f4")
    with eigenlake.connect(path=path) as client:
        idx, uids = _built(client, "g", data)
    with open(os.path.join(idx._dir, "hnsw.json"), "w") as f:
        f.write(header)
    with eigenlake.connect(path=path) as client:
        idx = client.indexes.open(namespace="h", index="g")
        assert idx._ann is None
        assert _recall(idx, data, uids, queries) == 1.0
        idx._ann.wait()
        assert len(idx._ann.graph) == N
        assert _recall(idx, data, uids, queries) >= 0.9


def test_a_graph_newer_than_its_database_is_refused_and_removed(tmp_path: Path) -> None:
    import shutil

    path = str(tmp_path / "store")
    data = _data()
    with eigenlake.connect(path=path) as client:
        idx = client.indexes.create_or_get(
            namespace="h", index="g", dimensions=DIM, index_options={"exact_threshold": 200}
        )
        idx.records.add_many([{"properties": {"i": i}, "vector": v} for i, v in enumerate(data)])
        idx.close()
        backup = tmp_path / "backup.sqlite"
        shutil.copy(idx._db_path, backup)
        more = _data(seed=6)[:100]
        idx.records.add_many(
            [{"properties": {"i": N + i}, "vector": v} for i, v in enumerate(more)]
        )
        idx.search.nearest(vector=data[0], limit=1)
        idx._ann.wait()
        idx.close()  # a graph over N + 100 rows
    shutil.copy(backup, idx._db_path)  # the database restored from before the last 100
    with eigenlake.connect(path=path) as client:
        idx = client.indexes.open(namespace="h", index="g")
        # the graph covers seqs this database never issued: refused and removed, so it
        # cannot pass once new records take those seqs
        assert idx._ann is None and _graph_files(idx._dir) == []
        assert idx.records.list(limit=2000)["objects"].__len__() == N


@pytest.mark.parametrize("as_table", [False, True])
def test_a_bulk_write_after_the_first_search_starts_the_graphs_catch_up(
    tmp_path: Path, as_table: bool
) -> None:
    """Once a search made the graph, a bulk write starts its catch-up in the background,
    whether the rows came as record dicts or as a table (the table path skipped it)."""
    rng = np.random.default_rng(3)
    with eigenlake.connect(path=str(tmp_path)) as client:
        idx = client.indexes.create_or_get(
            namespace="t", index="g", dimensions=8, index_options={"exact_threshold": 100}
        )
        idx.records.add_many({"i": list(range(600))}, vectors=rng.standard_normal((600, 8)))
        idx.search.prepare()  # the graph covers the 600 rows
        started: list[int] = []
        real = ann.AnnState.start_catch_up

        def spy(self: Any, data: Any, *args: Any, **kwargs: Any) -> None:
            started.append(len(data))
            real(self, data, *args, **kwargs)

        ann.AnnState.start_catch_up = spy  # type: ignore[method-assign]
        try:
            x = rng.standard_normal((400, 8))
            if as_table:
                idx.records.add_many({"i": list(range(400))}, vectors=x)
            else:
                idx.records.add_many(
                    [{"properties": {"i": i}, "vector": v} for i, v in enumerate(x)]
                )
        finally:
            ann.AnnState.start_catch_up = real  # type: ignore[method-assign]
        assert started == [1000]
