"""The property store (``embedded.prop_store``): every row's JSON text in one core buffer,
dicts made when read. Oracles: a list of the dicts themselves, and ``json.loads`` of the
texts ``json.dumps`` writes (what the store persists)."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eigenlake.embedded.prop_store import PropStore, encode

# every value JSON holds as Python writes it: big ints, any float (NaN and infinities as
# Python spells them), any text (lone surrogates included), nesting
_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**200), max_value=2**200)
    | st.floats()
    | st.sampled_from([0.1, 1e300, -0.0, 5e-324, 2.0**63, 1e16, 123456789.123456789])
    | st.text(max_size=6)
    | st.text(st.characters(codec=None, exclude_categories=()), max_size=4)
)
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=12,
)
_props = st.dictionaries(
    st.text(max_size=5) | st.sampled_from(["a", "b", "é", "\\"]), _json, max_size=5
)


def _same(got: Any, want: Any) -> bool:
    """Equal with the same types all the way down (1 is not 1.0 nor True; NaN is NaN)."""
    if type(got) is not type(want):
        return False
    if isinstance(want, float):
        return (math.isnan(got) and math.isnan(want)) or (
            got == want and math.copysign(1, got) == math.copysign(1, want)
        )
    if isinstance(want, list):
        return len(got) == len(want) and all(_same(a, b) for a, b in zip(got, want, strict=True))
    if isinstance(want, dict):
        return list(got) == list(want) and all(_same(got[k], want[k]) for k in want)
    return bool(got == want)


def _stored(props: dict[str, Any]) -> dict[str, Any]:
    """What the store gives back for ``props``: its JSON text read by Python."""
    return json.loads(json.dumps(props))


def _containers(x: object) -> list[int]:
    if isinstance(x, dict):
        return [id(x)] + [i for v in x.values() for i in _containers(v)]
    if isinstance(x, list):
        return [id(x)] + [i for v in x for i in _containers(v)]
    return []


@given(_props)
def test_a_row_reads_back_as_json_loads_reads_its_text(props: dict[str, Any]) -> None:
    store = PropStore()
    store.append([props])
    want = _stored(props)
    got = store.dict_of(0)
    assert _same(got, want)
    assert store.texts([0]) == [encode(props)]
    # a new dict each time, sharing no container with another read
    again = store.dict_of(0)
    assert not set(_containers(got)) & set(_containers(again))


_ops = st.lists(
    st.one_of(
        st.tuples(st.just("append"), st.lists(_props, min_size=1, max_size=4)),
        st.tuples(st.just("joined"), st.lists(_props, min_size=1, max_size=4)),
        st.tuples(st.just("set"), st.integers(0, 10**6), _props),
        st.tuples(st.just("view"), st.lists(st.integers(0, 10**6), max_size=4)),
        st.tuples(st.just("repack")),
    ),
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(_ops)
def test_the_buffer_matches_a_list_of_dicts(ops: list[tuple[Any, ...]]) -> None:
    store = PropStore()
    oracle: list[dict[str, Any]] = []
    views: list[tuple[Any, list[dict[str, Any]]]] = []
    for op in ops:
        if op[0] == "append":
            store.append(op[1])
            oracle += [_stored(p) for p in op[1]]
        elif op[0] == "joined":
            texts = [encode(p) for p in op[1]]
            ends = np.cumsum([0] + [len(t) for t in texts])
            store.append_joined("".join(texts), ends)
            oracle += [_stored(p) for p in op[1]]
        elif op[0] == "set" and oracle:
            row = op[1] % len(oracle)
            store.set_props(row, op[2])
            oracle[row] = _stored(op[2])
        elif op[0] == "view" and oracle:
            rows = [r % len(oracle) for r in op[1]]
            views.append((store.view(rows), [oracle[r] for r in rows]))
        elif op[0] == "repack":
            store.repack()
            assert store.garbage == 0
        assert len(store) == len(oracle)
    rows = list(range(len(oracle)))
    assert all(_same(g, w) for g, w in zip(store.dicts(rows), oracle, strict=True))
    assert all(_same(store.dict_of(r), oracle[r]) for r in rows)
    assert store.texts(rows) == [json.dumps(p) for p in oracle]
    # a view keeps the rows as they were when it was taken
    for view, want in views:
        assert len(view) == len(want)
        assert all(_same(g, w) for g, w in zip(view.dicts(), want, strict=True))
    # some properties of a block of rows, only those made
    names = sorted({k for p in oracle for k in p})[:3] + ["absent"]
    if oracle:
        a, b = len(oracle) // 3, len(oracle)
        got = store.values(names, a, b)
        for name, col in zip(names, got, strict=True):
            want_col = [p.get(name) for p in oracle[a:b]]
            assert all(_same(g, w) for g, w in zip(col, want_col, strict=True))


def test_replaced_texts_are_reclaimed_once_they_outweigh_the_live_ones() -> None:
    store = PropStore()
    store.append([{"i": i, "pad": "x" * 100} for i in range(1000)])
    live = store.nbytes
    for round_ in range(30):
        for r in range(0, 1000, 2):
            store.set_props(r, {"i": r, "round": round_, "pad": "y" * 100})
    assert store.garbage <= max(store.nbytes - store.garbage, 1 << 20)
    assert store.nbytes < 4 * live + (1 << 20)
    assert store.dict_of(998) == {"i": 998, "round": 29, "pad": "y" * 100}
    assert store.dict_of(999) == {"i": 999, "pad": "x" * 100}


def test_bad_rows_and_texts_are_refused() -> None:
    store = PropStore()
    store.append([{"a": 1}])
    with pytest.raises(IndexError):
        store.dict_of(1)
    with pytest.raises(IndexError):
        store.dicts([0, 5])
    with pytest.raises((IndexError, OverflowError)):
        store.dicts([-1])
    with pytest.raises(IndexError):
        store.view([3])
    with pytest.raises(ValueError, match="ends"):
        store.append_joined("{}", np.array([0, 3]))
    store.extend(["{broken"])  # damaged text: json.loads's own error on read
    with pytest.raises(json.JSONDecodeError):
        store.dict_of(1)


def test_values_of_a_free_form_row_and_of_no_object() -> None:
    store = PropStore()
    store.extend(['{"a": {"x": [1, 2.5]}, "b": "\\u00e9\\ud83d\\ude00", "a": 3}', "[1, 2]", "{}"])
    (a, b) = store.values(["a", "b"], 0, 3)
    assert a == [3, None, None]  # a repeated key keeps its last value, as json.loads
    assert b == ["é😀", None, None]
    assert store.dict_of(0) == json.loads(store.texts([0])[0])


_THREADS = """
import sys, threading
sys.setswitchinterval(1e-6)
from eigenlake.embedded.prop_store import PropStore
s = PropStore()
s.extend(['{"a": "\\\\ud800", "b": %d}' % i for i in range(2000)])
bad = []
def work():
    for _ in range(20):
        if s.dicts(list(range(2000)))[5] != {"a": "\\ud800", "b": 5}:
            bad.append(1)
ts = [threading.Thread(target=work) for _ in range(4)]
[t.start() for t in ts]
[t.join() for t in ts]
print("bad" if bad else "ok")
"""


def test_threads_reading_texts_json_loads_parses_do_not_deadlock() -> None:
    """A lone surrogate goes to ``json.loads`` (Python code: other threads run meanwhile)
    while the reading call holds the store's keys: the others must not wait for them."""
    import os
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", _THREADS],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert out.stdout.strip() == "ok", out.stderr
