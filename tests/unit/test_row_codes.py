"""Exact scans over int8 codes of the cache's rows (``embedded/row_codes.py``): the same
answers as the float scan and a NumPy brute force, codes that catch up with appends, and
the ``quantized_scan`` switch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import eigenlake
from eigenlake.embedded import row_codes
from eigenlake.errors import ValidationError

DIM = 24


def _rows(n: int, seed: int) -> np.ndarray:
    """Clustered rows with exact duplicates and small-integer ties."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((6, DIM)).astype(np.float32)
    x = centres[rng.integers(0, 6, n)] + 0.05 * rng.standard_normal((n, DIM)).astype(np.float32)
    x[rng.integers(0, n, n // 10)] = x[0]  # duplicates: ties broken by row
    x[: n // 20] = rng.integers(-1, 2, size=(n // 20, DIM)).astype(np.float32) + 0.5
    return x


def _brute(x: np.ndarray, q: np.ndarray, k: int, metric: str) -> list[tuple[float, int]]:
    """(distance, row) of the top k as the index measures them (float64 here)."""
    x64, q64 = x.astype(np.float64), q.astype(np.float64)
    if metric == "cosine":
        d = 1.0 - (x64 / np.linalg.norm(x64, axis=1)[:, None]) @ (q64 / np.linalg.norm(q64))
    else:
        d = np.sqrt(((x64 - q64) ** 2).sum(axis=1))
    order = np.lexsort((np.arange(len(x)), d))[:k]
    return [(float(d[i]), int(i)) for i in order]


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_scans_over_codes_answer_as_the_float_scan(
    tmp_path: Path, metric: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same index answers each query twice, over its codes and (the switch read as
    off) over its float rows: equal answers, cursors and batches, and the brute force's."""
    x = _rows(3_000, seed=1)
    more = _rows(700, seed=2)
    queries = np.vstack([_rows(20, seed=3), x[:3], np.full((1, DIM), 0.5, np.float32)])
    real = row_codes.quantized_scan

    def both(call: Any) -> tuple[Any, Any]:
        fast = call()
        monkeypatch.setattr(row_codes, "quantized_scan", lambda options: False)
        try:
            slow = call()
        finally:
            monkeypatch.setattr(row_codes, "quantized_scan", real)
        return fast, slow

    with eigenlake.connect(path=str(tmp_path / "lake")) as c:
        opts = {"distance_metric": metric, "ann_index": False}
        idx = c.indexes.create_or_get(namespace="q", index="i", dimensions=DIM, index_options=opts)
        idx.records.add_many({"i": list(range(len(x)))}, vectors=x)
        for step in range(2):
            if step == 1:  # rows added after the codes were made: they catch up
                idx.records.add_many({"i": list(range(len(x), len(x) + len(more)))}, vectors=more)
            rows = x if step == 0 else np.vstack([x, more])
            for q in queries:
                fast, slow = both(lambda q=q: idx.search.nearest(vector=q, limit=7))
                assert fast["results"] == slow["results"]
                assert fast["next_after"] == slow["next_after"]
                got = [h["metadata"]["i"] for h in fast["results"]]
                # the rows of a float64 brute force, up to float32 rounding near ties
                want = _brute(rows, q, 7, metric)
                for (dist, row), hit, i in zip(want, fast["results"], got, strict=True):
                    assert i == row or abs(hit["distance"] - dist) < 1e-5
                nxt = idx.search.nearest(vector=q, limit=7, after=fast["next_after"])
                assert {h["uuid"] for h in nxt["results"]}.isdisjoint(
                    h["uuid"] for h in fast["results"]
                )
            batch, plain = both(lambda: idx.search.nearest(vector=queries[:5], limit=4))
            assert [a["results"] for a in batch] == [b["results"] for b in plain]
        codes = idx._cache.codes
        assert len(codes._codes) == len(x) + len(more)  # caught up, one set of codes
        assert codes.memory_bytes >= (len(x) + len(more)) * DIM


def test_codes_are_never_made_when_switched_off(tmp_path: Path) -> None:
    x = _rows(row_codes.MIN_ROWS + 10, seed=5)
    with eigenlake.connect(path=str(tmp_path / "lake")) as c:
        opts = {"ann_index": False, "quantized_scan": False}
        idx = c.indexes.create_or_get(namespace="q", index="o", dimensions=DIM, index_options=opts)
        idx.records.add_many({"i": list(range(len(x)))}, vectors=x)
        idx.search.nearest(vector=x[1], limit=3)
        idx.search.nearest(vector=x[:3], limit=3)
        assert idx._cache.codes.memory_bytes == 0


def test_small_indexes_keep_float_scans(tmp_path: Path) -> None:
    x = _rows(row_codes.MIN_ROWS - 1, seed=4)
    with eigenlake.connect(path=str(tmp_path / "lake")) as c:
        idx = c.indexes.create_or_get(namespace="q", index="s", dimensions=DIM)
        idx.records.add_many({"i": list(range(len(x)))}, vectors=x)
        idx.search.nearest(vector=x[1], limit=3)
        assert idx._cache.codes.memory_bytes == 0
        idx.records.add_many({"i": [len(x)]}, vectors=x[:1])
        idx.search.nearest(vector=x[1], limit=3)
        assert idx._cache.codes.memory_bytes > 0  # from MIN_ROWS rows on


@pytest.mark.parametrize("bad", [1, "yes", None])
def test_the_switch_takes_a_bool(tmp_path: Path, bad: Any) -> None:
    with pytest.raises(ValidationError, match="index_options.quantized_scan"):
        row_codes.quantized_scan({"quantized_scan": bad})
    assert row_codes.quantized_scan(None) and row_codes.quantized_scan({})


def test_a_graph_covering_every_row_releases_the_codes(tmp_path: Path) -> None:
    """Exact scans of a small index make the codes; once the index outgrows
    ``exact_threshold`` and a graph covers every row, the graph answers and the codes are
    dropped (a quarter of the vectors' memory)."""
    x = _rows(4_000, seed=6)
    with eigenlake.connect(path=str(tmp_path / "lake")) as c:
        idx = c.indexes.create_or_get(namespace="q", index="g", dimensions=DIM)
        idx.records.add_many({"i": list(range(2_000))}, vectors=x[:2_000])
        idx.search.nearest(vector=x[3], limit=3)  # 2,000 rows: below the threshold
        assert idx._cache.codes.memory_bytes > 0
        idx.records.add_many({"i": list(range(2_000, 4_000))}, vectors=x[2_000:])
        idx.search.prepare()  # the graph covers every row
        assert idx._cache.codes.memory_bytes == 0
        hits = idx.search.nearest(vector=x[300], limit=3)["results"]
        assert len(hits) == 3
        assert idx._cache.codes.memory_bytes == 0  # the graph answered


def test_one_query_scans_its_codes_on_the_calling_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One query over fewer than ``INLINE_CODED_ROWS`` coded rows is scanned by
    ``search_rows`` with ``pool`` False (no hand-off to the pool); a batch, or a longer
    scan, by ``search`` on the pool. Both answer as the float scan."""
    from eigenlake.embedded import ann

    calls: list[tuple[str, Any]] = []

    class Spy:
        def __init__(self, codes: Any) -> None:
            self.codes = codes

        def search_rows(self, *a: Any) -> Any:
            calls.append(("rows", a[-1]))
            return self.codes.search_rows(*a)

        def search(self, *a: Any) -> Any:
            calls.append(("search", len(a[1])))
            return self.codes.search(*a)

    real = row_codes.RowCodes.covering
    monkeypatch.setattr(
        row_codes.RowCodes, "covering", lambda self, m, o: (c := real(self, m, o)) and Spy(c)
    )
    x = _rows(3_000, seed=6)
    with eigenlake.connect(path=str(tmp_path / "lake")) as c:
        opts = {"ann_index": False}
        idx = c.indexes.create_or_get(namespace="q", index="t", dimensions=DIM, index_options=opts)
        idx.records.add_many({"i": list(range(len(x)))}, vectors=x)
        one = idx.search.nearest(vector=x[5], limit=3)
        assert calls == [("rows", False)]
        batch = idx.search.nearest(vector=x[5:7], limit=3)
        assert calls[1:] == [("search", 2)]
        monkeypatch.setattr(ann, "INLINE_CODED_ROWS", 3_000)  # 3,000 rows count as long
        again = idx.search.nearest(vector=x[5], limit=3)
        assert calls[2:] == [("search", 1)]
        assert one["results"] == batch[0]["results"] == again["results"]
        assert one["results"][0]["metadata"]["i"] == 5
