"""Random records and random filters: the vectorised mask equals a naive Python evaluation."""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from eigenlake import filters as F
from eigenlake import schema as s
from eigenlake.embedded.cache import Cache
from eigenlake.embedded.validate import CompiledSchema
from eigenlake.errors import ValidationError
from eigenlake.ids import new_ids

SCHEMA, _ = (
    s.SchemaBuilder()
    .add("org", s.string())
    .add("n", s.integer())
    .add("x", s.number())
    .add("ok", s.boolean())
    .add("tags", s.array(s.string()))
    .add("day", s.date())
    .build()
)
COMP = CompiledSchema(SCHEMA, [])
WORDS = ["a", "b", "c", "ab"]
DAYS = ["2024-01-01", "2024-01-02", "2023-12-31", "2024-02-29"]

values = {
    "org": st.sampled_from(WORDS),
    "n": st.integers(-3, 3),
    "x": st.sampled_from([-1.5, 0.0, 0.5, 2.0, 3.0]),
    "ok": st.booleans(),
    "tags": st.lists(st.sampled_from(WORDS), max_size=3),
    "day": st.sampled_from(DAYS),
}
record = st.fixed_dictionaries({}, optional={k: st.one_of(st.none(), v) for k, v in values.items()})
ORDERED = ["$gt", "$gte", "$lt", "$lte"]


def leaf() -> st.SearchStrategy:
    def for_prop(name: str) -> st.SearchStrategy:
        v = values[name]
        if name == "tags":
            return st.one_of(
                st.builds(lambda w: {name: {"$contains": w}}, st.sampled_from(WORDS)),
                st.builds(lambda b: {name: {"$exists": b}}, st.booleans()),
            )
        ops = ["$eq", "$ne"] + ([] if name == "ok" else ORDERED)
        return st.one_of(
            st.builds(lambda op, x: {name: {op: x}}, st.sampled_from(ops), v),
            st.builds(lambda x: {name: x}, v),
            st.builds(
                lambda op, xs: {name: {op: xs}},
                st.sampled_from(["$in", "$nin"]),
                st.lists(v, max_size=3),
            ),
            st.builds(lambda b: {name: {"$exists": b}}, st.booleans()),
        )

    return st.one_of([for_prop(n) for n in values])


filters = st.recursive(
    leaf(),
    lambda inner: st.one_of(
        st.builds(lambda xs: {"$and": xs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda xs: {"$or": xs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda x: {"$not": x}, inner),
    ),
    max_leaves=6,
)


def naive(flt: dict, rec: dict) -> bool:
    """Written from the documented semantics, independent of eigenlake.filters."""
    results = []
    for key, cond in flt.items():
        if key == "$and":
            results.append(all(naive(f, rec) for f in cond))
        elif key == "$or":
            results.append(any(naive(f, rec) for f in cond))
        elif key == "$not":
            results.append(not naive(cond, rec))
        else:
            ops = cond if isinstance(cond, dict) else {"$eq": cond}
            results.append(all(naive_op(key, op, v, rec.get(key)) for op, v in ops.items()))
    return all(results)


def key(name: str, v):
    if name == "day":
        return dt.date.fromisoformat(v)
    return v


def naive_op(name: str, op: str, want, have) -> bool:
    if op == "$exists":
        return (have is not None) == want
    if op == "$contains":
        return have is not None and want in have
    if op in ("$ne", "$nin"):
        return not naive_op(name, "$eq" if op == "$ne" else "$in", want, have)
    if have is None:
        return False
    h = key(name, have)
    if op == "$in":
        return any(h == key(name, w) for w in want)
    w = key(name, want)
    return {"$eq": h == w, "$gt": h > w, "$gte": h >= w, "$lt": h < w, "$lte": h <= w}[op]


@settings(max_examples=300, deadline=None)
@given(st.lists(record, min_size=1, max_size=25), filters)
def test_mask_equals_naive_evaluation(rows, flt):
    cache = Cache(2, False, COMP.props)
    cache.append(
        new_ids(len(rows)),
        list(range(1, len(rows) + 1)),
        np.ones((len(rows), 2), np.float32),
        rows,
    )
    node = F.parse(flt, COMP.props)
    got = F.mask(node, cache, cache.n).tolist()
    want = [naive(flt, r) for r in rows]
    assert got == want
    assert [F.matches(node, r) for r in rows] == want


junk_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.sampled_from([2**1100, -(2**1100), 2**63, -(2**63) - 1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=4),
    st.sampled_from(DAYS + ["2024-13-01", "not a day", "\ud800"]),
)
junk_values = st.recursive(
    junk_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from([*values, "$and", "$or", "$not", "$in", "$gt", "$bogus", "nope"]),
            inner,
            max_size=3,
        ),
    ),
    max_leaves=10,
)
OPS = ["$eq", "$ne", *ORDERED, "$in", "$nin", "$exists", "$contains", "$regex"]
extremes = st.sampled_from(
    [2**1100, -(2**1100), 2**63, 2**64, float("nan"), float("inf"), 10**5000, "5", [1], None]
)
junk_filters = st.one_of(
    # a valid shape with an extreme value: numbers NumPy cannot compare, NaN, huge reprs
    st.builds(
        lambda p, op, v: {p: {op: [v] if op in ("$in", "$nin") else v}},
        st.sampled_from(["n", "x", "day"]),
        st.sampled_from(["$eq", "$ne", *ORDERED, "$in", "$nin"]),
        extremes,
    ),
    junk_values,
    st.dictionaries(
        st.sampled_from(list(values)),
        st.one_of(junk_values, st.dictionaries(st.sampled_from(OPS), junk_values, max_size=2)),
        max_size=3,
    ),
    st.recursive(
        st.dictionaries(st.sampled_from(list(values)), junk_scalars, min_size=1, max_size=2),
        lambda inner: st.one_of(
            st.builds(lambda xs: {"$and": xs}, st.lists(inner, max_size=3)),
            st.builds(lambda xs: {"$or": xs}, st.lists(inner, max_size=3)),
            st.builds(lambda x: {"$not": x}, inner),
        ),
        max_leaves=6,
    ),
)


@settings(max_examples=500, deadline=None)
@given(st.lists(record, min_size=1, max_size=8), junk_filters)
def test_any_filter_is_parsed_or_refused_and_evaluates(rows, flt):
    """Whatever a caller passes as a filter: a ValidationError that says "filter", or a
    tree both evaluators run on without error (never a TypeError, OverflowError...)."""
    cache = Cache(2, False, COMP.props)
    cache.append(
        new_ids(len(rows)),
        list(range(1, len(rows) + 1)),
        np.ones((len(rows), 2), np.float32),
        rows,
    )
    try:
        node = F.parse(flt, COMP.props)
    except ValidationError as e:
        assert str(e).startswith("filter")
        return
    got = F.mask(node, cache, cache.n).tolist()
    assert got == [F.matches(node, r) for r in rows]
