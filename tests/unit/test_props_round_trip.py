"""Awkward property values read back as stored through every read path (get, list,
search, export, snapshot), after add, update, replace and a reopen (ints beyond 64 bits,
which the schema refuses, are in test_prop_store); the oracle is
``json.loads(json.dumps(props))`` of what was written, compared with types."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

import eigenlake

DIM = 4

AWKWARD: dict[str, Any] = {
    "text": 'naïve ☃ 😀 "quoted" \\ / \t\n',
    "big": 2**62 + 1,
    "neg": -(2**63),
    "tenth": 0.1,
    "large": 1e300,
    "tiny": 5e-324,
    "negzero": -0.0,
    "whole": 3.0,
    "nested": {"a": [1, {"b": None}, [[]]], "c": {}, "é": "ü"},
    "empty": {},
    "none": None,
    "list": [1, 2.5, "x", None, True],
    "flag": False,
}


def _same(got: Any, want: Any) -> bool:
    """Equal with the same types all the way down (1 is not 1.0 nor True; -0.0 is not 0.0)."""
    if type(got) is not type(want):
        return False
    if isinstance(want, float):
        return got == want and math.copysign(1, got) == math.copysign(1, want)
    if isinstance(want, list):
        return len(got) == len(want) and all(_same(a, b) for a, b in zip(got, want, strict=True))
    if isinstance(want, dict):
        return list(got) == list(want) and all(_same(got[k], want[k]) for k in want)
    return bool(got == want)


def _spoil(x: Any) -> None:
    """Change every container in ``x``."""
    for v in list(x.values()) if isinstance(x, dict) else list(x):
        if isinstance(v, (dict, list)):
            _spoil(v)
    if isinstance(x, dict):
        x["spoilt"] = True
    else:
        x.append("spoilt")


def _reads(idx: Any, uid: str, v: np.ndarray) -> list[dict[str, Any]]:
    """The record's properties by every read path."""
    hit = next(h for h in idx.search.nearest(vector=v, limit=3)["results"] if h["uuid"] == uid)
    listed = next(o for o in idx.records.list(limit=10)["objects"] if o["uuid"] == uid)
    exported = idx.records._export(None, None, False, True)
    snap = idx.snapshot()
    return [
        idx.records.get(uid)["metadata"],
        listed["metadata"],
        hit["metadata"],
        exported.properties[exported.uuids.index(uid)],
        snap.metadata[snap.uuids.index(uid)],
    ]


def _check(idx: Any, uid: str, v: np.ndarray, want: dict[str, Any]) -> None:
    oracle = json.loads(json.dumps(want))
    for got in _reads(idx, uid, v):
        assert _same(got, oracle), (got, oracle)
        _spoil(got)  # the caller's own: changing it changes nothing stored
    for got in _reads(idx, uid, v):
        assert _same(got, oracle)


def test_awkward_values_read_back_as_stored(tmp_path: Path) -> None:
    path = str(tmp_path)
    v = np.eye(DIM, dtype=np.float32)
    with eigenlake.connect(path=path) as c:
        idx = c.indexes.create_or_get(namespace="p", index="awk", dimensions=DIM)
        uid = idx.records.add(properties=AWKWARD, vector=v[0])
        other = idx.records.add(properties={}, vector=v[1])
        many = idx.records.add_many(
            [{"properties": {**AWKWARD, "text": f"row {i} ☃"}, "vector": v[2]} for i in range(3)]
        )
        _check(idx, uid, v[0], AWKWARD)
        _check(idx, other, v[1], {})
        _check(idx, many[1], v[2], {**AWKWARD, "text": "row 1 ☃"})
        merged = {**AWKWARD, "tenth": 0.30000000000000004, "nested": {"z": [None]}}
        idx.records.update(uid, properties={"tenth": 0.30000000000000004, "nested": {"z": [None]}})
        _check(idx, uid, v[0], merged)
        idx.records.update(uid, properties={"text": "moved"}, vector=v[3])  # a new row
        merged["text"] = "moved"
        _check(idx, uid, v[3], merged)
        idx.records.replace(id=other, properties={"none": None, "empty": {}})
        _check(idx, other, v[1], {"none": None, "empty": {}})
    with eigenlake.connect(path=path) as c:  # reopen: the texts adopted as stored
        idx = c.indexes.open(namespace="p", index="awk")
        _check(idx, uid, v[3], merged)
        _check(idx, other, v[1], {"none": None, "empty": {}})
        _check(idx, many[1], v[2], {**AWKWARD, "text": "row 1 ☃"})
        # the typed columns follow the texts: a filter on them finds the rows
        found = idx.records.list(filter={"big": 2**62 + 1}, limit=10)["objects"]
        assert sorted(o["uuid"] for o in found) == sorted([uid, *many])
        assert [o["uuid"] for o in idx.records.list(filter={"text": "moved"})["objects"]] == [uid]


def test_a_bulk_write_reopens_from_its_segment_texts(tmp_path: Path, monkeypatch: Any) -> None:
    """≥ 256 records go to a segment (texts back to back); a reopen adopts them as they
    are and the columns read their values from them."""
    from eigenlake.embedded import index as index_module

    blocks: list[int] = []
    add_block = index_module._ChunkLoader.add_block

    def spy(self: Any, block: Any) -> None:
        blocks.append(len(block))
        add_block(self, block)

    monkeypatch.setattr(index_module._ChunkLoader, "add_block", spy)
    path = str(tmp_path)
    rng = np.random.default_rng(3)
    rows = [
        {**AWKWARD, "text": f"row {i} ☃" * (i % 4), "big": i - 150, "tenth": i / 10}
        for i in range(600)
    ]
    with eigenlake.connect(path=path) as c:
        idx = c.indexes.create_or_get(namespace="p", index="bulk", dimensions=DIM)
        ids = [
            u
            for part in (rows[:300], rows[300:])  # two segments; the update undoes the first
            for u in idx.records.add_many(
                [{"properties": p, "vector": rng.standard_normal(DIM) + 2} for p in part]
            )
        ]
        idx.records.update(ids[7], properties={"text": "changed"})
    rows[7]["text"] = "changed"
    want = {u: json.loads(json.dumps(p)) for u, p in zip(ids, rows, strict=True)}
    with eigenlake.connect(path=path) as c:
        idx = c.indexes.open(namespace="p", index="bulk")
        listed = idx.records.list(limit=1000)["objects"]
        assert blocks == [300]  # the second segment, adopted whole
        assert [o["uuid"] for o in listed] == list(ids)
        assert all(_same(o["metadata"], want[o["uuid"]]) for o in listed)
        snap = idx.snapshot()
        assert all(_same(m, want[u]) for u, m in zip(snap.uuids, snap.metadata, strict=True))
        low = idx.records.list(filter={"big": {"$lt": -100}}, limit=1000)["objects"]
        assert [o["uuid"] for o in low] == list(ids[:50])
        found = idx.records.list(filter={"text": "changed"})["objects"]
        assert [o["uuid"] for o in found] == [ids[7]]
