"""``_core.json_objects`` (the JSON of a bulk write's rows) against Python's ``json``: the
same text for every value but floats, and floats that read back bit-identical."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from eigenlake import _core

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8)
KINDS = {
    "int": st.integers(-(2**63), 2**63 - 1),
    "float": st.floats(allow_nan=False, allow_infinity=False),
    "bool": st.booleans(),
    "str": TEXT,
    "json": st.lists(st.integers(-5, 5), max_size=3),
}


@st.composite
def tables(draw: st.DrawFn) -> tuple[int, list[tuple[str, str, list, list[bool] | None]]]:
    rows = draw(st.integers(0, 12))
    names = draw(st.lists(TEXT, min_size=0, max_size=5, unique=True))
    cols = []
    for name in names:
        kind = draw(st.sampled_from(sorted(KINDS)))
        values = draw(st.lists(KINDS[kind], min_size=rows, max_size=rows))
        present = draw(st.none() | st.lists(st.booleans(), min_size=rows, max_size=rows))
        cols.append((name, kind, values, present))
    return rows, cols


def _call(rows: int, cols: list) -> list[str]:
    given_cols = []
    for name, kind, values, present in cols:
        mask = None if present is None else np.array(present, dtype=bool)
        if kind in ("int", "float", "bool"):
            arr = np.array(values, dtype={"int": np.int64, "float": np.float64, "bool": bool}[kind])
            given_cols.append((name, kind, arr, mask))
        elif kind == "str":  # None where the row lacks it, as ingest may pass
            shown = [v if present is None or present[i] else None for i, v in enumerate(values)]
            given_cols.append((name, kind, shown, mask))
        else:
            given_cols.append((name, kind, [json.dumps(v) for v in values], mask))
    text, ends = _core.json_objects(given_cols, rows)
    assert text.isascii() and len(ends) == rows and ends.dtype == np.uint64
    bounds = [0, *ends.tolist()]
    assert bounds[-1] == len(text)
    return [text[bounds[i] : bounds[i + 1]] for i in range(rows)]


@settings(max_examples=300, deadline=None)
@given(tables())
@example((2, [("n", "float", [1e16, -0.0], None), ("s", "str", ['"\\\n\x7f', "é😀"], None)]))
def test_rows_read_back_as_python_writes_them(table: tuple[int, list]) -> None:
    rows, cols = table
    got = _call(rows, cols)
    for r, text in enumerate(got):
        want = {
            name: values[r]
            for name, _kind, values, present in cols
            if present is None or present[r]
        }
        back = json.loads(text)
        assert list(back) == list(want)  # keys in column order
        for key, value in want.items():
            if isinstance(value, float):
                assert struct.pack("<d", back[key]) == struct.pack("<d", value)
            else:
                assert back[key] == value and type(back[key]) is type(value)
        if not any(isinstance(v, float) for v in want.values()):
            assert text == json.dumps(want)  # the very text Python writes


def test_bad_columns_are_refused() -> None:
    ints = np.array([1, 2], dtype=np.int64)
    with pytest.raises(ValueError, match="does not have 3 rows"):
        _core.json_objects([("a", "int", ints, None)], 3)
    with pytest.raises(ValueError, match="no JSON form"):
        _core.json_objects([("a", "float", np.array([np.nan]), None)], 1)
    with pytest.raises(ValueError, match="None where the row has the property"):
        _core.json_objects([("a", "str", ["x", None], None)], 2)
    with pytest.raises(TypeError):
        _core.json_objects([("a", "str", ["x", 3], None)], 2)
    with pytest.raises(ValueError, match="unknown kind"):
        _core.json_objects([("a", "date", ints, None)], 2)
