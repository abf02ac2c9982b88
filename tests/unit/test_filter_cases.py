"""Filter parsing, schema checks and hand-worked evaluation cases."""

from __future__ import annotations

import numpy as np
import pytest

from eigenlake import ValidationError
from eigenlake import filters as F
from eigenlake import schema as s
from eigenlake.api.checks import MAX_FILTER_DEPTH
from eigenlake.embedded.cache import Cache
from eigenlake.embedded.validate import CompiledSchema
from eigenlake.ids import new_ids

SCHEMA, OPTS = (
    s.SchemaBuilder()
    .add("org", s.string())
    .add("n", s.integer())
    .add("x", s.number())
    .add("ok", s.boolean())
    .add("tags", s.array(s.string()))
    .add("at", s.datetime())
    .add("day", s.date())
    .add("secret", s.string(filterable=False))
    .build()
)
COMP = CompiledSchema(SCHEMA, OPTS["metadataConfiguration"]["nonFilterableMetadataKeys"])
ROWS = [
    {
        "org": "human",
        "n": 1,
        "x": 0.5,
        "ok": True,
        "tags": ["a", "b"],
        "at": "2024-01-01T00:00:00Z",
        "day": "2024-01-01",
    },
    {
        "org": "mouse",
        "n": 5,
        "ok": False,
        "tags": ["b"],
        "at": "2024-01-01T03:00:00+02:00",
        "day": "2024-02-01",
    },
    {"org": "human", "n": 9, "x": -2.0, "tags": [], "day": "2023-12-31"},
    {"n": None, "x": 7.0, "ok": True},
]


def _mask(raw):
    cache = Cache(2, False, COMP.props)
    cache.append(
        new_ids(len(ROWS)),
        list(range(1, len(ROWS) + 1)),
        np.ones((len(ROWS), 2), np.float32),
        ROWS,
    )
    node = F.parse(raw, COMP.props)
    got = F.mask(node, cache, cache.n).tolist()
    assert got == [F.matches(node, r) for r in ROWS]  # both evaluators agree
    return [i for i, hit in enumerate(got) if hit]


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        (None, [0, 1, 2, 3]),
        ({}, [0, 1, 2, 3]),
        ({"org": "human"}, [0, 2]),
        ({"org": {"$ne": "human"}}, [1, 3]),  # missing counts as "not equal"
        ({"n": {"$gte": 5}}, [1, 2]),
        ({"n": {"$gt": 1, "$lt": 9}}, [1]),
        ({"x": {"$lte": 0.5}}, [0, 2]),
        ({"ok": True}, [0, 3]),
        ({"org": {"$in": ["mouse", "rat"]}}, [1]),
        ({"org": {"$nin": ["mouse"]}}, [0, 2, 3]),
        ({"x": {"$exists": False}}, [1]),
        ({"n": {"$exists": True}}, [0, 1, 2]),
        ({"tags": {"$contains": "b"}}, [0, 1]),
        ({"$or": [{"org": "mouse"}, {"n": 9}]}, [1, 2]),
        ({"$and": [{"org": "human"}, {"n": {"$lt": 5}}]}, [0]),
        ({"$not": {"org": "human"}}, [1, 3]),
        ({"org": "human", "ok": True}, [0]),
        # 03:00+02:00 is 01:00Z, one hour after row 0
        ({"at": {"$gt": "2024-01-01T00:30:00Z"}}, [1]),
        ({"at": {"$eq": "2024-01-01T01:00:00Z"}}, [1]),
        ({"day": {"$lt": "2024-01-15"}}, [0, 2]),
    ],
)
def test_hand_cases(raw, want):
    assert _mask(raw) == want


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ({"secret": "x"}, "secret"),
        ({"unknown": 1}, "unknown"),
        ({"n": {"$regex": "1"}}, "$regex"),
        ({"n": {"$gt": "5"}}, "n"),
        ({"n": True}, "n"),
        ({"ok": {"$gt": True}}, "ok"),
        ({"org": {"$in": "human"}}, "org"),
        ({"tags": "a"}, "tags"),
        ({"at": {"$gt": "not a date"}}, "at"),
        ({"$xor": []}, "$xor"),
        ({"org": {"$exists": 1}}, "org"),
        ({"n": {"$gt": float("nan")}}, "NaN"),
        ({"n": {"$lt": 2**63}}, "64-bit"),
        ({"x": {"$gt": 2**1100}}, "64-bit"),  # once an OverflowError in the mask
        ({"x": {"$in": [1.5, -(2**70)]}}, "x"),
        ({"at": {"$gt": 2**70}}, "at"),
        ({"$and": {"n": 1}}, "$and"),
        ({"$or": []}, "$or"),
        ({"$not": [{"n": 1}]}, "clause"),
        ({"n": {"$in": [[1]]}}, "n"),
        ({"tags": {"$contains": {"a": 1}}}, "tags"),
    ],
)
def test_errors_name_the_problem(raw, named):
    with pytest.raises(ValidationError) as err:
        F.parse(raw, COMP.props)
    assert named in str(err.value)


def test_parse_gives_a_typed_tree():
    node = F.parse({"org": "human", "n": {"$gte": 2}}, COMP.props)
    assert node == F.And(
        (F.Compare("org", "string", "$eq", "human"), F.Compare("n", "integer", "$gte", 2))
    )


def test_errors_say_filter_and_stay_short():
    with pytest.raises(ValidationError) as err:
        F.parse({"org": {"$eq": "x" * 100_000}, "n": {"$gt": "y" * 100_000}}, COMP.props)
    assert str(err.value).startswith("filter: ") and len(str(err.value)) < 300
    with pytest.raises(ValidationError, match="^filter must be a dict"):
        F.parse([{"n": 1}], COMP.props)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="filter"):
        F.parse({"n": {"$eq": 10**5000}}, COMP.props)  # repr() refuses ints this long


def _nested(depth: int, op: str = "$not") -> dict:
    flt: dict = {"n": {"$gte": 0}}
    for _ in range(depth):
        flt = {op: flt} if op == "$not" else {op: [flt]}
    return flt


@pytest.mark.parametrize("op", ["$not", "$and", "$or"])
def test_nesting_depth_is_bounded(op):
    """A 10,000-level filter was a RecursionError; the depth is checked level by level."""
    assert F.parse(_nested(MAX_FILTER_DEPTH, op), COMP.props) is not None
    for depth in (MAX_FILTER_DEPTH + 1, 10_000):
        with pytest.raises(ValidationError, match=f"filter: .*deeper than {MAX_FILTER_DEPTH}"):
            F.parse(_nested(depth, op), COMP.props)


def test_deep_values_inside_a_condition_are_refused_without_recursing():
    value: list = [1]
    for _ in range(10_000):
        value = [value]
    with pytest.raises(ValidationError, match="filter"):
        F.parse({"n": {"$in": value}}, COMP.props)
