"""Damaged index storage raises StorageError naming the file; it is never read as absence,
and nothing is created over it."""

from __future__ import annotations

import os
import pickle
import sqlite3
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import eigenlake
from eigenlake.embedded.index import DB_FILE
from eigenlake.errors import EigenlakeError, NotFoundError, StorageError

DIM = 4


def _make(root: Path, name: str = "i", count: int = 5) -> tuple[str, list[str]]:
    """An index with ``count`` records; its database path and uuids."""
    with eigenlake.connect(path=str(root)) as client:
        idx = client.indexes.create_or_get(namespace="n", index=name, dimensions=DIM)
        vectors = np.random.default_rng(0).standard_normal((count, DIM)).astype(np.float32)
        uids = idx.records.add_many(
            [{"properties": {"i": i}, "vector": v} for i, v in enumerate(vectors)]
        )
        return idx._db_path, uids


def _sql(path: str, *statements: str) -> None:
    con = sqlite3.connect(path)
    for statement in statements:
        con.execute(statement)
    con.commit()
    con.close()


def _truncate(path: str) -> None:
    with open(path, "wb"):
        pass
    for suffix in ("-wal", "-shm"):  # as after a crash that lost the whole file
        if os.path.exists(path + suffix):
            os.remove(path + suffix)


def _garbage(path: str) -> None:
    with open(path, "wb") as f:
        f.write(b"not a database at all\n" * 200)


def _cut(path: str) -> None:
    with open(path, "r+b") as f:
        f.truncate(100)  # the header survives, the pages do not


def _duplicate(path: str) -> None:
    _sql(
        path,
        "INSERT INTO records SELECT 100, uuid, vector, props FROM records WHERE seq = 2",
        "UPDATE meta SET value = '101' WHERE key = 'next_seq'",
    )


def _missing_db(path: str) -> None:
    with open(os.path.join(os.path.dirname(path), "hnsw.json"), "w") as f:
        f.write("{}")
    os.remove(path)


DAMAGE: dict[str, tuple[Callable[[str], None], str]] = {
    "truncated to 0 bytes": (_truncate, "empty (0 bytes)"),
    "records table dropped": (lambda p: _sql(p, "DROP TABLE records"), "'records' is missing"),
    "meta table dropped": (lambda p: _sql(p, "DROP TABLE meta"), "'meta' is missing"),
    "settings deleted": (lambda p: _sql(p, "DELETE FROM meta WHERE key = 'settings'"), "settings"),
    "settings unreadable": (
        lambda p: _sql(p, "UPDATE meta SET value = '{' WHERE key = 'settings'"),
        "settings",
    ),
    "counter deleted": (lambda p: _sql(p, "DELETE FROM meta WHERE key = 'next_seq'"), "next_seq"),
    "counter behind": (
        lambda p: _sql(p, "UPDATE meta SET value = '3' WHERE key = 'next_seq'"),
        "past its counter",
    ),
    "not sqlite": (_garbage, "not an SQLite database"),
    "pages cut off": (_cut, "cannot be read"),
    "uuid stored twice": (_duplicate, "more than one record"),
    "uuid not canonical": (
        lambda p: _sql(p, "UPDATE records SET uuid = upper(uuid) WHERE seq = 2"),
        "not a canonical uuid",
    ),
    "database missing, graph left": (_missing_db, "is missing while its directory holds hnsw.json"),
}


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_damage_is_reported_on_open_and_create(tmp_path: Path, kind: str) -> None:
    damage, problem = DAMAGE[kind]
    db, _ = _make(tmp_path)
    damage(db)
    before = sorted(os.listdir(os.path.dirname(db)))
    size = os.path.getsize(db) if os.path.exists(db) else None
    with eigenlake.connect(path=str(tmp_path)) as client:
        for attempt in (
            lambda: client.indexes.open(namespace="n", index="i"),
            lambda: client.indexes.create_or_get(namespace="n", index="i", dimensions=DIM),
            lambda: client.indexes.ref(namespace="n", index="i").records.list(limit=10),
        ):
            with pytest.raises(StorageError) as err:
                attempt()
            assert err.value.filename == db
            assert db in str(err.value) and problem in str(err.value)
            assert "backup" in str(err.value) and err.value.status_code == 500
    # nothing was created or repaired over the damage
    assert sorted(os.listdir(os.path.dirname(db))) == before
    assert (os.path.getsize(db) if os.path.exists(db) else None) == size


def test_damage_done_while_open_is_reported(tmp_path: Path) -> None:
    db, uids = _make(tmp_path)
    with eigenlake.connect(path=str(tmp_path)) as client:
        idx = client.indexes.open(namespace="n", index="i")
        assert len(idx.records.list(limit=10)["objects"]) == 5
        _duplicate(db)  # another connection: the next call reloads and sees it
        with pytest.raises(StorageError, match="more than one record"):
            idx.records.list(limit=10)
        _sql(db, "DELETE FROM records WHERE seq = 100", "DROP TABLE records")
        with pytest.raises(StorageError, match="'records' is missing"):
            idx.records.get(uids[0])
        with pytest.raises(StorageError):  # and stays reported, never an empty index
            idx.search.nearest(vector=[1.0, 0, 0, 0], limit=3)


def test_a_damaged_index_can_be_deleted(tmp_path: Path) -> None:
    db, _ = _make(tmp_path)
    _truncate(db)
    with eigenlake.connect(path=str(tmp_path)) as client:
        with pytest.raises(StorageError):
            client.indexes.open(namespace="n", index="i")
        assert client.indexes.delete(namespace="n", index="i") == {"deleted": True}
        assert not os.path.exists(os.path.dirname(db))
        with pytest.raises(NotFoundError):
            client.indexes.open(namespace="n", index="i")
        idx = client.indexes.create_or_get(namespace="n", index="i", dimensions=DIM)
        assert idx.records.list(limit=10)["objects"] == []


def test_a_damaged_index_can_be_deleted_through_its_handle(tmp_path: Path) -> None:
    db, _ = _make(tmp_path)
    with eigenlake.connect(path=str(tmp_path)) as client:
        idx = client.indexes.ref(namespace="n", index="i")
        _truncate(db)
        assert idx.manage.delete() == {"deleted": True}
        assert not os.path.exists(os.path.dirname(db))


def test_absent_index_is_not_found_and_an_empty_directory_is_no_damage(tmp_path: Path) -> None:
    with eigenlake.connect(path=str(tmp_path)) as client:
        with pytest.raises(NotFoundError):
            client.indexes.open(namespace="n", index="nowhere")
        empty = tmp_path / "n" / "empty"
        empty.mkdir(parents=True)
        with pytest.raises(NotFoundError):
            client.indexes.open(namespace="n", index="empty")
        idx = client.indexes.create_or_get(namespace="n", index="empty", dimensions=DIM)
        idx.records.add(properties={"a": 1}, vector=[1.0, 2, 3, 4])
        # created whole under a temporary name, then linked: no leftovers
        assert not [n for n in os.listdir(empty) if ".creating-" in n]


def test_an_index_from_before_ids_gets_one_and_keeps_its_records(tmp_path: Path) -> None:
    db, uids = _make(tmp_path)
    _sql(db, "DELETE FROM meta WHERE key = 'index_uid'")
    with eigenlake.connect(path=str(tmp_path)) as client:
        idx = client.indexes.open(namespace="n", index="i")
        assert sorted(o["uuid"] for o in idx.records.list(limit=10)["objects"]) == sorted(uids)
    con = sqlite3.connect(db)
    (uid,) = con.execute("SELECT value FROM meta WHERE key = 'index_uid'").fetchone()
    con.close()
    with eigenlake.connect(path=str(tmp_path)) as client:
        assert client.indexes.open(namespace="n", index="i")._uid == uid.strip('"')


def test_storage_error_is_what_users_catch() -> None:
    err = StorageError.damaged("/data/n/i/index.sqlite", "is empty (0 bytes)")
    assert isinstance(err, EigenlakeError) and isinstance(err, OSError)
    assert eigenlake.StorageError is StorageError and "StorageError" in eigenlake.__all__
    assert str(err).startswith("damaged index storage: /data/n/i/index.sqlite: is empty")
    back = pickle.loads(pickle.dumps(err))  # crosses process boundaries (Ray shards)
    assert type(back) is StorageError and back.filename == err.filename
    assert str(back) == str(err)
    assert DB_FILE == "index.sqlite"
