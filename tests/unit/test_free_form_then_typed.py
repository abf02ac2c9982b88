"""An open schema stores an untypeable value (a dict) free-form; a later value of the same
name types the property. The free-form value then counts as missing for filters — within one
call, across calls and after a reopen — instead of failing after the commit (which left the
store and the in-memory index disagreeing: count 2, list empty)."""

from __future__ import annotations

import numpy as np
import pytest

import eigenlake


@pytest.mark.parametrize("columns", [False, True])
def test_dict_then_int_in_one_call(tmp_path, columns):
    with eigenlake.connect(path=str(tmp_path)) as c:
        idx = c.indexes.create_or_get(namespace="n", index="i", dimensions=2)
        if columns:
            idx.records.add_many({"x": [{"a": 1}, 1]}, vectors=np.ones((2, 2), np.float32))
        else:
            idx.records.add_many(
                [
                    {"properties": {"x": {"a": 1}}, "vector": [1.0, 2.0]},
                    {"properties": {"x": 1}, "vector": [1.0, 2.0]},
                ]
            )
        assert idx.records.count() == 2
        assert [o["metadata"] for o in idx.records.list()["objects"]] == [{"x": {"a": 1}}, {"x": 1}]
        assert idx.records.count({"x": 1}) == 1 and idx.records.count({"x": {"$exists": True}}) == 1


def test_dict_then_int_across_calls_and_reopen(tmp_path):
    path = str(tmp_path)
    with eigenlake.connect(path=path) as c:
        idx = c.indexes.create_or_get(namespace="n", index="i", dimensions=2)
        idx.records.add_many([{"properties": {"x": {"a": 1}, "b": True}, "vector": [1.0, 2.0]}])
        idx.records.add_many([{"properties": {"x": 5, "b": False}, "vector": [1.0, 2.0]}])
        assert idx.records.count({"x": {"$gte": 1}}) == 1
    with eigenlake.connect(path=path) as c:
        idx = c.indexes.open(namespace="n", index="i")
        assert idx.records.count() == 2 and idx.records.count({"x": {"$gte": 1}}) == 1
        assert len(idx.records.list()["objects"]) == 2
