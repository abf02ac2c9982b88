"""Reads answer properties from the cache: every write path must keep it current."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import eigenlake

DIM = 4


def _meta(idx, uid: str) -> dict:
    listed = {o["uuid"]: o["metadata"] for o in idx.records.list(limit=100)["objects"]}
    return listed[uid]


def test_every_write_path_shows_in_reads(tmp_path: Path) -> None:
    path = str(tmp_path / "store")
    with eigenlake.connect(path=path) as a, eigenlake.connect(path=path) as b:
        ia = a.indexes.create_or_get(namespace="p", index="c", dimensions=DIM)
        v = np.eye(DIM, dtype=np.float32)
        u0 = ia.records.add(properties={"name": "x", "tags": ["a"]}, vector=v[0])
        u1 = ia.records.add(properties={"name": "y"}, vector=v[1])

        ia.records.update(u0, properties={"name": "x2"})
        assert _meta(ia, u0) == {"name": "x2", "tags": ["a"]}
        hit = ia.search.nearest(vector=v[0], limit=1)["results"][0]
        assert hit["uuid"] == u0 and hit["metadata"]["name"] == "x2"

        ia.records.update(u0, properties={"name": "x3"}, vector=v[2])  # new row
        assert _meta(ia, u0)["name"] == "x3"
        ia.records.replace(id=u1, properties={"name": "y2"})
        assert _meta(ia, u1) == {"name": "y2"}

        # a write by another client is seen
        ib = b.indexes.open(namespace="p", index="c")
        ib.records.update(u1, properties={"name": "y3"})
        assert _meta(ia, u1)["name"] == "y3"

        # what a caller does to a returned record does not reach the store's view
        got = _meta(ia, u0)
        got["tags"].append("mutated")
        got["name"] = "mutated"
        assert _meta(ia, u0) == {"name": "x3", "tags": ["a"]}

    with eigenlake.connect(path=path) as c:  # and a reopen rebuilds the same view
        ic = c.indexes.open(namespace="p", index="c")
        assert _meta(ic, u0) == {"name": "x3", "tags": ["a"]}
        assert _meta(ic, u1) == {"name": "y3"}


def test_caller_dicts_are_not_aliased(tmp_path: Path) -> None:
    with eigenlake.connect(path=str(tmp_path / "store")) as client:
        idx = client.indexes.create_or_get(namespace="p", index="a", dimensions=DIM)
        props = {"n": 1, "tags": ["x"]}
        uid = idx.records.add(properties=props, vector=np.ones(DIM, dtype=np.float32))
        props["n"] = 2  # the caller reuses its dict, as an insert loop does
        props["tags"].append("y")
        assert _meta(idx, uid) == {"n": 1, "tags": ["x"]}
        out = idx.records.update(uid, properties={"n": 3})
        out["metadata"]["n"] = 99  # nor does changing what update returned
        assert _meta(idx, uid) == {"n": 3, "tags": ["x"]}
        assert [o["uuid"] for o in idx.records.list(filter={"n": 3})["objects"]] == [uid]


def test_nearest_pages_on_after_nearer_records_arrive(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    with eigenlake.connect(path=str(tmp_path / "store")) as client:
        idx = client.indexes.create_or_get(namespace="p", index="n", dimensions=DIM)
        q = np.array([1, 0, 0, 0], dtype=np.float32)
        far = [q + 2.0 + rng.random(DIM) for _ in range(10)]
        old = idx.records.add_many(
            [{"properties": {"i": i}, "vector": v} for i, v in enumerate(far)]
        )
        page = idx.search.nearest(vector=q, limit=2)
        seen = [h["uuid"] for h in page["results"]]
        # three records nearer than anything on page 1 arrive before page 2
        idx.records.add_many([{"properties": {"new": j}, "vector": q + 0.01 * j} for j in range(3)])
        after = page["next_after"]
        while after is not None:
            page = idx.search.nearest(vector=q, limit=2, after=after)
            seen += [h["uuid"] for h in page["results"]]
            after = page["next_after"]
        assert len(seen) == len(set(seen))
        assert set(old) <= set(seen)  # no old record is skipped


def test_iterate_yields_a_record_once_when_its_vector_moves(tmp_path: Path) -> None:
    with eigenlake.connect(path=str(tmp_path / "store")) as client:
        idx = client.indexes.create_or_get(namespace="p", index="it", dimensions=DIM)
        uids = idx.records.add_many(
            [
                {"properties": {"i": i}, "vector": np.ones(DIM, dtype=np.float32) + i}
                for i in range(6)
            ]
        )
        it = idx.search.iterate(page_size=2)
        got = [next(it)["uuid"], next(it)["uuid"]]
        idx.records.update(uids[0], vector=np.arange(1, DIM + 1, dtype=np.float32))  # new seq
        got += [o["uuid"] for o in it]
        assert sorted(got) == sorted(uids)


def test_failed_commit_leaves_no_schema_change_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3
    from contextlib import contextmanager

    from eigenlake.embedded.store import Store
    from eigenlake.errors import ValidationError

    with eigenlake.connect(path=str(tmp_path / "store")) as client:
        idx = client.indexes.create_or_get(namespace="p", index="s", dimensions=DIM)
        uid = idx.records.add(properties={"a": 1}, vector=np.ones(DIM, dtype=np.float32))
        real = Store.transaction

        @contextmanager
        def failing_commit(self):  # the work happens, then COMMIT fails (disk full, say)
            with pytest.raises(sqlite3.OperationalError), real(self) as conn:
                yield conn
                raise sqlite3.OperationalError("disk I/O error")
            raise sqlite3.OperationalError("disk I/O error")

        monkeypatch.setattr(Store, "transaction", failing_commit)
        with pytest.raises(sqlite3.OperationalError):
            idx.records.update(uid, properties={"label": 7})  # would declare `label`
        monkeypatch.setattr(Store, "transaction", real)
        assert "label" not in idx.settings.schema().get("properties", {})
        # `label` was never stored, so a string is as welcome as an integer was
        idx.records.update(uid, properties={"label": "seven"})
        assert _meta(idx, uid)["label"] == "seven"
        with pytest.raises(ValidationError):
            idx.records.update(uid, properties={"label": 3})


def test_free_form_properties_survive_a_reopen(tmp_path):
    """Properties no column holds (a nested value on an index with no declared property)
    live only in the cache's dicts: a reopen must parse them too (it skipped them)."""
    import numpy as np

    import eigenlake

    path = str(tmp_path)
    with eigenlake.connect(path=path) as c:
        idx = c.indexes.create_or_get(namespace="t", index="free", dimensions=4)
        idx.records.add(properties={"d": {"k": [1, 2]}}, vector=np.ones(4, np.float32))
    with eigenlake.connect(path=path) as c:
        idx = c.indexes.open(namespace="t", index="free")
        hit = idx.search.nearest(vector=np.ones(4), limit=1)["results"][0]
        assert hit["metadata"] == {"d": {"k": [1, 2]}}
        assert idx.records.list()["objects"][0]["metadata"] == {"d": {"k": [1, 2]}}
