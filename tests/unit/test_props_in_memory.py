"""Reads answer properties from the cache: every write path must keep it current."""

from __future__ import annotations

from pathlib import Path

import numpy as np

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
