"""Bulk writes stored as segments (``embedded/store.py``): every read and change of their
records behaves as for ordinary rows. A model (a dict of what was written) is the oracle;
segments are made small so a few hundred records span many of them."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import eigenlake
from eigenlake.embedded import store as store_module

DIM = 4


def _db(path: str) -> str:
    return str(Path(path) / "t" / "seg" / "index.sqlite")


def _tables(path: str) -> tuple[int, int]:
    """(ordinary rows, segments) in the index's database."""
    with sqlite3.connect(_db(path)) as db:
        rows = db.execute("SELECT COUNT(*) FROM records").fetchone()[0]
        segs = db.execute("SELECT COUNT(*) FROM segments").fetchone()[0]
    return rows, segs


def _check(idx: Any, model: dict[str, tuple[dict[str, Any], np.ndarray]]) -> None:
    """Everything the index answers equals the model, in write order."""
    assert idx.records.count() == len(model)
    uuids, x = idx.records.to_numpy()
    assert uuids == list(model)
    if model:
        assert x.tobytes() == np.stack([v for _, v in model.values()]).tobytes()
    page = idx.records.list(limit=10_000, with_vector=True)
    assert [r["uuid"] for r in page["objects"]] == list(model)
    for r in page["objects"]:
        props, vec = model[r["uuid"]]
        assert r["metadata"] == props
        assert np.float32(r["vector"]).tobytes() == vec.tobytes()
    for uid in list(model)[:: max(1, len(model) // 7)]:  # single reads: the slice path
        got = idx.records.get(uid)
        assert got["metadata"] == model[uid][0]
        assert np.float32(got["vector"]).tobytes() == model[uid][1].tobytes()


_OPS = st.lists(
    st.one_of(
        st.tuples(st.just("bulk"), st.integers(256, 420)),
        st.tuples(st.just("few"), st.integers(1, 5)),
        st.tuples(st.just("remove"), st.integers(0, 10**6)),
        st.tuples(st.just("props"), st.integers(0, 10**6)),
        st.tuples(st.just("vector"), st.integers(0, 10**6)),
        st.tuples(st.just("reopen"), st.just(0)),
    ),
    min_size=1,
    max_size=8,
)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=_OPS, seed=st.integers(0, 2**16))
def test_segments_behave_as_rows(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, ops: Any, seed: int
) -> None:
    monkeypatch.setattr(store_module, "SEGMENT_ROWS", 100)
    rng = np.random.default_rng(seed)
    path = str(tmp_path_factory.mktemp("seg"))
    model: dict[str, tuple[dict[str, Any], np.ndarray]] = {}
    client = eigenlake.connect(path=path)
    idx = client.indexes.create_or_get(namespace="t", index="seg", dimensions=DIM)
    try:
        for op, arg in ops:
            if op in ("bulk", "few"):
                x = rng.standard_normal((arg, DIM)).astype(np.float32)
                tags = [f"t{int(v)}" for v in rng.integers(0, 10**6, arg)]
                if op == "bulk":
                    got = list(
                        idx.records.add_many({"tag": tags, "i": list(range(arg))}, vectors=x)
                    )
                else:
                    got = list(
                        idx.records.add_many(
                            [
                                {"properties": {"tag": t, "i": i}, "vector": v}
                                for i, (t, v) in enumerate(zip(tags, x, strict=True))
                            ]
                        )
                    )
                for uid, t, i, v in zip(got, tags, range(arg), x, strict=True):
                    model[uid] = ({"tag": t, "i": i}, v)
            elif op == "reopen":
                client.close()
                client = eigenlake.connect(path=path)
                idx = client.indexes.open(namespace="t", index="seg")
            elif model:
                uid = list(model)[arg % len(model)]
                if op == "remove":
                    idx.records.remove(uid)
                    del model[uid]
                elif op == "props":
                    idx.records.update(uid, properties={"tag": "changed"})
                    model[uid] = ({**model[uid][0], "tag": "changed"}, model[uid][1])
                else:
                    v = rng.standard_normal(DIM).astype(np.float32)
                    idx.records.update(uid, vector=v)
                    model[uid] = (model[uid][0], v)
                    model[uid] = model.pop(uid)  # an updated vector moves the record last
        _check(idx, model)
    finally:
        client.close()
    with eigenlake.connect(path=path) as fresh:
        _check(fresh.indexes.open(namespace="t", index="seg"), model)


def test_bulk_write_is_segments_and_a_change_splits_only_its_segment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "SEGMENT_ROWS", 100)
    path = str(tmp_path)
    x = np.random.default_rng(1).standard_normal((350, DIM)).astype(np.float32)
    with eigenlake.connect(path=path) as c:
        idx = c.indexes.create_or_get(namespace="t", index="seg", dimensions=DIM)
        ids = list(idx.records.add_many({"i": list(range(350))}, vectors=x))
        assert _tables(path) == (0, 4)  # 100 + 100 + 100 + 50 records
        idx.records.remove(ids[150])
        assert _tables(path) == (99, 3)  # the second segment became rows, less the removed
        idx.records.update(ids[160], properties={"i": -1})
        assert _tables(path) == (99, 3)  # already rows
        idx.records.update(ids[320], properties={"i": -2})
        assert _tables(path) == (149, 2)
        assert idx.records.get(ids[320])["metadata"] == {"i": -2}
        assert idx.records.get(ids[150]) is None
        assert idx.records.count() == 349


def test_a_store_made_before_segments_gets_them_on_its_first_bulk_write(tmp_path: Path) -> None:
    path = str(tmp_path)
    x = np.random.default_rng(2).standard_normal((300, DIM)).astype(np.float32)
    with eigenlake.connect(path=path) as c:
        idx = c.indexes.create_or_get(namespace="t", index="seg", dimensions=DIM)
        first = idx.records.add(properties={"i": -1}, vector=x[0])
    with sqlite3.connect(_db(path)) as db:
        db.execute("DROP TABLE segments")  # as an older version made it
    with eigenlake.connect(path=path) as c:
        idx = c.indexes.open(namespace="t", index="seg")
        assert idx.records.count() == 1
        ids = list(idx.records.add_many({"i": list(range(300))}, vectors=x))
    assert _tables(path) == (1, 1)
    with eigenlake.connect(path=path) as c:
        idx = c.indexes.open(namespace="t", index="seg")
        uuids, got = idx.records.to_numpy()
        assert uuids == [first, *ids]
        assert got[1:].tobytes() == x.tobytes()


def test_a_failed_bulk_write_into_an_old_store_leaves_no_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The segments table made inside a transaction that rolls back is gone: the store must
    not go on believing it exists."""
    path = str(tmp_path)
    x = np.random.default_rng(3).standard_normal((300, DIM)).astype(np.float32)
    with eigenlake.connect(path=path) as c:
        c.indexes.create_or_get(namespace="t", index="seg", dimensions=DIM)
    with sqlite3.connect(_db(path)) as db:
        db.execute("DROP TABLE segments")
    with eigenlake.connect(path=path) as c:
        idx = c.indexes.open(namespace="t", index="seg")

        def broken_fsync(fd: int) -> None:
            raise OSError(5, "Input/output error")

        with monkeypatch.context() as m:
            m.setattr(store_module.os, "fsync", broken_fsync)
            with pytest.raises(OSError):
                idx.records.add_many({"i": list(range(300))}, vectors=x)
        assert idx.records.count() == 0
        idx.records.add(properties={"i": 0}, vector=x[0])
        assert idx.records.count() == 1
        idx.records.add_many({"i": list(range(300))}, vectors=x)
        assert idx.records.count() == 301


def test_segment_bounds_cap_rows_and_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "SEGMENT_ROWS", 4)
    monkeypatch.setattr(store_module, "_SEGMENT_TEXT", 10)
    bounds = store_module._segment_bounds
    assert bounds(np.array([1] * 9)) == [(0, 4), (4, 8), (8, 9)]
    assert bounds(np.array([3, 3, 3, 3, 3])) == [(0, 3), (3, 5)]
    assert bounds(np.array([50, 1, 1])) == [(0, 1), (1, 3)]  # a lone large row alone
    assert bounds(np.array([], dtype=np.int64)) == []
