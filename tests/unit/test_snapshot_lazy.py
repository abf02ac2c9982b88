"""The embedded snapshot is arrays, not records: the cache's own rows (no copy) when they are
all taken in order, properties copied only when read, texts from the string columns."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import eigenlake
from eigenlake.analysis.ctfidf import record_text
from eigenlake.analysis.snapshot import Properties, Snapshot


@pytest.fixture
def idx(tmp_path: Path) -> Any:
    client = eigenlake.connect(path=str(tmp_path))
    index = client.indexes.create_or_get(namespace="a", index="lazy", dimensions=4)
    rng = np.random.default_rng(0)
    index.records.add_many(
        [
            {
                "id": f"00000000-0000-0000-0000-{i:012d}",
                "properties": {"i": i, "title": f"paper {i}", "tags": ["x", f"t{i % 3}"]},
                "vector": rng.standard_normal(4) + 0.1,
            }
            for i in range(12)
        ]
    )
    yield index
    client.close()


def cache_of(idx: Any) -> Any:
    with idx.reading() as view:
        return view.cache


def test_all_rows_in_order_are_the_cache_rows_no_copy(idx: Any) -> None:
    snap = idx.snapshot()
    cache = cache_of(idx)
    assert len(snap) == 12 and snap.matched == 12
    assert np.shares_memory(snap.vectors, cache.vectors)  # a view of the cache, no copy
    assert not snap.vectors.flags.writeable  # the analyses cannot change the cache
    assert snap.vectors.flags.c_contiguous and snap.vectors.dtype == np.float32
    np.testing.assert_array_equal(snap.vectors, cache.matrix())
    assert snap.uuids == cache.uuid_texts(np.arange(12))
    # a limit keeps the first rows: still a view
    first = idx.snapshot(limit=5)
    assert np.shares_memory(first.vectors, cache.vectors) and first.matched == 12
    assert [m["i"] for m in first.metadata] == [0, 1, 2, 3, 4]


def test_filtered_or_after_deletes_one_copy_in_index_order(idx: Any) -> None:
    snap = idx.snapshot({"i": {"$in": [7, 2, 9]}})
    assert [m["i"] for m in snap.metadata] == [2, 7, 9]
    assert not np.shares_memory(snap.vectors, cache_of(idx).vectors)
    idx.records.remove(idx.snapshot().uuids[0])
    after = idx.snapshot()
    assert [m["i"] for m in after.metadata] == list(range(1, 12))
    whole = cache_of(idx).matrix()
    np.testing.assert_array_equal(after.vectors, whole[1:12])


def test_properties_are_copies_read_only_when_asked(idx: Any) -> None:
    snap = idx.snapshot()
    meta = snap.metadata
    assert isinstance(meta, Properties)
    stored = cache_of(idx).props  # the rows' texts: dicts are made when read
    assert list(meta.stored()) == stored.dicts(list(range(12)))
    got = snap.properties([3, 0])
    assert [m["i"] for m in got] == [3, 0]
    got[0]["i"] = -1
    got[0]["tags"].append("changed")  # a copy: the store keeps its values
    assert snap.properties([3])[0] == {"i": 3, "title": "paper 3", "tags": ["x", "t0"]}
    assert meta[3] == stored.dict_of(3) and meta[3] is not meta[3]  # a new dict each read
    assert meta[-1] == meta[11] and len(meta) == 12
    with pytest.raises(IndexError):
        meta[12]
    assert [m["i"] for m in meta[2:4]] == [2, 3] and isinstance(meta[2:4], Properties)
    assert [m["i"] for m in reversed(meta)][:2] == [11, 10]
    assert idx.records.get(snap.uuids[3])["metadata"]["i"] == 3


def test_snapshot_keeps_its_state_after_an_update(idx: Any) -> None:
    snap = idx.snapshot()
    uid = snap.uuids[4]
    idx.records.update(uid, properties={"title": "renamed"})
    # the store appended the record's new text: the snapshot still reads the one it took
    assert snap.properties([4])[0]["title"] == "paper 4"
    assert snap.texts(["title"])[4] == "paper 4"
    assert idx.snapshot().texts(["title"])[4] == "renamed"


def test_texts_match_record_text(idx: Any) -> None:
    idx.records.update(idx.snapshot().uuids[5], properties={"title": None})
    snap = idx.snapshot()
    stored = list(snap.metadata.stored())
    for fields in (["title"], ["tags"], ["title", "tags"], ["title", "missing"], ["i"]):
        assert snap.texts(fields) == [record_text(m, fields) for m in stored], fields
    assert snap.texts(["title"]) is snap.texts(("title",))  # kept for the next call
    assert snap.values("i") == list(range(12))
    assert snap.names() == {"i", "title", "tags"}


def test_a_pickle_is_a_plain_list_of_copies(idx: Any) -> None:
    meta = idx.snapshot().metadata
    for back in (pickle.loads(pickle.dumps(meta)), copy.deepcopy(meta)):
        assert type(back) is list and back == list(meta)
    assert meta.copy() == list(meta) and type(meta.copy()) is list


def test_snapshots_built_in_memory_work_as_before() -> None:
    meta: list[dict[str, Any]] = [{"t": "a b"}, {"t": ["c", "d"]}, {}]
    snap = Snapshot(["u0", "u1", "u2"], np.zeros((3, 2), np.float32), meta)
    assert snap.properties([1]) == [{"t": ["c", "d"]}] and snap.metadata is meta
    assert snap.texts(["t"]) == ["a b", "c \n d", ""]
    assert snap.values("t") == ["a b", ["c", "d"], None] and snap.names() == {"t"}


def test_analyses_over_the_lazy_snapshot(idx: Any) -> None:
    res = idx.search.cluster(num_clusters=3, text_fields=["title"], representatives_per_cluster=2)
    uuids = idx.snapshot().uuids
    assert sorted(m["uuid"] for c in res["clusters"] for m in c["members"]) == sorted(uuids)
    for c in res["clusters"]:
        members = [m["uuid"] for m in c["members"]]
        assert members == sorted(members, key=uuids.index)  # snapshot order
        for r in c["representatives"]:
            assert r["metadata"] == idx.records.get(r["uuid"])["metadata"]
    out = idx.search.outliers(n_neighbors=3, return_all=True)
    assert len(out["outliers"]) == 12
    for o in out["outliers"]:
        assert o["metadata"] == idx.records.get(o["uuid"])["metadata"]
