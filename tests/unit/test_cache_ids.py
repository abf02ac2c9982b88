"""The cache keeps record ids as bytes and a core map: rows, liveness and texts stay what
the uuid strings and dict gave (reopen, delete and re-add, updates, placeholders, damage)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import eigenlake
from eigenlake.embedded.cache import Cache

DIM = 4
POOL = [str(uuid.UUID(int=0xABCDEF0123 * (i + 1))) for i in range(6)]


def cache_of(idx: Any) -> Cache:
    with idx.reading() as view:
        return view.cache


def rows_oracle(uuids: list[str], alive: list[bool]) -> dict[str, int]:
    """What the dict kept: each live uuid's last row."""
    return {u: i for i, (u, a) in enumerate(zip(uuids, alive, strict=True)) if a}


def dups_oracle(uuids: list[str], alive: list[bool]) -> list[str]:
    seen: set[str] = set()
    dups: dict[str, None] = {}
    for u, a in zip(uuids, alive, strict=True):
        if a:
            if u in seen:
                dups[u] = None
            seen.add(u)
    return list(dups)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(POOL), st.booleans()), max_size=30), st.data())
def test_appended_rows_map_and_kill_as_the_dict_did(
    rows: list[tuple[str, bool]], data: Any
) -> None:
    cache = Cache(DIM, False, {})
    uuids = [u if a else "" for u, a in rows]  # placeholders carry no uuid
    alive = [a for _, a in rows]
    cut = data.draw(st.integers(0, len(rows)))
    for lo, hi in ((0, cut), (cut, len(rows))):  # two appends, the second after growth
        if hi > lo:
            cache.append(
                uuids[lo:hi],
                list(range(lo, hi)),
                np.ones((hi - lo, DIM)),
                [{}] * (hi - lo),
                alive[lo:hi],
            )
    want = rows_oracle(uuids, alive)
    assert cache.n == len(rows) and cache.live_count == len(want)
    assert cache.all_alive() == (len(want) == len(rows))
    for u in POOL:
        assert cache.row(u) == want.get(u)
    assert cache.rows(POOL).tolist() == [want.get(u, -1) for u in POOL]
    assert cache.duplicate_uuids() == dups_oracle(uuids, alive)
    live = [i for i, a in enumerate(alive) if a]
    assert cache.uuid_texts(live) == [uuids[i] for i in live]
    killed = data.draw(st.lists(st.sampled_from(POOL), max_size=4))
    cache.kill(killed)
    for u in killed:
        if u in want:
            assert not cache.alive[want.pop(u)]
    assert cache.live_count == len(want)
    assert all(cache.row(u) == want.get(u) for u in POOL)


def test_kill_rows_kills_those_records_only() -> None:
    cache = Cache(DIM, False, {})
    cache.append(POOL, list(range(6)), np.ones((6, DIM)), [{}] * 6)
    cache.kill_rows(np.array([1, 4]))
    assert cache.alive_mask().tolist() == [True, False, True, True, False, True]
    assert [cache.row(u) for u in POOL] == [0, None, 2, 3, None, 5]
    assert cache.uuid(4) == POOL[4]  # a dead row keeps its id


@pytest.fixture
def client(tmp_path: Path) -> Any:
    with eigenlake.connect(path=str(tmp_path)) as c:
        yield c


def _records(n: int, seed: int = 0) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    return [
        {
            "id": str(uuid.UUID(int=int(rng.integers(1, 2**62)) << 64 | i)),
            "properties": {"i": i},
            "vector": rng.standard_normal(DIM).tolist(),
        }
        for i in range(n)
    ]


def test_reopen_keeps_ids_rows_and_placeholders(tmp_path: Path) -> None:
    recs = _records(40)
    with eigenlake.connect(path=str(tmp_path)) as c:
        idx = c.indexes.create_or_get(
            namespace="n", index="i", dimensions=DIM, index_options={"exact_threshold": 10}
        )
        idx.records.add_many(recs)
        idx.search.prepare()  # a saved graph: the reopened cache keeps its row layout
        idx.records.remove(recs[3]["id"])
        before = cache_of(idx)
        rows_before = {r["id"]: before.row(r["id"]) for r in recs}
    with eigenlake.connect(path=str(tmp_path)) as c:
        idx = c.indexes.open(namespace="n", index="i")
        cache = cache_of(idx)
        assert {r["id"]: cache.row(r["id"]) for r in recs} == rows_before
        assert cache.row(recs[3]["id"]) is None and cache.live_count == 39
        assert cache.n == 40 and not cache.alive[3]  # the deleted record's placeholder
        for r in recs[:10]:
            got = idx.records.get(r["id"])
            assert (got is None) == (r is recs[3])
            assert got is None or (
                got["uuid"] == r["id"] and got["metadata"] == {"i": r["properties"]["i"]}
            )
        listed = [o["uuid"] for o in idx.records.list(limit=100)["objects"]]
        assert listed == [r["id"] for r in recs if r is not recs[3]]
        q = np.asarray(recs[7]["vector"])
        assert idx.search.nearest(vector=q, limit=1)["results"][0]["uuid"] == recs[7]["id"]


def test_a_record_deleted_then_added_again(client: Any) -> None:
    idx = client.indexes.create_or_get(namespace="n", index="i", dimensions=DIM)
    recs = _records(5)
    idx.records.add_many(recs)
    uid = recs[2]["id"]
    old = cache_of(idx).row(uid)
    idx.records.remove(uid)
    assert not idx.records.exists(uid) and idx.records.get(uid) is None
    idx.records.add_many([{"id": uid, "properties": {"i": 99}, "vector": [1.0, 0, 0, 0]}])
    cache = cache_of(idx)
    assert cache.row(uid) == 5 != old and not cache.alive[old] and cache.live_count == 5
    assert idx.records.get(uid)["metadata"] == {"i": 99}
    hit = idx.search.nearest(vector=[1.0, 0, 0, 0], limit=1)["results"][0]
    assert hit["uuid"] == uid and hit["metadata"] == {"i": 99}
    assert cache.duplicate_uuids() == []


def test_an_update_keeps_the_id_and_moves_the_row(client: Any) -> None:
    idx = client.indexes.create_or_get(namespace="n", index="i", dimensions=DIM)
    recs = _records(5)
    idx.records.add_many(recs)
    uid = recs[1]["id"]
    idx.records.update(uid, properties={"i": 7})  # properties only: the row stays
    assert cache_of(idx).row(uid) == 1 and cache_of(idx).all_alive()
    idx.records.update(uid, vector=[0.0, 0, 3, 0])
    cache = cache_of(idx)
    assert cache.row(uid) == 5 and not cache.alive[1] and not cache.all_alive()
    assert cache.uuid(1) == cache.uuid(5) == uid and cache.live_count == 5
    got = idx.records.get(uid)
    assert got["uuid"] == uid and got["vector"] == [0.0, 0, 3, 0]
    hit = idx.search.nearest(vector=[0.0, 0, 1, 0], limit=1)["results"][0]
    assert hit["uuid"] == uid
    # an upsert through add_many moves it again, by records and by columns
    idx.records.add_many([{"id": uid, "vector": [0.0, 1, 0, 0]}], on_duplicate="replace")
    assert cache_of(idx).row(uid) == 6 and cache_of(idx).live_count == 5
    other = recs[4]["id"]
    idx.records.add_many(
        {"id": [other, uid], "i": np.array([40, 41])},
        vectors=np.eye(DIM, dtype=np.float32)[:2],
        id_column="id",
        on_duplicate="replace",
    )
    cache = cache_of(idx)
    assert (cache.row(uid), cache.row(other), cache.live_count) == (8, 7, 5)
    assert idx.records.get(uid)["metadata"] == {"i": 41}
    assert cache.alive_mask().tolist() == [True, False, True, True, False] + [
        False,
        False,
        True,
        True,
    ]
