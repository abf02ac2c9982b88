"""``search.prepare()`` and the background graph: prepare returns once the graph covers
every stored row; searches before it are exact (they never wait for a build); answers
through the graph keep hnswlib-level recall against NumPy brute force; the
``index_options["ann_index"]`` switch keeps an index on exact scans."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import eigenlake

DIM = 32
N = 3000  # above the default exact_threshold (2,500)
K = 10


def _data(n: int, nq: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, DIM)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    q = rng.standard_normal((nq, DIM)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return x, q


def _truth(x: np.ndarray, q: np.ndarray) -> np.ndarray:
    return np.argsort(-(q @ x.T), axis=1, kind="stable")[:, :K]


def _rows(idx: Any, q: np.ndarray, row_of: dict[str, int]) -> list[int]:
    return [row_of[h["uuid"]] for h in idx.search.nearest(vector=q, limit=K)["results"]]


def _index(tmp_path: Path, **options: Any) -> tuple[Any, Any]:
    client = eigenlake.connect(path=str(tmp_path))
    idx = client.indexes.create_or_get(
        namespace="p", index="i", dimensions=DIM, index_options=options or None
    )
    return client, idx


def test_prepare_returns_once_the_graph_covers_every_row(tmp_path: Path) -> None:
    client, idx = _index(tmp_path)
    with client:
        x, _ = _data(N, 1)
        idx.records.add_vectors(x[:2000])
        idx.records.add_vectors(x[2000:])  # a second bulk write while the first builds
        state = idx.search.prepare()
        assert state == {"ready": True, "method": "hnsw", "rows": N, "graph_rows": N}
        assert idx._ann is not None and not idx._ann.building and len(idx._ann.graph) == N
        # rows added later: prepare catches them up too, however few
        extra, _ = _data(5, 1, seed=1)
        idx.records.add_vectors(extra)
        assert idx.search.prepare()["graph_rows"] == N + 5
        assert len(idx._ann.graph) == N + 5


def test_searches_before_prepare_are_exact(tmp_path: Path) -> None:
    client, idx = _index(tmp_path)
    with client:
        x, qs = _data(N, 20)
        ids = idx.records.add_vectors(x)
        row_of = {u: i for i, u in enumerate(ids)}
        truth = _truth(x, qs)
        state = idx._ann
        for q, want in zip(qs, truth, strict=True):
            building = state is None or state.building or len(state.graph) < N
            got = _rows(idx, q, row_of)
            if building:  # no graph yet: the answer is the exact one
                assert got == want.tolist()
            state = idx._ann


def test_graph_answers_keep_hnswlib_level_recall(tmp_path: Path) -> None:
    client, idx = _index(tmp_path)
    with client:
        x, qs = _data(N, 100)
        ids = idx.records.add_vectors(x)
        row_of = {u: i for i, u in enumerate(ids)}
        assert idx.search.prepare()["method"] == "hnsw"
        truth = _truth(x, qs)
        got = [_rows(idx, q, row_of) for q in qs]
        recall = np.mean(
            [len(set(a) & set(b.tolist())) / K for a, b in zip(got, truth, strict=True)]
        )
        # hnswlib (M=16, efC=200, ef=64) finds ~0.99 of the top 10 on this data
        assert recall >= 0.98, recall
        # the distances reported are the exact ones of the rows returned
        r = idx.search.nearest(vector=qs[0], limit=K)["results"]
        exact = 1.0 - x[[row_of[h["uuid"]] for h in r]] @ qs[0]
        np.testing.assert_allclose([h["distance"] for h in r], exact, atol=1e-5)


def test_the_switch_keeps_the_index_on_exact_scans(tmp_path: Path) -> None:
    client, idx = _index(tmp_path, ann_index=False)
    with client:
        x, qs = _data(N, 10)
        ids = idx.records.add_vectors(x)
        row_of = {u: i for i, u in enumerate(ids)}
        assert idx.search.prepare() == {
            "ready": True,
            "method": "exact",
            "rows": N,
            "graph_rows": 0,
        }
        for q, want in zip(qs, _truth(x, qs), strict=True):
            assert _rows(idx, q, row_of) == want.tolist()
        assert idx._ann is None  # no graph was ever made


def test_small_index_is_ready_at_once(tmp_path: Path) -> None:
    client, idx = _index(tmp_path)
    with client:
        x, _ = _data(100, 1)
        idx.records.add_vectors(x)
        assert idx.search.prepare()["method"] == "exact"
        assert idx._ann is None


@pytest.mark.parametrize("value", ["no", 0, None])
def test_a_bad_switch_is_refused(tmp_path: Path, value: Any) -> None:
    """Refused when the index is created (not first at ``prepare``), nothing written."""
    with eigenlake.connect(path=str(tmp_path)) as client:
        with pytest.raises(eigenlake.ValidationError, match="ann_index"):
            client.indexes.create_or_get(
                namespace="p", index="i", dimensions=DIM, index_options={"ann_index": value}
            )
        assert client.indexes.list() == []
