"""Acknowledged writes survive kill -9; two processes on one store stay consistent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

import eigenlake

DIM = 16

# A record's vector is derived from its "i" property, so a torn write would show.
WRITER = textwrap.dedent(
    """
    import sys, numpy as np, eigenlake
    path, tag, count, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    def vec(i):
        return np.random.default_rng(i).standard_normal(16).astype("float32")
    with eigenlake.connect(path=path) as c:
        idx = c.indexes.create_or_get(namespace="d", index="k", dimensions=16)
        i = 0
        while count < 0 or i < count:
            if batch == 1:
                uid = idx.records.add(properties={"i": i, "tag": tag}, vector=vec(i))
                print(uid, flush=True)
                i += 1
            else:
                recs = [{"properties": {"i": j, "tag": tag}, "vector": vec(j)} for j in range(i, i + batch)]
                for uid in idx.records.add_many(recs):
                    print(uid, flush=True)
                i += batch
    """
)


def _vec(i: int) -> np.ndarray:
    return np.random.default_rng(i).standard_normal(DIM).astype("float32")


def _spawn(path: Path, tag: str, count: int, batch: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), tag, str(count), str(batch)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _check_consistent(idx) -> list[dict]:
    objs = list(idx.search.iterate(page_size=300, with_vector=True))
    for o in objs:
        np.testing.assert_array_equal(np.float32(o["vector"]), _vec(o["metadata"]["i"]))
    return objs


def _kill_after(proc: subprocess.Popen[str], acks: int) -> list[str]:
    assert proc.stdout is not None
    acked = []
    for line in proc.stdout:
        acked.append(line.strip())
        if len(acked) >= acks:
            break
    os.kill(proc.pid, signal.SIGKILL)
    rest, _ = proc.communicate()
    # lines printed before the kill landed are acknowledged too
    acked += [x for x in rest.split("\n") if x.strip()]
    assert acked, proc.stderr.read() if proc.stderr else "no output"
    return acked


def test_kill_9_keeps_every_acknowledged_record(tmp_path: Path) -> None:
    path = tmp_path / "store"
    for batch in (1, 25):
        proc = _spawn(path, f"b{batch}", -1, batch)
        acked = _kill_after(proc, 120)
        with eigenlake.connect(path=str(path)) as client:
            idx = client.indexes.open(namespace="d", index="k")
            objs = _check_consistent(idx)
            stored = {o["uuid"] for o in objs if o["metadata"]["tag"] == f"b{batch}"}
            assert set(acked) <= stored
            if batch > 1:  # whole transactions only: never part of a batch
                assert len(stored) % batch == 0


def test_second_process_sees_writes_of_the_first(tmp_path: Path) -> None:
    path = tmp_path / "store"
    with eigenlake.connect(path=str(path)) as client:
        idx = client.indexes.create_or_get(namespace="d", index="k", dimensions=DIM)
        idx.records.add(properties={"i": 0, "tag": "me"}, vector=_vec(0))
        assert len(idx.records.list(limit=1000)["objects"]) == 1
        proc = _spawn(path, "other", 30, 1)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        page = idx.records.list(filter={"tag": "other"}, limit=1000)
        assert [o["uuid"] for o in page["objects"]] == out.split()
        hit = idx.search.nearest(vector=_vec(7), limit=1, filter={"tag": "other"})
        assert hit["results"][0]["metadata"]["i"] == 7


def test_two_writers_at_once(tmp_path: Path) -> None:
    path = tmp_path / "store"
    procs = [_spawn(path, tag, 60, 10) for tag in ("a", "b")]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
        outs += out.split()
    with eigenlake.connect(path=str(path)) as client:
        idx = client.indexes.open(namespace="d", index="k")
        objs = _check_consistent(idx)
        assert sorted(o["uuid"] for o in objs) == sorted(outs)
        assert len(objs) == 120


def test_reopen_rebuilds_the_same_view(tmp_path: Path) -> None:
    path = str(tmp_path / "store")
    with eigenlake.connect(path=path) as client:
        idx = client.indexes.create_or_get(namespace="d", index="k", dimensions=DIM)
        uids = idx.records.add_many(
            [{"properties": {"i": i, "tag": "t"}, "vector": _vec(i)} for i in range(50)]
        )
        idx.records.remove(uids[3])
        idx.records.update(uids[4], properties={"tag": "u"}, vector=_vec(4))
        before = idx.records.list(limit=100)
        near = idx.search.nearest(vector=_vec(9), limit=5)
    with eigenlake.connect(path=path) as client:
        idx = client.indexes.open(namespace="d", index="k")
        assert idx.records.list(limit=100) == before
        again = idx.search.nearest(vector=_vec(9), limit=5)
        assert again["results"] == near["results"] and again["next_after"] == near["next_after"]
        assert idx.records.list(filter={"tag": "u"}, limit=5)["objects"][0]["uuid"] == uids[4]


def test_index_dropped_and_recreated_by_another_client(tmp_path: Path) -> None:
    import pytest

    path = str(tmp_path / "store")
    with eigenlake.connect(path=path) as a, eigenlake.connect(path=path) as b:
        ia = a.indexes.create_or_get(namespace="d", index="k", dimensions=DIM)
        ia.records.add(properties={"i": 1, "tag": "old"}, vector=_vec(1))
        b.indexes.open(namespace="d", index="k").manage.delete()
        with pytest.raises(eigenlake.NotFoundError):
            ia.records.list(limit=10)
        ib = b.indexes.create_or_get(namespace="d", index="k", dimensions=DIM)
        uid = ib.records.add(properties={"i": 2, "tag": "new"}, vector=_vec(2))
        assert [o["uuid"] for o in ia.records.list(limit=10)["objects"]] == [uid]


# Creates and opens the same fresh indexes as other processes do, from a common start time.
RACER = textwrap.dedent(
    """
    import sys, time, eigenlake
    path, start, names = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    while time.time() < start:
        pass
    with eigenlake.connect(path=path) as c:
        for k in range(names):
            c.indexes.create_or_get(namespace="race", index=f"x{k}", dimensions=16)
            try:  # maybe being created by another process right now
                c.indexes.open(namespace="race", index=f"x{k + 1}")
            except eigenlake.NotFoundError:
                pass
    """
)


def test_racing_creators_never_see_damage(tmp_path: Path) -> None:
    """An index is created whole (under a temporary name, then linked), so processes
    creating and opening it at once never meet a half-made database (StorageError)."""
    import time

    path = tmp_path / "store"
    start = time.time() + 1.5  # past every interpreter's start-up
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(path), str(start), "40"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    with eigenlake.connect(path=path) as client:
        names = {i["index"] for i in client.indexes.list() if i["namespace"] == "race"}
        assert names == {f"x{k}" for k in range(40)}
        assert not [n for n in os.listdir(path / "race" / "x0") if ".creating-" in n]
