"""The spans of an embedded index's internal API (``reading()``/``writing()``).

A query runs one span (it ran two: ``_topk`` opened its own inside ``_nearest``'s), a span
is a plain class (no generator context managers: they cost each query microseconds), and
the read view offers no write (it was the write view).
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import eigenlake
from eigenlake.embedded.index import Index

DIM = 8


@pytest.fixture
def idx(tmp_path: Path) -> Any:
    with eigenlake.connect(path=str(tmp_path / "store")) as client:
        index = client.indexes.create_or_get(namespace="s", index="i", dimensions=DIM)
        data = np.random.default_rng(0).standard_normal((40, DIM)).astype(np.float32)
        index.records.add_many([{"properties": {"i": i}, "vector": v} for i, v in enumerate(data)])
        yield index


def test_a_query_runs_in_one_span(idx: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []
    reading = Index.reading

    def counted(self: Index) -> Any:
        opened.append("reading")
        return reading(self)

    monkeypatch.setattr(Index, "reading", counted)
    q = np.ones(DIM, dtype=np.float32)
    idx.search.nearest(vector=q, limit=5)
    assert opened == ["reading"]
    opened.clear()
    page = idx.search.nearest(vector=q, limit=5, filter={"i": {"$lt": 30}})
    idx.search.nearest(vector=q, limit=5, filter={"i": {"$lt": 30}}, after=page["next_after"])
    assert opened == ["reading", "reading"]
    assert idx.search._view is None  # the span's view is not kept past it


def test_spans_are_plain_context_managers(idx: Any) -> None:
    for span in (idx.reading(), idx.writing()):
        assert not isinstance(span, contextlib._GeneratorContextManager)
        assert "__enter__" in type(span).__dict__ and "__exit__" in type(span).__dict__


def test_the_read_view_cannot_write(idx: Any) -> None:
    with idx.reading() as view:
        assert not hasattr(view, "transaction") and not hasattr(view, "declare")
        assert view.cache.live_count == 40
    with idx.writing() as w:
        assert hasattr(w, "transaction") and hasattr(w, "declare")


def test_spans_nest_sync_once_and_always_release_the_lock(
    idx: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    syncs: list[int] = []
    sync = Index._sync

    def counted(self: Index) -> Any:
        syncs.append(1)
        return sync(self)

    monkeypatch.setattr(Index, "_sync", counted)
    with idx.reading(), idx.writing(), idx.reading():
        assert idx._spans == 3
    assert idx._spans == 0 and len(syncs) == 1

    with pytest.raises(RuntimeError, match="inside"), idx.reading():
        raise RuntimeError("inside")
    assert idx._spans == 0

    def broken(self: Index) -> Any:
        raise OSError("sync failed")

    monkeypatch.setattr(Index, "_sync", broken)
    with pytest.raises(OSError, match="sync failed"), idx.reading():
        pass
    assert idx._spans == 0
    got: list[bool] = []  # the lock was released: another thread takes it at once

    def take() -> None:
        got.append(idx._lock.acquire(timeout=5))
        if got[-1]:
            idx._lock.release()

    thread = threading.Thread(target=take)
    thread.start()
    thread.join()
    assert got == [True]


def test_queries_from_many_threads_each_get_their_own_answer(idx: Any) -> None:
    data = np.random.default_rng(0).standard_normal((40, DIM)).astype(np.float32)
    want = [idx.search.nearest(vector=v, limit=3)["results"] for v in data]
    wrong: list[int] = []

    def run(offset: int) -> None:
        for _ in range(30):
            for i in range(offset, 40, 4):
                if idx.search.nearest(vector=data[i], limit=3)["results"] != want[i]:
                    wrong.append(i)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []
