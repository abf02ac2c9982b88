"""``_core.member_dicts`` (the members' ``{"uuid"}`` dicts of an analysis answer, built by the
core) against the Python comprehension it replaced, and its refusals."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eigenlake import _core


def comprehension(values: list, rows: np.ndarray, bounds: np.ndarray, key: str) -> list:
    """The rule: one list per group of one-key dicts (``_describe`` before the core did it)."""
    b = bounds.tolist()
    pairs = zip(b[:-1], b[1:], strict=True)
    return [[{key: values[r]} for r in rows[lo:hi].tolist()] for lo, hi in pairs]


@st.composite
def grouped(draw: st.DrawFn) -> tuple[list, np.ndarray, np.ndarray]:
    values = draw(st.lists(st.text(max_size=6) | st.integers() | st.none(), max_size=60))
    n = len(values)
    rows = draw(st.lists(st.integers(0, n - 1), max_size=80)) if n else []
    cuts = sorted(draw(st.lists(st.integers(0, len(rows)), max_size=8)))
    return values, np.array(rows, dtype=np.int64), np.array(cuts, dtype=np.int64)


@settings(max_examples=300, deadline=None)
@given(case=grouped(), key=st.sampled_from(["uuid", "id", ""]))
def test_the_same_lists_as_the_comprehension(case, key):
    values, rows, bounds = case
    got = _core.member_dicts(values, rows, bounds, key)
    assert got == comprehension(values, rows, bounds, key)
    assert all(type(g) is list and all(type(d) is dict for d in g) for g in got)
    # the dicts hold the caller's objects, not copies
    flat = [d[key] for g in got for d in g]
    want = [values[r] for r in rows[bounds[0] : bounds[-1]].tolist()] if len(bounds) else []
    assert all(a is b for a, b in zip(flat, want, strict=True))


def test_grouped_rows_of_a_large_answer():
    rng = np.random.default_rng(0)
    uuids = [f"u{i:06d}" for i in range(50_000)]
    labels = rng.integers(0, 37, len(uuids))
    rows = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[rows], np.arange(38))
    got = _core.member_dicts(uuids, rows, bounds)
    assert [[d["uuid"] for d in g] for g in got] == [
        [uuids[i] for i in np.flatnonzero(labels == c)] for c in range(37)
    ]


@pytest.mark.parametrize(
    ("rows", "bounds", "error", "words"),
    [
        ([0, 1], [0, 3], ValueError, "`bounds` must rise within 0..=2"),
        ([0, 1], [2, 1], ValueError, "`bounds` must rise"),
        ([0, 1], [-1, 2], ValueError, "`bounds` must rise"),
        ([0, 5], [0, 2], IndexError, "`rows` must index into `values` (0..3)"),
        ([0, -1], [0, 2], IndexError, "`rows` must index into `values`"),
    ],
)
def test_bad_rows_and_bounds_are_refused(rows, bounds, error, words):
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")):
        _core.member_dicts(["a", "b", "c"], np.array(rows), np.array(bounds))


def test_arguments_must_be_a_list_and_integer_arrays():
    with pytest.raises(TypeError):
        _core.member_dicts(("a",), np.array([0]), np.array([0, 1]))
    with pytest.raises(ValueError, match="`rows` must be a 1-D NumPy array of integers"):
        _core.member_dicts(["a"], np.array([0.0]), np.array([0, 1]))
