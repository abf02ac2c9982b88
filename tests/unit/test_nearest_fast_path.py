"""The one-query ``nearest`` fast path (issue #19): ``Search.nearest`` skips its argument
checks when the arguments' exact types say they would pass unchanged, and the embedded
search answers a query without filter, cursor or vectors in fewer steps
(``Search._nearest_plain``), and one with a filter it ran before on the same rows in one
core call (``Search._nearest_filtered``). Each must give exactly the answer of the general
path, refuse exactly what it refuses, and hand out properties the caller may change."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import eigenlake
from eigenlake.api import usage
from eigenlake.api.answers import NearestResult
from eigenlake.api.checks import MAX_LIMIT
from eigenlake.errors import ValidationError

_NAMES = itertools.count()

# one type per property (the schema is inferred from the first record that has it): a
# scalar, a list and a free-form object, which the answer must copy deeply
properties = st.fixed_dictionaries(
    {},
    optional={
        "n": st.integers(-1000, 1000),
        "t": st.text(max_size=5),
        "tags": st.lists(st.text(max_size=3), max_size=3),
        "obj": st.dictionaries(st.sampled_from("xy"), st.lists(st.integers(0, 9), max_size=2)),
    },
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with eigenlake.connect(path=str(tmp_path_factory.mktemp("fast") / "lake")) as c:
        yield c


def _general(idx: Any, vector: Any, limit: int, flt: Any = None) -> dict[str, Any]:
    """The answer of the general embedded path (``_nearest_in``, as a paged query takes),
    for the same query."""
    search = idx.search
    with idx.reading() as view:
        search._view = view
        try:
            return dict(search._nearest_in(view, vector, limit, flt, None, False))
        finally:
            search._view = None


def _plain(answer: dict[str, Any]) -> dict[str, Any]:
    """An answer, its usage completed, without its timing (``usage.compute_ms`` differs
    between two calls)."""
    out = usage.complete(dict(answer, usage=dict(answer["usage"])), "nearest", 0.0)
    out["usage"].pop("compute_ms")
    return dict(out)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=st.data(),
    metric=st.sampled_from(["cosine", "euclidean"]),
    graph=st.booleans(),
    dims=st.integers(2, 6),
    rows=st.integers(0, 60),
    limit=st.one_of(st.integers(1, 4), st.integers(1, 70)),
)
def test_the_fast_path_answers_as_the_general_path(
    client: Any, data: Any, metric: str, graph: bool, dims: int, rows: int, limit: int
) -> None:
    # "graph": HNSW above 8 live rows (the threshold the options set) and 8 x (limit + 1)
    # rows kept, else exact scans
    options: dict[str, Any] = {"distance_metric": metric}
    if graph:
        options["exact_threshold"] = 8
    idx = client.indexes.create_or_get(
        namespace="fast", index=f"i{next(_NAMES)}", dimensions=dims, index_options=options
    )
    try:
        _compare(idx, data, dims, rows, limit)
    finally:
        idx.manage.delete()


def _compare(idx: Any, data: Any, dims: int, rows: int, limit: int) -> None:
    seed = data.draw(st.integers(0, 2**16), label="seed")
    rng = np.random.default_rng(seed)
    # few distinct values and repeated rows: ties in distance, broken by uuid
    x = rng.integers(-2, 3, size=(rows, dims)).astype(np.float32)
    x[np.all(x == 0, axis=1)] = 1.0  # no zero vector (a cosine index refuses one)
    if rows > 3:
        x[rows // 2] = x[0]
    props = [data.draw(properties, label="properties") for _ in range(rows)]
    uids = idx.records.add_many(
        [{"properties": p, "vector": v} for p, v in zip(props, x, strict=True)]
    )
    removed = (
        data.draw(st.sets(st.sampled_from(uids), max_size=5), label="removed") if uids else set()
    )
    for uid in removed:  # dead rows: the search takes the alive mask
        idx.records.remove(uid)
    idx.search.prepare()
    q = rng.integers(-2, 3, size=dims).astype(np.float32)
    q[0] = 1.0 if not q.any() else q[0]

    fast = idx.search.nearest(vector=q, limit=limit)
    assert type(fast) is NearestResult
    want = _general(idx, q, limit)
    assert _plain(fast) == _plain(want)
    assert set(fast["usage"]) == {"records_scanned", "compute_ms", "search_units"}
    assert fast["usage"]["records_scanned"] == rows - len(removed)
    # the protocol's checks (limit a NumPy int, vector a list) give the same answer
    checked = idx.search.nearest(vector=q.tolist(), limit=np.int64(limit))
    assert _plain(checked) == _plain(fast)
    # a filtered first page (`_first_page`, hits built by the core) as the general path's
    ns = [p["n"] for p in props if "n" in p]
    if ns:
        flt = {"n": {"$gte": data.draw(st.sampled_from(ns), label="n at least")}}
        filtered = idx.search.nearest(vector=q, limit=limit, filter=flt)
        assert _plain(filtered) == _plain(_general(idx, q, limit, flt))
    # and the cursor pages on exactly as the general path's does
    if fast["next_after"] is not None:
        nxt = idx.search.nearest(vector=q, limit=limit, after=fast["next_after"])
        seen = {h["uuid"] for h in fast["results"]}
        assert not seen & {h["uuid"] for h in nxt["results"]}
    else:
        assert len(fast["results"]) == rows - len(removed)


def test_properties_handed_out_are_copies(tmp_path: Path) -> None:
    with eigenlake.connect(path=str(tmp_path / "lake")) as c:
        idx = c.indexes.create_or_get(namespace="f", index="i", dimensions=3)
        p = {"tags": ["a", "b"], "meta": {"k": [1, 2]}, "n": 1}
        idx.records.add_many([{"properties": p, "vector": [1, 0, 0]}])
        idx.records.add_many([{"properties": {"n": 2}, "vector": [0, 1, 0]}])
        q = np.array([1, 0, 0], dtype=np.float32)
        for hit in idx.search.nearest(vector=q, limit=2)["results"]:
            meta = hit["metadata"]
            meta["n"] = 99
            if "tags" in meta:
                meta["tags"].append("c")
                meta["meta"]["k"].append(3)
        again = {
            h["metadata"]["n"]: h["metadata"]
            for h in idx.search.nearest(vector=q, limit=2)["results"]
        }
        assert again == {1: p, 2: {"n": 2}}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"vector": np.array([1, np.nan, 0], dtype=np.float32)}, "NaN or infinity"),
        ({"vector": np.array([1, np.inf, 0], dtype=np.float32)}, "NaN or infinity"),
        ({"vector": np.zeros(3, dtype=np.float32)}, "all zeros"),
        ({"vector": np.ones(4, dtype=np.float32)}, "dimensions"),
        ({"vector": np.ones(2, dtype=np.float32)}, "dimensions"),
        ({"vector": np.array([True, False, True])}, "booleans"),
        ({"vector": np.array(["1", "2", "3"])}, "strings"),
        ({"vector": np.ones(3, dtype=np.float32), "limit": 0}, "limit"),
        ({"vector": np.ones(3, dtype=np.float32), "limit": MAX_LIMIT + 1}, "limit"),
        ({"vector": np.ones(3, dtype=np.float32), "limit": True}, "limit"),
        ({"vector": np.ones(3, dtype=np.float32), "limit": 2.0}, "limit"),
        ({"vector": np.ones(3, dtype=np.float32), "with_vector": 0}, "with_vector"),
        ({"vector": np.ones(3, dtype=np.float32), "filter": []}, "filter"),
        ({"vector": np.ones(3, dtype=np.float32), "after": 5}, "after"),
        ({"vector": np.ones(3, dtype=np.float32), "text": "x"}, "not both"),
    ],
)
def test_what_the_fast_path_would_take_is_still_checked(
    tmp_path: Path, kwargs: dict[str, Any], match: str
) -> None:
    with eigenlake.connect(path=str(tmp_path / "lake")) as c:
        idx = c.indexes.create_or_get(namespace="f", index="i", dimensions=3)
        idx.records.add_many([{"properties": {}, "vector": [1, 2, 3]}])
        with pytest.raises(ValidationError, match=match) as fast:
            idx.search.nearest(**kwargs)
        # the same words as the general path's (the vector given as a list)
        vector = kwargs["vector"]
        slow = dict(kwargs, vector=vector.tolist())
        with pytest.raises(ValidationError) as general:
            idx.search.nearest(**slow)
        if match not in ("booleans", "strings"):  # a list of those is read item by item
            assert str(fast.value) == str(general.value)


def test_an_empty_index_and_a_limit_past_the_rows(tmp_path: Path) -> None:
    with eigenlake.connect(path=str(tmp_path / "lake")) as c:
        idx = c.indexes.create_or_get(namespace="f", index="i", dimensions=3)
        q = np.ones(3, dtype=np.float32)
        empty = idx.search.nearest(vector=q, limit=5)
        assert empty["results"] == [] and empty["next_after"] is None
        assert empty["usage"]["records_scanned"] == 0
        idx.records.add_many([{"properties": {"i": i}, "vector": [i + 1, 1, 0]} for i in range(3)])
        page = idx.search.nearest(vector=q, limit=MAX_LIMIT)
        assert len(page["results"]) == 3 and page["next_after"] is None


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=st.data(),
    metric=st.sampled_from(["cosine", "euclidean"]),
    dims=st.integers(2, 5),
    rows=st.integers(60, 160),
    limit=st.integers(1, 6),
)
def test_the_graph_page_answers_as_the_general_path(
    client: Any, data: Any, metric: str, dims: int, rows: int, limit: int
) -> None:
    """Every row alive, the graph covering them all: the hits come built by the core in
    one call (``_core.Hnsw.first_page``, cursor included); ties in distance (few distinct values, repeated rows)
    go through its uuid ordering, lists and dicts in properties through the deep copy."""
    from eigenlake.embedded import ann

    idx = client.indexes.create_or_get(
        namespace="fast",
        index=f"g{next(_NAMES)}",
        dimensions=dims,
        index_options={"distance_metric": metric, "exact_threshold": 8},
    )
    pages: list[Any] = []
    page = ann.AnnState.first_page

    def spy(self: Any, *args: Any) -> Any:
        pages.append(found := page(self, *args))
        return found

    try:
        rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
        x = rng.integers(-2, 3, size=(rows, dims)).astype(np.float32)
        x[np.all(x == 0, axis=1)] = 1.0
        x[rows // 2] = x[0]
        props = [data.draw(properties, label="properties") for _ in range(rows)]
        idx.records.add_many(
            [{"properties": p, "vector": v} for p, v in zip(props, x, strict=True)]
        )
        idx.search.prepare()
        q = rng.integers(-2, 3, size=dims).astype(np.float32)
        q[0] = 1.0 if not q.any() else q[0]
        ann.AnnState.first_page = spy  # type: ignore[method-assign]
        try:
            fast = idx.search.nearest(vector=q, limit=limit)
        finally:
            ann.AnnState.first_page = page  # type: ignore[method-assign]
        # kept > 8 x (limit + 1) rows: the graph answers, and alone
        assert pages and pages[0] is not None
        want = _general(idx, q, limit)
        assert _plain(fast) == _plain(want)
        assert fast["next_after"] == want["next_after"]
        for hit in fast["results"]:  # the caller's own dicts, nested values too
            cache = idx.search._index._cache
            row = cache.row(hit["uuid"])
            stored = cache.props.dict_of(row)
            assert hit["metadata"] == stored
            for value in hit["metadata"].values():
                if isinstance(value, list):
                    value.append("changed")
                elif isinstance(value, dict):
                    value["changed"] = 1
            hit["metadata"]["added"] = 1
            assert cache.props.dict_of(row) == stored  # the store kept its values
    finally:
        idx.manage.delete()


# ---- the filtered fast path (`Search._nearest_filtered`) -----------------------------------


def _filters(data: Any, ns: list[int]) -> list[dict[str, Any]]:
    """Filters over the `n` values present (and around them): ordered, equal (as an int, a
    float and a bool, which the cache's memo must keep apart), sets, logical operators."""
    v = data.draw(st.sampled_from(ns or [0]), label="value")
    return [
        {"n": {"$gte": v}},
        {"n": v},
        {"n": float(v)},
        {"n": True},
        {"n": {"$in": sorted({v, v + 1})}},
        {"$or": [{"n": {"$lt": v}}, {"t": ""}]},
        {"$and": [{"n": {"$gte": -5}}, {"n": {"$lte": v}}]},
    ]


class _Pages:
    """Counts the core calls of the filtered fast path (`_core.kept_page`)."""

    def __init__(self, mp: pytest.MonkeyPatch) -> None:
        from eigenlake import _core

        self.calls = 0
        page = _core.kept_page

        def spy(*args: Any) -> Any:
            self.calls += 1
            return page(*args)

        mp.setattr(_core, "kept_page", spy)


def _same_as_general(
    idx: Any, q: np.ndarray, limit: int, flt: dict[str, Any]
) -> dict[str, Any] | None:
    """The filtered query through `nearest` twice (the first run names the filter, the
    second takes the fast path), each equal to the general path's answer, cursor included;
    the cursor pages on in the general path (a wrong query hash is refused there)."""
    try:
        want = _plain(_general(idx, q, limit, flt))
    except ValidationError as e:  # refused alike, every time (never remembered)
        for _ in range(2):
            with pytest.raises(ValidationError) as refused:
                idx.search.nearest(vector=q, limit=limit, filter=flt)
            assert str(refused.value) == str(e)
        return None
    first = idx.search.nearest(vector=q, limit=limit, filter=flt)
    again = idx.search.nearest(vector=q, limit=limit, filter=flt)
    assert type(again) is NearestResult
    assert _plain(first) == want
    assert _plain(again) == want
    if again["next_after"] is not None:
        nxt = idx.search.nearest(vector=q, limit=limit, filter=flt, after=again["next_after"])
        seen = {h["uuid"] for h in again["results"]}
        assert nxt["results"] and not seen & {h["uuid"] for h in nxt["results"]}
    return dict(again)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=st.data(),
    metric=st.sampled_from(["cosine", "euclidean"]),
    graph=st.booleans(),
    walk=st.booleans(),
    dims=st.integers(2, 5),
    rows=st.integers(1, 90),
    limit=st.one_of(st.integers(1, 4), st.integers(1, 40)),
)
def test_the_filtered_fast_path_answers_as_the_general_path(
    client: Any,
    data: Any,
    metric: str,
    graph: bool,
    walk: bool,
    dims: int,
    rows: int,
    limit: int,
) -> None:
    """Filters (ints, floats and bools that parse alike or not), ties (few distinct values,
    repeated rows: broken by uuid), dead rows, cursors, and every kind of write between
    two queries (added, removed, properties or vector changed): the filtered fast path
    answers as the general path, from the rows as they are now. ``walk``: the planner
    would walk the graph (the fast path must then leave the query to the general path)."""
    from eigenlake.embedded import ann

    options: dict[str, Any] = {"distance_metric": metric}
    if graph:
        options["exact_threshold"] = 8
    idx = client.indexes.create_or_get(
        namespace="fast", index=f"f{next(_NAMES)}", dimensions=dims, index_options=options
    )
    with pytest.MonkeyPatch.context() as mp:
        pages = _Pages(mp)
        if walk:
            mp.setattr(ann, "scan_beats_walk", lambda *a: False)
        try:
            rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
            x = rng.integers(-2, 3, size=(rows, dims)).astype(np.float32)
            x[np.all(x == 0, axis=1)] = 1.0
            if rows > 3:
                x[rows // 2] = x[0]
            props = [
                {"n": int(rng.integers(-2, 3)), "t": data.draw(st.sampled_from(["", "a"]))}
                for _ in range(rows)
            ]
            uids = idx.records.add_many(
                [{"properties": p, "vector": v} for p, v in zip(props, x, strict=True)]
            )
            if uids:
                for uid in data.draw(st.sets(st.sampled_from(uids), max_size=4), label="dead"):
                    idx.records.remove(uid)
                    uids.remove(uid)
            idx.search.prepare()
            q = rng.integers(-2, 3, size=dims).astype(np.float32)
            q[0] = 1.0 if not q.any() else q[0]
            flts = _filters(data, [p["n"] for p in props])
            answers = [_same_as_general(idx, q, limit, f) for f in flts]
            # (a filter keeping no row is answered by the general path)
            answered = [a for a in answers if a is not None and a["results"]]
            flt = data.draw(st.sampled_from(flts), label="filter")
            # writes between two queries: each must reach the next answer
            near = q.copy()  # the query itself: the nearest record, if the filter keeps it
            new = idx.records.add_many([{"properties": {"n": 1, "t": ""}, "vector": near}])[0]
            _same_as_general(idx, q, limit, flt)
            idx.records.update(new, properties={"n": -2, "t": "a"})
            _same_as_general(idx, q, limit, flt)
            idx.records.update(new, vector=-near)
            _same_as_general(idx, q, limit, flt)
            idx.records.remove(new)
            _same_as_general(idx, q, limit, flt)
            if not walk:  # each filter keeping rows ran a second time through the fast path
                assert pages.calls >= len(answered)
        finally:
            idx.manage.delete()


def test_the_filtered_fast_path_follows_memo_and_refusals(tmp_path: Path) -> None:
    """An invalid filter is refused every time (never remembered); filters that read
    alike but are other values (1, 1.0, True; another key order) are each answered as the
    general path answers them; a filter changed in place after a query is read anew; the
    memo emptied by a write is filled again."""
    from eigenlake.embedded import search as search_mod

    with eigenlake.connect(path=str(tmp_path / "lake")) as c:
        idx = c.indexes.create_or_get(namespace="f", index="i", dimensions=2)
        recs = [
            {"properties": {"n": i % 3, "b": i % 2 == 1, "t": "x"}, "vector": [float(i), 1.0]}
            for i in range(30)
        ]
        idx.records.add_many(recs)
        q = np.array([4.0, 1.0], dtype=np.float32)
        for _ in range(2):
            with pytest.raises(ValidationError, match="filter"):
                idx.search.nearest(vector=q, limit=3, filter={"n": {"$regex": "x"}})
        refused = []
        for flt in (
            {"n": 1},
            {"n": 1.0},
            {"b": True},
            {"b": 1},  # refused: an int for a boolean property
            {"n": 1, "t": "x"},
            {"t": "x", "n": 1},
        ):
            if _same_as_general(idx, q, 3, flt) is None:
                refused.append(flt)
        assert refused == [{"b": 1}]
        flt: dict[str, Any] = {"n": {"$lt": 1}}
        first = idx.search.nearest(vector=q, limit=3, filter=flt)
        flt["n"]["$lt"] = 3  # the same dict, another filter now
        again = idx.search.nearest(vector=q, limit=3, filter=flt)
        assert _plain(again) == _plain(_general(idx, q, 3, flt)) != _plain(first)
        memo = idx.search._index._cache.kept_memo
        assert len(memo) > 0
        idx.records.add_many([{"properties": {"n": 0}, "vector": [4.0, 1.0]}])
        assert len(idx.search._index._cache.kept_memo) == 0
        got = idx.search.nearest(vector=q, limit=3, filter={"n": 0})
        got2 = idx.search.nearest(vector=q, limit=3, filter={"n": 0})
        assert _plain(got) == _plain(got2) == _plain(_general(idx, q, 3, {"n": 0}))
        assert search_mod.filter_key({"n": 0}) is not None


@pytest.mark.parametrize(
    ("flt", "plain"),
    [
        ({"n": 1}, True),
        ({"n": {"$in": [1, 2.5, "x", None, True]}}, True),
        ({"$or": [{"n": 1}, {"$not": {"t": "x"}}]}, True),
        ({"n": (1, 2)}, False),  # a tuple reads as a list
        ({"n": np.int64(1)}, False),  # a NumPy number
        ({"n": {"$in": [1, np.float32(2)]}}, False),
        ({1: 1}, False),  # a key that is not a str
        ({"n": type("Int", (int,), {})(1)}, False),  # a subclass may repr as another value
        ({"n": "x" * 70_000}, False),  # too long to keep
    ],
)
def test_filter_key_names_only_plain_json_filters(flt: dict[str, Any], plain: bool) -> None:
    from eigenlake.embedded.kept_rows import filter_key

    key = filter_key(flt)
    assert (key is not None) == plain
    if plain:
        assert key == repr(flt) and filter_key(dict(flt)) == key


def test_filter_key_refuses_deep_nesting() -> None:
    from eigenlake.embedded.kept_rows import filter_key

    flt: dict[str, Any] = {"n": 1}
    for _ in range(30):
        flt = {"$not": flt}
    assert filter_key(flt) is not None  # the parser takes it: 30 logical levels
    for _ in range(40):
        flt = {"$not": flt}
    assert filter_key(flt) is None  # past what the parser's nesting check lets through


def test_the_memo_names_a_filter_for_one_schema() -> None:
    """A filter text names its entry only for the schema that parsed it."""
    from eigenlake.embedded.kept_rows import Kept, KeptMemo

    memo = KeptMemo()
    kept = Kept.of_mask(np.array([True, False]))
    memo.put("node", kept)
    schema, other = object(), object()
    memo.name("{'n': 1}", "node", b'{"n": 1}', schema)
    assert memo.by_text("{'n': 1}", schema) == (kept, b'{"n": 1}')
    assert memo.by_text("{'n': 1}", other) is None
    assert memo.by_text("{'n': 2}", schema) is None
    memo.clear()
    assert memo.by_text("{'n': 1}", schema) is None
