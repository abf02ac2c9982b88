"""The commit watch in front of every read's sync (``embedded/watch.py``): a read skips the
full check (``os.stat`` + ``PRAGMA data_version``) only while the wal-index header shows no
commit, no index was dropped in this process and the last full check is recent. Writes by
another process are seen at once; drops and re-creations by another process (no commit)
within ``STAT_EVERY_S``; by this process at once."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import eigenlake
from eigenlake.embedded import watch
from eigenlake.embedded.store import Store
from eigenlake.errors import NotFoundError

DIM = 8

OTHER = textwrap.dedent(
    """
    import sys, numpy as np, eigenlake
    path, what = sys.argv[1], sys.argv[2]
    with eigenlake.connect(path=path) as c:
        if what == "add":
            idx = c.indexes.open(namespace="w", index="i")
            idx.records.add_many([{"properties": {"who": "other"}, "vector": -np.ones(8)}])
        elif what in ("drop", "recreate"):
            c.indexes.delete(namespace="w", index="i")
            if what == "recreate":
                idx = c.indexes.create_or_get(namespace="w", index="i", dimensions=8)
                idx.records.add_many([{"properties": {"who": "new"}, "vector": -np.ones(8)}])
    """
)


def _other(path: Path, what: str) -> None:
    subprocess.run([sys.executable, "-c", OTHER, str(path), what], check=True, timeout=120)


def _index(client: Any) -> Any:
    idx = client.indexes.create_or_get(namespace="w", index="i", dimensions=DIM)
    rng = np.random.default_rng(0)
    idx.records.add_many(
        [{"properties": {"who": "us"}, "vector": v} for v in rng.random((20, DIM)) + 0.5]
    )
    return idx


def _top(idx: Any) -> str:
    q = -np.ones(DIM, dtype=np.float32)
    return str(idx.search.nearest(vector=q, limit=1)["results"][0]["metadata"]["who"])


@pytest.fixture
def never_stat(monkeypatch: pytest.MonkeyPatch) -> None:
    """No full check for time's sake: only the header and this process's drops count."""
    monkeypatch.setattr(watch, "STAT_EVERY_S", 3600.0)


def test_reads_skip_the_full_check_while_nothing_changes(
    tmp_path: Path, never_stat: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with eigenlake.connect(path=str(tmp_path)) as c:
        idx = _index(c)
        _top(idx)
        calls: list[int] = []
        version = Store.data_version

        def spy(store: Store) -> int:
            calls.append(1)
            return version(store)

        monkeypatch.setattr(Store, "data_version", spy)
        for _ in range(5):
            assert _top(idx) == "us"
        assert calls == []  # the watch answered every time
        # our own write moves the header: the next read checks in full, once
        idx.records.add_many([{"properties": {"who": "us2"}, "vector": np.ones(DIM)}])
        calls.clear()  # the write checks inside its transaction
        _top(idx)
        _top(idx)
        assert len(calls) == 1


def test_a_write_by_another_process_is_seen_at_once(tmp_path: Path, never_stat: None) -> None:
    with eigenlake.connect(path=str(tmp_path)) as c:
        idx = _index(c)
        assert _top(idx) == "us"
        _other(tmp_path, "add")
        assert _top(idx) == "other"  # its commit moved the wal-index header


def test_a_drop_in_this_process_is_seen_at_once(tmp_path: Path, never_stat: None) -> None:
    with eigenlake.connect(path=str(tmp_path)) as a, eigenlake.connect(path=str(tmp_path)) as b:
        idx = _index(a)
        assert _top(idx) == "us"
        b.indexes.delete(namespace="w", index="i")
        with pytest.raises(NotFoundError):
            _top(idx)
        new = b.indexes.create_or_get(namespace="w", index="i", dimensions=DIM)
        new.records.add_many([{"properties": {"who": "new"}, "vector": -np.ones(DIM)}])
        fresh = a.indexes.open(namespace="w", index="i")
        assert _top(fresh) == "new"


@pytest.mark.parametrize("what", ["drop", "recreate"])
def test_a_drop_by_another_process_is_seen_within_the_period(tmp_path: Path, what: str) -> None:
    with eigenlake.connect(path=str(tmp_path)) as c:
        idx = _index(c)
        assert _top(idx) == "us"
        _other(tmp_path, what)
        time.sleep(watch.STAT_EVERY_S)  # a process takes longer than this to start anyway
        if what == "drop":
            with pytest.raises(NotFoundError):
                _top(idx)
        else:  # the handle reopens the new index at its path, as without the watch
            assert _top(idx) == "new"


def test_a_store_left_unwell_is_checked_in_full(
    tmp_path: Path, never_stat: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed write that could not read the settings back marks the store for a full
    reload (``_dv = -1``): the header, unchanged by a rollback, must not skip it."""
    with eigenlake.connect(path=str(tmp_path)) as c:
        idx = _index(c)
        _top(idx)
        calls: list[int] = []
        version = Store.data_version

        def spy(store: Store) -> int:
            calls.append(1)
            return version(store)

        monkeypatch.setattr(Store, "data_version", spy)
        idx._dv = -1
        assert _top(idx) == "us"
        assert calls == [1]


def test_a_wal_index_cut_under_the_watch_is_a_change_not_a_crash(tmp_path: Path) -> None:
    # SQLite's first opener of a wal-index nobody holds truncates it; a mapped header read
    # after that dies of SIGBUS (seen once with two writers). Run in a child: a crash there
    # fails this test instead of ending the session.
    code = textwrap.dedent(
        """
        import os, sys
        from eigenlake.embedded import watch
        db = sys.argv[1]
        with open(db + "-shm", "wb") as f:
            f.write(bytes(range(64)))
        w = watch.Watch(db)
        w.checked(w.header(), watch.drops())
        assert w.unchanged()
        os.truncate(db + "-shm", 3)
        assert not w.unchanged()
        w.checked(w.header(), watch.drops())  # a full check ran on the cut file
        assert not w.unchanged()  # and a short header never matches
        w.close()
        w.close()
        print("ok")
        """
    )
    db = str(tmp_path / "index.sqlite")
    done = subprocess.run(
        [sys.executable, "-c", code, db], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", (done.returncode, done.stderr)
