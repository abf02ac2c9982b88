"""Filtered single queries (issue #19): the scan of a filter's row list
(``_core.flat_topk_rows``, on the calling thread when short) answers exactly as the
masked scan, and the cache's memo of filters' rows (``embedded/kept_rows.py``) never
answers from rows a write, remove, update or reload has changed since."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import eigenlake
from eigenlake import _core
from eigenlake.api import usage
from eigenlake.embedded.cache import Cache
from eigenlake.embedded.cursors import encode_nearest_cursor, query_hash_of
from eigenlake.embedded.kept_rows import GATHER_MAX_FLOATS, MEMO_SIZE, Kept
from eigenlake.embedded.prop_store import PropStore

_NAMES = itertools.count()


# ---- the core's row-list scan -------------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    n=st.integers(1, 60),
    dims=st.integers(1, 9),
    nq=st.integers(1, 5),
    k=st.integers(0, 70),
    metric=st.sampled_from(["ip", "l2"]),
)
def test_row_list_scan_answers_as_the_mask(
    seed: int, n: int, dims: int, nq: int, k: int, metric: str
) -> None:
    """Same ids and scores as ``flat_topk`` with the mask keeping those rows (one, few
    and batched queries); ties (small integers, repeated rows) by smaller id, as a NumPy
    brute force orders them."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, size=(n, dims)).astype(np.float32)
    x[rng.integers(0, n, n // 3)] = x[0]
    q = rng.integers(-2, 3, size=(nq, dims)).astype(np.float32)
    mask = rng.random(n) < rng.random()
    rows = np.flatnonzero(mask).astype(np.int64)
    ids, scores = _core.flat_topk_rows(x, q, k, metric, rows)
    want_ids, want_scores = _core.flat_topk(x, q, k, metric, mask)
    np.testing.assert_array_equal(ids, want_ids)
    np.testing.assert_array_equal(scores, want_scores)
    # the oracle: exact in float32 (small integers), ordered by (score, id)
    for i in range(nq):
        s = x @ q[i] if metric == "ip" else ((x - q[i]) ** 2).sum(axis=1)
        kept = np.flatnonzero(mask)
        key = -s[kept] if metric == "ip" else s[kept]
        order = kept[np.lexsort((kept, key))][: min(k, n)]
        assert ids[i, : len(order)].tolist() == order.tolist()
        assert (ids[i, len(order) :] == -1).all()


def test_a_long_row_list_goes_to_the_pool_with_the_same_answer() -> None:
    """Past 8,192 rows the scan is split over the pool; the answer stays the mask's."""
    rng = np.random.default_rng(3)
    x = rng.integers(-3, 4, size=(20_000, 4)).astype(np.float32)
    q = rng.integers(-3, 4, size=(1, 4)).astype(np.float32)
    for keep in (0.3, 0.6):  # 6k rows (inline) and 12k rows (pool)
        mask = rng.random(len(x)) < keep
        rows = np.flatnonzero(mask)
        for metric in ("ip", "l2"):
            got = _core.flat_topk_rows(x, q, 25, metric, rows)
            want = _core.flat_topk(x, q, 25, metric, mask)
            np.testing.assert_array_equal(got[0], want[0])
            np.testing.assert_array_equal(got[1], want[1])


def test_row_list_refuses_rows_out_of_range() -> None:
    x = np.ones((5, 3), dtype=np.float32)
    q = np.ones((1, 3), dtype=np.float32)
    for bad in ([5], [-1], [0, 2**40], [2, 1], [1, 1]):  # out of range, out of order
        with pytest.raises(ValueError, match="rows"):
            _core.flat_topk_rows(x, q, 2, "ip", np.array(bad, dtype=np.int64))
    with pytest.raises((ValueError, TypeError), match="rows"):
        _core.flat_topk_rows(x, q, 2, "ip", np.array([0.5]))
    ids, _ = _core.flat_topk_rows(x, q, 2, "ip", np.array([], dtype=np.int64))
    assert ids.tolist() == [[-1, -1]]


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    n=st.sampled_from([1, 7, 60, 300, 20_000]),  # 20k: over 8,192 kept, the pool's split
    dims=st.integers(1, 9),
    k=st.integers(0, 70),
    metric=st.sampled_from(["ip", "l2"]),
    pool=st.booleans(),
)
def test_kept_scan_answers_as_the_mask(
    seed: int, n: int, dims: int, k: int, metric: str, pool: bool
) -> None:
    """``_core.kept_topk`` (a filter's rows, in place or as their copy) gives the ids and
    scores of ``flat_topk`` with the mask; ``kept_page`` the hits ``page_hits`` builds
    from them. Ties (small integers, repeated rows, ties across the 4-row kernel's
    groups) go to the smaller row either way."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, size=(n, dims)).astype(np.float32)
    x[rng.integers(0, n, n // 3)] = x[0]
    q = rng.integers(-2, 3, size=(1, dims)).astype(np.float32)
    mask = rng.random(n) < rng.random()
    rows = np.flatnonzero(mask).astype(np.int64)
    block = np.ascontiguousarray(x[rows])
    codes = _core.QuantizedFlat(block)  # scanned as codes past 256 rows (n=300, 20k)
    want_ids, want_scores = _core.flat_topk(x, q, k, metric, mask)
    for copy in (None, block, codes, (codes, block)):
        ids, scores = _core.kept_topk(x, q, k, metric, rows, copy, pool)
        np.testing.assert_array_equal(ids, want_ids[:, : ids.shape[1]])
        np.testing.assert_array_equal(scores, want_scores[:, : ids.shape[1]])
        assert (want_ids[:, ids.shape[1] :] == -1).all()  # only padding past the rows
        uuids = _core.parse_uuids([f"{i:08d}-0000-4000-8000-000000000000" for i in range(n)])
        props = PropStore()
        props.append([{"i": i} for i in range(n)])
        limit = max(k, 1)
        cosine = metric == "ip"
        flt = b'{"f": 1}'
        first = _core.kept_page(x, q[0], limit, metric, rows, copy, pool, uuids, props, cosine, flt)
        qrow = _core.query_row(q[0], cosine)  # the row the core searched with
        if qrow is None:  # all zeros on a cosine index: no query, the general path says so
            assert first is None
            continue
        want_k = min(limit + 1, n)
        w_ids, w_scores = _core.flat_topk(x, qrow, want_k, metric, mask)
        hits, more = _core.page_hits(w_ids, w_scores, limit, uuids, props, cosine)
        assert [h["metadata"] for h in hits] == [{"i": int(h["uuid"][:8])} for h in hits]
        want_next = None
        if more:
            last = hits[-1]
            qhash = query_hash_of(qrow, flt)
            want_next = encode_nearest_cursor(limit, last["distance"], last["uuid"], qhash)
        assert first == (hits, want_next)


def test_kept_scan_refuses_a_block_of_another_shape() -> None:
    x = np.ones((5, 3), dtype=np.float32)
    q = np.ones((1, 3), dtype=np.float32)
    rows = np.array([1, 3], dtype=np.int64)
    for bad in (np.ones((3, 3), np.float32), np.ones((2, 4), np.float32)):
        with pytest.raises(ValueError, match="block"):
            _core.kept_topk(x, q, 2, "ip", rows, bad)
    with pytest.raises(ValueError, match="block"):  # codes of 4-d rows
        _core.kept_topk(x, q, 2, "ip", rows, _core.QuantizedFlat(np.ones((2, 4), np.float32)))
    with pytest.raises(ValueError, match="rows"):  # codes of 3 rows, 2 listed
        _core.kept_topk(x, q, 2, "ip", rows, _core.QuantizedFlat(np.ones((3, 3), np.float32)))
    two = np.ones((2, 3), np.float32)
    for pair in (
        (_core.QuantizedFlat(np.ones((3, 3), np.float32)), two),  # 3 codes, 2 rows
        (_core.QuantizedFlat(two), np.ones((3, 3), np.float32)),
    ):
        with pytest.raises(ValueError, match="rows|block"):
            _core.kept_topk(x, q, 2, "ip", rows, pair)
    with pytest.raises(ValueError, match="rows"):
        _core.kept_topk(x, q, 2, "ip", np.array([3, 1], dtype=np.int64))
    with pytest.raises(ValueError, match="one row"):
        _core.kept_topk(x, np.ones((2, 3), np.float32), 2, "ip", rows)


# ---- the memo of filters' rows ------------------------------------------------------------

FILTERS = [
    {"b": {"$lt": 2}},
    {"b": {"$in": [1, 3]}},
    {"$or": [{"b": {"$gte": 3}}, {"t": "x"}]},
    {"t": {"$ne": "y"}},
]


class Model:
    """What the index holds, by uuid in row order: (vector, properties), for the brute
    force."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple[np.ndarray, dict[str, Any]]] = {}

    def matches(self, props: dict[str, Any], flt: dict[str, Any]) -> bool:
        b, t = props.get("b"), props.get("t")
        if flt is FILTERS[0]:
            return b is not None and b < 2
        if flt is FILTERS[1]:
            return b in (1, 3)
        if flt is FILTERS[2]:
            return (b is not None and b >= 3) or t == "x"
        return t != "y"

    def nearest(self, q: np.ndarray, limit: int, flt: dict[str, Any]) -> list[str]:
        """The exact euclidean answer (integer vectors: squared distances exact): the
        kernel keeps the limit + 1 nearest, ties by row (``rows`` is in row order), and
        the page orders them by distance, ties by uuid."""
        hits = [
            (float(((v - q) ** 2).sum()), row, uid)
            for row, (uid, (v, p)) in enumerate(self.rows.items())
            if self.matches(p, flt)
        ]
        kept = sorted(hits)[: limit + 1]
        return [uid for _, uid in sorted((d, uid) for d, _, uid in kept)[:limit]]


def _plain(answer: Any) -> dict[str, Any]:
    out = usage.complete(dict(answer, usage=dict(answer["usage"])), "nearest", 0.0)
    out["usage"].pop("compute_ms")
    return dict(out)


def _memo_len(idx: Any) -> int:
    with idx.reading() as view:
        return len(view.cache.kept_memo)


def _check(idx: Any, model: Model, q: np.ndarray, limit: int) -> None:
    """Each filter's answer (the memo's rows when the filter ran on this state) is the
    answer made with an empty memo, and the brute force's."""
    # twice: the second scan reads the memo's copy of the kept rows (``Kept.block``)
    got = [idx.search.nearest(vector=q, limit=limit, filter=flt) for flt in FILTERS]
    again = [idx.search.nearest(vector=q, limit=limit, filter=flt) for flt in FILTERS]
    assert _memo_len(idx) == len(FILTERS)  # every filter's rows remembered (or found there)
    with idx.reading() as view:
        view.cache.kept_memo.clear()
    # made anew, and remembered for the next check (after the next write)
    fresh = [idx.search.nearest(vector=q, limit=limit, filter=flt) for flt in FILTERS]
    for flt, a, b, c in zip(FILTERS, got, again, fresh, strict=True):
        assert _plain(a) == _plain(c)
        assert _plain(b) == _plain(c)
        assert [h["uuid"] for h in a["results"]] == model.nearest(q, limit, flt)


def _vec(rng: np.random.Generator, dims: int) -> np.ndarray:
    v = rng.integers(-2, 3, size=dims).astype(np.float32)
    return v


props_st = st.fixed_dictionaries(
    {}, optional={"b": st.integers(0, 4), "t": st.sampled_from(["x", "y", "z"])}
)
op_st = st.one_of(
    st.tuples(st.just("add"), st.lists(props_st, min_size=1, max_size=6)),
    st.tuples(st.just("columns"), st.lists(st.integers(0, 4), min_size=1, max_size=6)),
    st.tuples(st.just("remove"), st.integers(0, 10**6)),
    st.tuples(st.just("props"), st.integers(0, 10**6), props_st),
    st.tuples(st.just("vector"), st.integers(0, 10**6)),
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with eigenlake.connect(path=str(tmp_path_factory.mktemp("kept") / "lake")) as c:
        yield c


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 2**16),
    graph=st.booleans(),
    dims=st.integers(2, 5),
    limit=st.integers(1, 6),
    ops=st.lists(op_st, min_size=1, max_size=8),
)
def test_remembered_rows_follow_every_write(
    client: Any, seed: int, graph: bool, dims: int, limit: int, ops: list[Any]
) -> None:
    """Writes, removes, property and vector updates between queries of the same filters:
    every answer is the one an empty memo gives, and the brute force's."""
    options: dict[str, Any] = {"distance_metric": "euclidean"}
    if graph:  # a graph above 8 rows: filtered queries still scan their rows exactly
        options["exact_threshold"] = 8
    idx = client.indexes.create_or_get(
        namespace="kept", index=f"i{next(_NAMES)}", dimensions=dims, index_options=options
    )
    rng = np.random.default_rng(seed)
    model = Model()
    q = _vec(rng, dims)
    try:
        first = [
            {"properties": {"b": i % 5, "t": "xyz"[i % 3]}, "vector": _vec(rng, dims)}
            for i in range(12)
        ]
        for uid, rec in zip(idx.records.add_many(first), first, strict=True):
            model.rows[uid] = (rec["vector"], rec["properties"])
        _check(idx, model, q, limit)
        for op in ops:
            uids = sorted(model.rows)
            if op[0] == "add":
                recs = [{"properties": p, "vector": _vec(rng, dims)} for p in op[1]]
                for uid, rec in zip(idx.records.add_many(recs), recs, strict=True):
                    model.rows[uid] = (rec["vector"], rec["properties"])
            elif op[0] == "columns":  # a columnar write (Cache.commit_scratch_columns)
                x = np.stack([_vec(rng, dims) for _ in op[1]])
                for uid, v, b in zip(
                    idx.records.add_many({"b": op[1]}, vectors=x), x, op[1], strict=True
                ):
                    model.rows[uid] = (v, {"b": b})
            elif not uids:
                continue
            elif op[0] == "remove":
                uid = uids[op[1] % len(uids)]
                idx.records.remove(uid)
                del model.rows[uid]
            elif op[0] == "props":
                uid = uids[op[1] % len(uids)]
                idx.records.replace(id=uid, properties=op[2])  # same row, new values
                model.rows[uid] = (model.rows[uid][0], op[2])
            else:
                uid = uids[op[1] % len(uids)]
                v = _vec(rng, dims)
                idx.records.update(uid, vector=v)  # a new row at the end
                model.rows[uid] = (v, model.rows.pop(uid)[1])
            _check(idx, model, q, limit)
    finally:
        idx.manage.delete()


def test_the_check_catches_a_memo_that_ignores_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the cache's change notice switched off, the memo answers from the rows
    before a write and ``_check`` fails: the property test above can fail."""
    with eigenlake.connect(path=str(tmp_path / "lake")) as c:
        idx = c.indexes.create_or_get(
            namespace="s", index="i", dimensions=2, index_options={"distance_metric": "euclidean"}
        )
        model = Model()
        q = np.zeros(2, dtype=np.float32)
        recs = [{"properties": {"b": 0, "t": "x"}, "vector": [float(i + 1), 0.0]} for i in range(6)]
        for uid, rec in zip(idx.records.add_many(recs), recs, strict=True):
            model.rows[uid] = (np.asarray(rec["vector"], np.float32), rec["properties"])
        _check(idx, model, q, 3)
        idx.search.nearest(vector=q, limit=3, filter=FILTERS[0])  # remembered
        monkeypatch.setattr(Cache, "_changed", lambda self: None)
        near = {"properties": {"b": 0, "t": "x"}, "vector": [0.5, 0.0]}
        (uid,) = idx.records.add_many([near])
        model.rows[uid] = (np.asarray(near["vector"], np.float32), near["properties"])
        got = idx.search.nearest(vector=q, limit=3, filter=FILTERS[0])
        assert uid not in [h["uuid"] for h in got["results"]]  # stale: the new row is missed
        idx.search.nearest(vector=q, limit=3, filter=FILTERS[0])  # remembered again
        with pytest.raises(AssertionError):
            _check(idx, model, q, 3)
        monkeypatch.undo()
        _check(idx, model, q, 3)


def test_another_client_write_reloads_the_memo(tmp_path: Path) -> None:
    """A write by another client (a reload here: a new cache) is seen by a repeated
    filter; the memo keeps at most ``MEMO_SIZE`` filters."""
    path = str(tmp_path / "lake")
    with eigenlake.connect(path=path) as a, eigenlake.connect(path=path) as b:
        ia = a.indexes.create_or_get(
            namespace="s", index="i", dimensions=2, index_options={"distance_metric": "euclidean"}
        )
        ib = b.indexes.create_or_get(
            namespace="s", index="i", dimensions=2, index_options={"distance_metric": "euclidean"}
        )
        model = Model()
        q = np.zeros(2, dtype=np.float32)
        recs = [{"properties": {"b": 1, "t": "x"}, "vector": [float(i + 1), 1.0]} for i in range(5)]
        for uid, rec in zip(ia.records.add_many(recs), recs, strict=True):
            model.rows[uid] = (np.asarray(rec["vector"], np.float32), rec["properties"])
        _check(ia, model, q, 2)
        near = {"properties": {"b": 1, "t": "x"}, "vector": [0.0, 0.5]}
        (uid,) = ib.records.add_many([near])
        model.rows[uid] = (np.asarray(near["vector"], np.float32), near["properties"])
        got = ia.search.nearest(vector=q, limit=2, filter=FILTERS[0])
        assert got["results"][0]["uuid"] == uid
        _check(ia, model, q, 2)
        for t in range(MEMO_SIZE + 3):
            ia.search.nearest(vector=q, limit=2, filter={"b": {"$lt": t}})
        assert _memo_len(ia) == MEMO_SIZE


def test_kept_rows_copy_their_vectors_from_the_second_scan() -> None:
    """``Kept.copy``: None on the first scan (a filter used once costs no copy), then
    the kept rows' vectors in row order, read-only; never past ``gather_limit``."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 3)).astype(np.float32)
    mask = rng.random(50) < 0.4
    kept = Kept.of_mask(mask.copy())
    assert kept.count == int(mask.sum())
    assert kept.rows.tolist() == np.flatnonzero(mask).tolist()
    assert kept.copy(x, True) is None
    block = kept.copy(x, True)  # fewer than CODE_MIN_ROWS: floats
    assert isinstance(block, np.ndarray) and not block.flags.writeable
    np.testing.assert_array_equal(block, x[mask])
    wide = np.zeros((4, GATHER_MAX_FLOATS // 2 + 1), dtype=np.float32)
    big = Kept.of_mask(np.array([True, True, False, False]))
    assert big.copy(wide, False) is None and big.copy(wide, False) is None


@pytest.mark.parametrize("kind", ["codes and floats", "codes", "floats"])
def test_many_kept_rows_are_copied_as_codes(monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    """From ``CODE_MIN_ROWS`` kept rows (and the index's ``quantized_scan``) the copy is
    of int8 codes, with the rows' floats while both fit, else the codes alone (made in
    steps); with codes off, the floats. A search over any of them answers as the float
    scan of the rows (ids, scores)."""
    from eigenlake.embedded import kept_rows

    monkeypatch.setattr(kept_rows, "_CODE_STEP", 100)  # several appends
    if kind == "codes":  # 991 rows: 44,600 bytes of codes fit, 44,600 + 95,136 do not
        monkeypatch.setattr(kept_rows, "GATHER_MAX_FLOATS", 12_000)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2000, 24)).astype(np.float32)
    mask = rng.random(2000) < 0.5
    kept = Kept.of_mask(mask)
    assert kept.count == 991 >= kept_rows.CODE_MIN_ROWS
    kept.copy(x, kind != "floats")
    copy = kept.copy(x, kind != "floats")
    if kind == "codes and floats":
        assert isinstance(copy, tuple) and isinstance(copy[0], _core.QuantizedFlat)
        np.testing.assert_array_equal(copy[1], x[mask])
    elif kind == "codes":
        assert isinstance(copy, _core.QuantizedFlat)
    else:
        assert isinstance(copy, np.ndarray)
    assert len(copy[0] if isinstance(copy, tuple) else copy) == kept.count
    q = rng.standard_normal((1, 24)).astype(np.float32)
    for metric in ("ip", "l2"):
        want = _core.flat_topk(x, q, 10, metric, mask)
        got = _core.kept_topk(x, q, 10, metric, kept.rows, copy, False)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])


def test_the_copy_limit_grows_with_the_matrix(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past ``GATHER_MAX_FLOATS``, a filter's rows are still copied while they hold at most
    1/``GATHER_SHARE`` of the matrix (over 1M rows, 1% of them); codes and floats while
    both fit that, codes alone (dim + 20 bytes a row) within ``CODES_SHARE`` times it."""
    from eigenlake.embedded import kept_rows

    monkeypatch.setattr(kept_rows, "GATHER_MAX_FLOATS", 64)
    x = np.arange(200 * 64, dtype=np.float32).reshape(200, 64)  # limit: 12,800 / 64 = 200
    assert kept_rows.gather_limit(x) == 200
    for keep, copied in ((3, True), (4, False)):  # 192 floats fit, 256 do not
        mask = np.zeros(200, dtype=bool)
        mask[[5, 50, 150, 199][:keep]] = True
        kept = Kept.of_mask(mask)
        kept.copy(x, False)
        block = kept.copy(x, False)
        assert (block is not None) == copied
        if copied:
            np.testing.assert_array_equal(block, x[mask])
    monkeypatch.setattr(kept_rows, "CODE_MIN_ROWS", 2)
    # codes and floats: 340 bytes a row, within 800; codes alone: 84, within 1,600
    for keep, want in ((2, tuple), (3, _core.QuantizedFlat), (19, _core.QuantizedFlat)):
        mask = np.zeros(200, dtype=bool)
        mask[:keep] = True
        kept = Kept.of_mask(mask)
        kept.copy(x, True)
        assert isinstance(kept.copy(x, True), want)
    mask = np.zeros(200, dtype=bool)
    mask[:20] = True  # 1,680 bytes of codes: no copy
    kept = Kept.of_mask(mask)
    kept.copy(x, True)
    assert kept.copy(x, True) is None


def test_a_long_scan_during_a_build_leaves_the_pool_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scan longer than ``INLINE_SCAN_ROWS`` is not taken while a graph build holds the
    pool (the search goes the graph's way, whose fallback scans on NumPy's threads); a
    shorter one is, on the calling thread (``pool`` False), by the general path and by
    the filtered fast path alike. Every answer is the brute force's."""
    from eigenlake.embedded import ann
    from eigenlake.embedded.index import View

    calls: list[tuple[str, bool]] = []
    topk, page = _core.kept_topk, _core.kept_page

    def topk_spy(*a: Any) -> Any:
        calls.append(("topk", a[6]))
        return topk(*a)

    def page_spy(*a: Any) -> Any:
        calls.append(("page", a[6]))
        return page(*a)

    monkeypatch.setattr(ann, "scan_beats_walk", lambda *a: True)
    monkeypatch.setattr(_core, "kept_topk", topk_spy)
    monkeypatch.setattr(_core, "kept_page", page_spy)
    with eigenlake.connect(path=str(tmp_path / "lake")) as c:
        idx = c.indexes.create_or_get(
            namespace="s",
            index="i",
            dimensions=2,
            index_options={"distance_metric": "euclidean", "exact_threshold": 8},
        )
        model = Model()
        recs = [
            {"properties": {"b": i % 2, "t": "x"}, "vector": [float(i), 1.0]} for i in range(80)
        ]
        for uid, rec in zip(idx.records.add_many(recs), recs, strict=True):
            model.rows[uid] = (np.asarray(rec["vector"], np.float32), rec["properties"])
        q = np.array([10.0, 1.0], dtype=np.float32)
        want = model.nearest(q, 3, FILTERS[0])
        monkeypatch.setattr(View, "graph_building", lambda self: True)
        monkeypatch.setattr(ann, "INLINE_SCAN_ROWS", 10)  # 80 rows count as long
        for _ in range(2):  # the general path, then the fast path (the filter is known)
            got = idx.search.nearest(vector=q, limit=3, filter=FILTERS[0])
            assert calls == [] and [h["uuid"] for h in got["results"]] == want
        monkeypatch.setattr(ann, "INLINE_SCAN_ROWS", 8192)
        got = idx.search.nearest(vector=q, limit=3, filter=FILTERS[0])
        assert calls == [("page", False)] and [h["uuid"] for h in got["results"]] == want
        got = idx.search.nearest(vector=q, limit=3, filter=dict(FILTERS[0]), after=None)
        got = idx.search._nearest(q, 3, FILTERS[0], None, False)  # the general path
        assert calls[1:] == [("page", False), ("topk", False)]
        assert [h["uuid"] for h in got["results"]] == want


class _Text(str):
    """A str subclass: its repr is a plain str's, so a filter holding it has no key."""


_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=3),
    st.builds(_Text, st.text(max_size=2)),
    st.builds(np.int64, st.integers(-5, 5)),
    st.tuples(st.integers()),
)
_NESTED = st.recursive(
    _LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(st.text(max_size=3), st.integers(0, 3)), inner, max_size=3),
    ),
    max_leaves=8,
)


def _plain_oracle(value: Any) -> bool:
    """Only dicts keyed by exact str, lists, and exact str/int/float/bool/None inside."""
    if type(value) is dict:
        return all(type(k) is str and _plain_oracle(v) for k, v in value.items())
    if type(value) is list:
        return all(_plain_oracle(v) for v in value)
    return type(value) in (str, int, float, bool, type(None))


@settings(max_examples=400, deadline=None)
@given(body=st.dictionaries(st.text(max_size=3), _NESTED, max_size=3))
def test_filter_key_names_plain_filters_only(body: dict[str, Any]) -> None:
    """``filter_key`` gives ``repr`` of a filter made only of JSON's own types (its text
    then names it exactly) and None for anything else: a subclass, a tuple, a NumPy
    number or a non-str key anywhere inside."""
    from eigenlake.embedded.kept_rows import filter_key

    got = filter_key(body)
    assert (got is not None) == _plain_oracle(body)
    if got is not None:
        assert got == repr(body)


def test_a_coded_copy_moves_the_scan_or_walk_line() -> None:
    """A filter whose rows are scanned as codes (``Kept.coded``: what ``copy`` makes) is
    scanned up to twice as many kept rows as one scanned as floats before a masked walk
    takes over: at 20,000 rows and ef 64 the line is 6·√(64·20,000) ≈ 6,788 rows, 13,576
    coded."""
    from eigenlake.embedded import ann, kept_rows

    for kept, floats, coded in ((6_000, True, True), (9_000, False, True), (14_000, False, False)):
        assert ann.scan_beats_walk(kept, 20_000, 11, None) == floats
        assert ann.scan_beats_walk(kept, 20_000, 11, None, coded=True) == coded
    x = np.zeros((20_000, 8), dtype=np.float32)
    for count, fits in ((kept_rows.CODE_MIN_ROWS - 1, False), (9_000, True)):
        mask = np.zeros(20_000, dtype=bool)
        mask[:count] = True
        kept = Kept.of_mask(mask)
        assert kept.coded(x, True) == fits and not kept.coded(x, False)
        kept.copy(x, True)
        copy = kept.copy(x, True)
        made = isinstance(copy, (_core.QuantizedFlat, tuple))
        assert made == fits
