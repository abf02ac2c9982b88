"""The cluster answer of an embedded index (its snapshot holds the id bytes: the members'
uuid texts are made straight from them, ``_core.id_member_dicts``) is the answer built the
old way: from a snapshot holding a list of uuid texts (``uuid.UUID(bytes=...)``), the
members' dicts by a Python comprehension over the grouped rows."""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import pytest

import eigenlake
from eigenlake import _core
from eigenlake.analysis import cluster as cluster_mod
from eigenlake.analysis.cluster import run_cluster
from eigenlake.analysis.snapshot import Snapshot

N = 300


@pytest.fixture(scope="module")
def idx(tmp_path_factory: pytest.TempPathFactory) -> Any:
    client = eigenlake.connect(path=str(tmp_path_factory.mktemp("ids")))
    index = client.indexes.create_or_get(namespace="a", index="ids", dimensions=8)
    rng = np.random.default_rng(3)
    centres = rng.standard_normal((5, 8)) * 3
    x = centres[rng.integers(0, 5, N)] + rng.standard_normal((N, 8)) * 0.3
    words = ["oil", "bank", "vote", "team", "virus"]
    index.records.add_many(
        [
            {
                "id": str(uuid.UUID(int=int(rng.integers(1, 2**62)) * (i + 1))),
                "properties": {"i": i, "even": i % 2 == 0, "text": f"{words[i % 5]} {i}"},
                "vector": x[i],
            }
            for i in range(N)
        ]
    )
    snap = index.snapshot()
    # deleted rows and updated rows (an update appends a new row, tombstoning the old)
    index.records.remove(snap.uuids[5])
    index.records.remove(snap.uuids[77])
    for r in (3, 40, 41, 299):
        index.records.update(snap.uuids[r], properties={"i": r, "even": False, "text": "moved"})
    yield index
    client.close()


def reference_snapshot(snap: Snapshot) -> Snapshot:
    """The same rows with a plain list of uuid texts made by the ``uuid`` module."""
    assert snap.ids is not None
    texts = [str(uuid.UUID(bytes=bytes(row))) for row in snap.ids]
    return Snapshot(
        uuids=texts,
        vectors=np.array(snap.vectors),
        metadata=[dict(m) for m in snap.metadata],
        metric=snap.metric,
        schema=dict(snap.schema),
        matched=snap.matched,
    )


def comprehension_members(uuids: list[str], groups: Any) -> list[list[dict[str, str]]]:
    k = len(groups.bounds) - 2
    return [[{"uuid": uuids[r]} for r in groups.rows(c).tolist()] for c in range(k)]


SETTINGS: list[dict[str, Any]] = [
    {"algorithm": "kmeans", "num_clusters": 4},
    {"algorithm": "kmeans", "num_clusters": 6, "text_fields": ["text"], "limit": 150},
    {"algorithm": "dbscan", "dbscan_min_samples": 4},
    {"algorithm": "dbscan", "dbscan_eps": 0.02, "dbscan_min_samples": 3},
]
FILTERS: list[dict[str, Any] | None] = [None, {"even": True}]


@pytest.mark.parametrize("settings", SETTINGS)
@pytest.mark.parametrize("flt", FILTERS)
def test_answer_equals_the_one_built_from_uuid_texts(
    idx: Any, settings: dict[str, Any], flt: dict[str, Any] | None, monkeypatch: Any
) -> None:
    limit = settings.get("limit")
    snap = idx.snapshot(flt, limit)
    assert snap.ids is not None and "uuids" not in snap.__dict__  # no texts made yet
    got = run_cluster(snap, filter=flt, **settings)
    assert "uuids" not in snap.__dict__  # the answer made only the texts it lists

    ref_snap = reference_snapshot(idx.snapshot(flt, limit))
    seen: list[Any] = []
    real_group = cluster_mod.group

    def spy_group(*args: Any) -> Any:
        seen.append(real_group(*args))
        return seen[-1]

    monkeypatch.setattr(cluster_mod, "group", spy_group)
    monkeypatch.setattr(cluster_mod, "member_lists", lambda s, g: comprehension_members(s.uuids, g))
    want = run_cluster(ref_snap, filter=flt, **settings)
    assert got == want
    assert got["clusters"], "the case must have clusters to compare"
    # the uuids listed are those of the rows that matched, each once (noise left out)
    listed = [m["uuid"] for c in got["clusters"] for m in c["members"]]
    assert len(listed) == len(set(listed)) == len(snap) - got["noise_count"]
    assert set(listed) <= set(ref_snap.uuids)
    for c in got["clusters"]:
        for r in c["representatives"]:
            assert r["metadata"] == idx.records.get(r["uuid"])["metadata"]


def test_lazy_uuids_are_the_texts_of_the_ids(idx: Any) -> None:
    snap = idx.snapshot({"even": True})
    assert len(snap) == len(snap.ids) and "uuids" not in snap.__dict__
    rows = [0, 7, len(snap) - 1]
    want = [str(uuid.UUID(bytes=bytes(snap.ids[r]))) for r in rows]
    assert snap.uuid_texts_of(rows) == want and snap.uuid_texts_of([]) == []
    assert snap.uuids == [str(uuid.UUID(bytes=bytes(b))) for b in snap.ids]
    assert snap.uuid_texts_of(rows) == want  # from the list once it is made
    assert snap.uuids is snap.uuids  # made once


def test_id_member_dicts_checks_its_input() -> None:
    ids = np.zeros((3, 16), np.uint8)
    with pytest.raises(IndexError):
        _core.id_member_dicts(ids, np.array([0, 3]), np.array([0, 2]))
    with pytest.raises(ValueError, match="bounds"):
        _core.id_member_dicts(ids, np.array([0, 1]), np.array([0, 3]))
    with pytest.raises(ValueError, match="16 columns"):
        _core.id_member_dicts(np.zeros((3, 8), np.uint8), np.array([0]), np.array([0, 1]))
    got = _core.id_member_dicts(ids, np.array([2, 0]), np.array([0, 1, 2]), key="id")
    assert got == [[{"id": str(uuid.UUID(int=0))}], [{"id": str(uuid.UUID(int=0))}]]
