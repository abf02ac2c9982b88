"""The unfiltered nearest() fast path: no mask while every row is alive, a one-pass query
check, a cheaply built cursor. Each shortcut must give way the moment a row dies, by any
write path and from any client or process."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xxhash
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import eigenlake
from eigenlake.api.cursor import decode_nearest_cursor
from eigenlake.embedded import ann
from eigenlake.embedded.cursors import encode_nearest_cursor, query_hash_of
from eigenlake.errors import ValidationError
from eigenlake.vectors import query_row

DIM = 16
N = 600
# exact scan below 10k rows; "graph" searches through HNSW from 100 rows
MODES = {"exact": {}, "graph": {"exact_threshold": 100}}

# Another process removes one record and moves another's vector.
WRITER = textwrap.dedent(
    """
    import sys, numpy as np, eigenlake
    path, gone, moved = sys.argv[1], sys.argv[2], sys.argv[3]
    with eigenlake.connect(path=path) as c:
        idx = c.indexes.open(namespace="f", index="i")
        idx.records.remove(gone)
        idx.records.update(moved, vector=-np.ones(16, dtype=np.float32))
    """
)


def _data() -> np.ndarray:
    return np.random.default_rng(3).standard_normal((N, DIM)).astype(np.float32)


def _fill(client, options: dict) -> tuple[object, list[str], np.ndarray]:
    idx = client.indexes.create_or_get(
        namespace="f", index="i", dimensions=DIM, index_options=options
    )
    data = _data()
    uids = idx.records.add_many([{"properties": {"i": i}, "vector": v} for i, v in enumerate(data)])
    idx.search.nearest(vector=data[0], limit=1)
    assert (idx._ann is not None) == bool(options)
    if idx._ann is not None:
        idx._ann.wait()  # searches go through the graph from here on
    return idx, uids, data


def _top(idx, q: np.ndarray, limit: int = 5) -> list[str]:
    return [h["uuid"] for h in idx.search.nearest(vector=q, limit=limit)["results"]]


class _Masks:
    """Records the mask each exact-scan or graph kernel call gets (a row-list scan's
    rows stand for its mask)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.seen: list[np.ndarray | None] = []
        exact, graph, listed = ann.exact_topk, ann.AnnState.search, ann.kept_topk

        def exact_spy(data, q, k, metric, mask, codes=None):
            self.seen.append(mask)
            return exact(data, q, k, metric, mask, codes)

        def rows_spy(data, q, k, metric, rows, block, pool):
            self.seen.append(rows)
            return listed(data, q, k, metric, rows, block, pool)

        def graph_spy(state, data, q, k, mask):
            self.seen.append(mask)
            return graph(state, data, q, k, mask)

        monkeypatch.setattr(ann, "exact_topk", exact_spy)
        monkeypatch.setattr(ann, "kept_topk", rows_spy)
        monkeypatch.setattr(ann.AnnState, "search", graph_spy)

    def last(self) -> np.ndarray | None:
        return self.seen[-1]


@pytest.mark.parametrize("mode", sorted(MODES))
def test_no_mask_until_a_row_dies(
    tmp_path: Path, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    masks = _Masks(monkeypatch)
    with eigenlake.connect(path=str(tmp_path / "s")) as client:
        idx, uids, data = _fill(client, MODES[mode])
        assert _top(idx, data[7], 1) == [uids[7]]
        assert masks.last() is None  # nothing deleted, no filter: no O(n) mask per query
        idx.search.nearest(vector=data[7], limit=1, filter={"i": {"$lt": 300}})
        assert masks.last() is not None
        idx.records.remove(uids[7])
        assert uids[7] not in _top(idx, data[7])
        assert masks.last() is not None


@pytest.mark.parametrize("mode", sorted(MODES))
def test_every_write_path_ends_the_unmasked_search(tmp_path: Path, mode: str) -> None:
    """A dead row must never come back; the graph keeps dead rows as routing nodes, so
    searching it without the alive mask would return them."""
    with eigenlake.connect(path=str(tmp_path / "s")) as client:
        idx, uids, data = _fill(client, MODES[mode])

        idx.records.remove(uids[1])
        assert uids[1] not in _top(idx, data[1])

        idx.records.update(uids[2], vector=-data[2])  # new row; the old one dies
        hits = idx.search.nearest(vector=data[2], limit=N)["results"]
        assert [h["uuid"] for h in hits].count(uids[2]) == 1
        assert hits[-1]["uuid"] == uids[2]  # found at its new place only

        idx.records.add(properties={"i": 3}, vector=-data[3], id=uids[3], on_duplicate="replace")
        top = _top(idx, data[3])
        assert uids[3] not in top

        idx.records.remove_many(filter={"i": {"$in": [4, 5]}})
        assert not {uids[4], uids[5]} & set(_top(idx, data[4]) + _top(idx, data[5]))

        # the same holds after a reopen, where dead rows may stay as placeholders
        client.close()
        with eigenlake.connect(path=str(tmp_path / "s")) as again:
            idx2 = again.indexes.open(namespace="f", index="i")
            for i in (1, 3, 4, 5):
                assert uids[i] not in _top(idx2, data[i])


@pytest.mark.parametrize("mode", sorted(MODES))
def test_writes_by_another_client_end_the_unmasked_search(tmp_path: Path, mode: str) -> None:
    path = str(tmp_path / "s")
    with eigenlake.connect(path=path) as a, eigenlake.connect(path=path) as b:
        ia, uids, data = _fill(a, MODES[mode])
        assert _top(ia, data[9], 1) == [uids[9]]
        ib = b.indexes.open(namespace="f", index="i")
        ib.records.remove(uids[9])
        ib.records.update(uids[10], vector=-data[10])
        assert uids[9] not in _top(ia, data[9])
        assert uids[10] not in _top(ia, data[10])


@pytest.mark.parametrize("mode", sorted(MODES))
def test_writes_by_another_process_end_the_unmasked_search(tmp_path: Path, mode: str) -> None:
    path = str(tmp_path / "s")
    with eigenlake.connect(path=path) as client:
        idx, uids, data = _fill(client, MODES[mode])
        assert _top(idx, data[11], 1) == [uids[11]]
        proc = subprocess.run(
            [sys.executable, "-c", WRITER, path, uids[11], uids[12]],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        assert uids[11] not in _top(idx, data[11])
        assert uids[12] not in _top(idx, data[12])
        assert _top(idx, -np.ones(DIM, dtype=np.float32), 1) == [uids[12]]


# ---- the query check -----------------------------------------------------------------


@pytest.mark.parametrize("cosine", [True, False])
def test_query_row_rejects_what_cannot_be_searched(cosine: bool) -> None:
    for bad in (np.nan, np.inf, -np.inf):
        vec = np.ones(DIM, dtype=np.float32)
        vec[5] = bad
        with pytest.raises(ValidationError, match="query: vector contains NaN or infinity"):
            query_row(vec, DIM, cosine)
    with pytest.raises(ValidationError, match="dimensions"):
        query_row(np.ones(DIM + 1), DIM, cosine)
    zero = np.zeros(DIM, dtype=np.float32)
    if cosine:
        with pytest.raises(ValidationError, match="all zeros"):
            query_row(zero, DIM, cosine)
    else:
        assert not query_row(zero, DIM, cosine).any()  # a point like any other for l2


@pytest.mark.parametrize("cosine", [True, False])
def test_query_row_shapes_and_leaves_the_callers_array(cosine: bool) -> None:
    wide = np.arange(1, 2 * DIM + 1, dtype=np.float32).reshape(DIM, 2)
    column = wide[:, 0]  # not contiguous
    before = column.copy()
    row = query_row(column, DIM, cosine)
    assert row.shape == (1, DIM) and row.dtype == np.float32 and row.flags.c_contiguous
    np.testing.assert_array_equal(column, before)
    want = before / np.linalg.norm(before) if cosine else before
    np.testing.assert_allclose(row[0], want, rtol=1e-6)
    np.testing.assert_allclose(query_row(before.tolist(), DIM, cosine), row, rtol=1e-6)


def test_query_row_huge_values_are_not_an_error_or_a_warning() -> None:
    huge = np.full(DIM, 1e30, dtype=np.float32)  # its square norm overflows float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(query_row(huge, DIM, False)[0], huge)
        unit = query_row(huge, DIM, True)[0]
    np.testing.assert_allclose(np.linalg.norm(unit.astype(np.float64)), 1.0, rtol=1e-6)
    np.testing.assert_allclose(unit, np.full(DIM, 1 / np.sqrt(DIM)), rtol=1e-6)


def test_huge_stored_vectors_are_normalised_not_zeroed() -> None:
    from eigenlake.vectors import normalise_in_place

    m = np.vstack([np.full(DIM, 3e19, np.float32), np.zeros(DIM, np.float32)])
    normalise_in_place(m)
    np.testing.assert_allclose(m[0], np.full(DIM, 1 / np.sqrt(DIM)), rtol=1e-6)
    assert not m[1].any()


# ---- the cursor ----------------------------------------------------------------------


def test_cursor_text_is_what_json_would_write() -> None:
    uid, qhash = "0b7e8d1c-1234-5678-9abc-def012345678", "abcdef0123456789"
    for dist in (0.0, -0.0, 0.1, 1e-300, 0.30000000000000004, 2.0, 1e22, float("inf")):
        raw = json.dumps({"o": 12, "d": dist, "u": uid, "h": qhash}).encode()
        want = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        got = encode_nearest_cursor(12, dist, uid, qhash)
        assert got == want
        assert decode_nearest_cursor(got, qhash) == (12, (dist, uid))


@settings(max_examples=300, deadline=None)
@given(
    dist=st.floats(allow_nan=True, allow_infinity=True),
    offset=st.integers(0, 2**53),
)
def test_cursor_text_is_what_json_would_write_for_any_float(dist: float, offset: int) -> None:
    """The core writes the cursor (``_core.nearest_cursor``); Python's ``json`` is the
    oracle, exponent form (``1e-05``, ``1e+16``) and non-finite names included."""
    uid, qhash = "0b7e8d1c-1234-5678-9abc-def012345678", "abcdef0123456789"
    raw = json.dumps({"o": offset, "d": dist, "u": uid, "h": qhash}).encode()
    assert encode_nearest_cursor(offset, dist, uid, qhash) == (
        base64.urlsafe_b64encode(raw).decode().rstrip("=")
    )


@settings(max_examples=200, deadline=None)
@given(
    q=hnp.arrays(np.float32, st.integers(1, 40), elements=st.floats(-1e6, 1e6, width=32)),
    text=st.binary(max_size=40),
    step=st.integers(1, 3),
)
def test_query_hash_is_the_xxh3_of_the_row_and_filter(
    q: np.ndarray, text: bytes, step: int
) -> None:
    """``_core.query_hash`` against the reference XXH3 (the ``xxhash`` package), for
    contiguous and strided rows (read in C order, as the bytes ``tobytes`` gives)."""
    view = q[::step]
    want = xxhash.xxh3_64(view.tobytes() + text).hexdigest()
    assert query_hash_of(view, text) == want
    assert query_hash_of(view.reshape(1, -1), text) == want


@settings(max_examples=200, deadline=None)
@given(
    q=hnp.arrays(
        np.float32,
        st.integers(1, 70),
        elements=st.floats(width=32, allow_nan=False, allow_infinity=False),
    ),
    cosine=st.booleans(),
)
def test_query_row_is_the_float64_unit_row(q: np.ndarray, cosine: bool) -> None:
    """The core's row (the bytes a cursor's hash covers) is the row scaled by the float64
    norm, rounded once to float32, the same bytes on every call; l2 rows are kept as given."""
    sq = float(np.sum(q.astype(np.float64) ** 2))
    if cosine and sq == 0.0:
        with pytest.raises(ValidationError, match="all zeros"):
            query_row(q, len(q), cosine)
        return
    row = query_row(q, len(q), cosine)
    again = query_row(q.copy(), len(q), cosine)
    assert row.tobytes() == again.tobytes()
    want = (q.astype(np.float64) / np.sqrt(sq)).astype(np.float32) if cosine else q
    # the f64 sums may differ in their last bits (lane order), the f32 rounding by one ulp
    np.testing.assert_array_max_ulp(row[0], want, maxulp=1)


def test_the_graph_first_page_checks_the_query_as_the_general_path(tmp_path: Path) -> None:
    """The graph's one-call page (``Hnsw.first_page``) checks the caller's vector in the
    core: bad ones reach the general path's error, a float64 query is the float32 one."""
    with eigenlake.connect(path=str(tmp_path / "lake")) as c:
        idx, _, data = _fill(c, MODES["graph"])
        idx.search.prepare()  # the graph covers every row: it answers alone
        calls: list[Any] = []
        first = ann.AnnState.first_page

        def spy(self: Any, *args: Any) -> Any:
            calls.append(found := first(self, *args))
            return found

        ann.AnnState.first_page = spy  # type: ignore[method-assign]
        try:
            for bad, match in [
                (np.full(DIM, np.nan, np.float32), "NaN or infinity"),
                (np.zeros(DIM, np.float32), "all zeros"),
                (np.full(DIM, 1e300), "NaN or infinity"),  # float64 past float32's range
                (np.ones(DIM + 1, np.float32), "dimensions"),
            ]:
                calls.clear()
                with pytest.raises(ValidationError, match=match):
                    idx.search.nearest(vector=bad, limit=3)
                assert calls == [None]  # the core gave way, the general path refused
            calls.clear()
            q32 = data[7] + np.float32(0.25)
            fast = idx.search.nearest(vector=q32, limit=4)
            wide = idx.search.nearest(vector=q32.astype(np.float64), limit=4)
            ints = idx.search.nearest(vector=np.arange(DIM), limit=4)
        finally:
            ann.AnnState.first_page = first  # type: ignore[method-assign]
        assert len(calls) == 3 and calls[0] is not None and calls[1] is not None
        assert calls[2] is None  # integers: the general path converts them
        assert fast["results"] == wide["results"]
        assert fast["next_after"] == wide["next_after"] is not None
        # the cursor pages on through the general path, which rebuilds the same hash
        nxt = idx.search.nearest(vector=q32, limit=4, after=fast["next_after"])
        assert {h["uuid"] for h in nxt["results"]}.isdisjoint(h["uuid"] for h in fast["results"])
        assert ints["results"]


def test_the_filtered_first_page_checks_the_query_as_the_general_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A remembered filter's one-call page (``_core.kept_page``) checks the caller's
    vector in the core: bad ones reach the general path's error; a float64 query answers
    as its float32 twin, cursor included, and the cursor pages on."""
    from eigenlake import _core

    with eigenlake.connect(path=str(tmp_path / "lake")) as c:
        idx, _, data = _fill(c, MODES["exact"])
        flt = {"i": {"$lt": 300}}
        idx.search.nearest(vector=data[0], limit=3, filter=flt)  # the memo names it
        calls: list[Any] = []
        page = _core.kept_page

        def spy(*a: Any) -> Any:
            calls.append(found := page(*a))
            return found

        monkeypatch.setattr(_core, "kept_page", spy)
        for bad, match in [
            (np.full(DIM, np.inf, np.float32), "NaN or infinity"),
            (np.zeros(DIM, np.float32), "all zeros"),
            (np.ones(DIM - 1, np.float32), "dimensions"),
        ]:
            calls.clear()
            with pytest.raises(ValidationError, match=match):
                idx.search.nearest(vector=bad, limit=3, filter=flt)
            assert calls == [None]
        calls.clear()
        q32 = data[3] - np.float32(0.5)
        fast = idx.search.nearest(vector=q32, limit=4, filter=flt)
        wide = idx.search.nearest(vector=q32.astype(np.float64), limit=4, filter=flt)
        assert len(calls) == 2 and None not in calls
        assert fast["results"] == wide["results"]
        assert fast["next_after"] == wide["next_after"] is not None
        nxt = idx.search.nearest(vector=q32, limit=4, filter=flt, after=fast["next_after"])
        seen = {h["uuid"] for h in fast["results"]}
        assert nxt["results"] and seen.isdisjoint(h["uuid"] for h in nxt["results"])
        assert all(h["metadata"]["i"] < 300 for h in fast["results"] + nxt["results"])
