"""``api/export.py`` on hand-made rows: the edge cases of typing columns."""

from __future__ import annotations

import builtins
import datetime as dt
import logging

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eigenlake.api.export import Exported, schema_kinds, to_arrow, to_pandas


def _rows(props: list[dict]) -> Exported:
    x = np.arange(len(props) * 2, dtype=np.float32).reshape(-1, 2)
    return Exported([f"u{i}" for i in range(len(props))], x, props)


def test_schema_kinds_reads_types_and_formats():
    schema = {
        "properties": {
            "a": {"type": "integer"},
            "b": {"type": ["number", "null"]},
            "c": {"type": "string", "format": "date-time"},
            "d": {"type": "string", "format": "date"},
            "e": {"type": "array", "items": {"type": "string"}},
        }
    }
    assert schema_kinds(schema) == {
        "a": "integer",
        "b": "number",
        "c": "datetime",
        "d": "date",
        "e": "array",
    }
    assert schema_kinds(None) == {} == schema_kinds({})


def test_undeclared_properties_are_inferred_and_mixed_ones_kept_as_json(caplog):
    rows = _rows([{"x": 1, "m": 1}, {"x": 2, "m": "one"}, {"m": [1, 2]}])
    with caplog.at_level(logging.WARNING, logger="eigenlake"):
        table = to_arrow(rows, None)
    assert table.column("x").type == pa.int64()
    assert table.column("x").to_pylist() == [1, 2, None]
    assert table.column("m").to_pylist() == ["1", '"one"', "[1, 2]"]
    assert any("several types" in r.getMessage() for r in caplog.records)


def test_datetimes_are_utc_instants_and_bad_ones_stay_strings():
    rows = _rows([{"t": "2024-01-01T00:00:00"}, {"t": "2024-01-01T00:00:00+02:00"}, {}])
    rows.kinds = {"t": "datetime"}
    col = to_arrow(rows, None).column("t")
    assert col.type == pa.timestamp("us", tz="UTC")
    want = [
        dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
        dt.datetime(2023, 12, 31, 22, tzinfo=dt.timezone.utc),
        None,
    ]
    assert col.to_pylist() == want
    odd = _rows([{"t": "yesterday"}])
    odd.kinds = {"t": "datetime"}  # stored before the schema said so: kept as it is
    assert to_arrow(odd, None).column("t").to_pylist() == ["yesterday"]


def test_clashing_property_names_are_refused():
    from eigenlake import ValidationError

    with pytest.raises(ValidationError, match="vector"):
        to_arrow(_rows([{"vector": 1}]), None)


def test_missing_library_names_the_extra(monkeypatch):
    real = builtins.__import__

    def no_pandas(name, *args, **kwargs):
        if name == "pandas":
            raise ImportError("no pandas here")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pandas)
    monkeypatch.delitem(__import__("sys").modules, "pandas", raising=False)
    with pytest.raises(ImportError, match=r'pip install "eigenlake\[pandas\]"'):
        to_pandas(_rows([{"a": 1}]), None)


# ---- arrays from the embedded index's columns equal the values from its dicts -------------

_VALUE = {
    "n": st.integers(-(2**63), 2**63 - 1),
    "x": st.floats(allow_nan=False, allow_infinity=False),
    "b": st.booleans(),
    "s": st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=5),
}


@settings(max_examples=25, deadline=None)
@given(
    rows=st.lists(
        st.fixed_dictionaries({}, optional=_VALUE),  # any subset of the properties
        min_size=1,
        max_size=30,
    ),
    pick=st.integers(0, 2**16),
)
def test_typed_columns_export_as_the_dicts_do(tmp_path_factory, rows, pick):
    import dataclasses

    import pandas as pd

    import eigenlake
    from eigenlake import schema as s

    schema, options = (
        s.SchemaBuilder()
        .add("n", s.integer())
        .add("x", s.number())
        .add("b", s.boolean())
        .add("s", s.string())
        .build()
    )
    path = str(tmp_path_factory.mktemp("typed"))
    with eigenlake.connect(path=path) as client:
        idx = client.indexes.create_or_get(
            namespace="t", index="typed", dimensions=2, schema=schema, index_options=options
        )
        vecs = np.random.default_rng(pick).standard_normal((len(rows), 2)).astype(np.float32)
        idx.records.add_many(
            [{"properties": r, "vector": v} for r, v in zip(rows, vecs, strict=True)]
        )
        flt = None if pick % 3 else {"b": True}  # a filter picks rows out of order of rows
        exported = idx.records._export(flt, None, False, True)
    assert set(exported.columns) == {"n", "x", "b", "s"}
    plain = dataclasses.replace(exported, columns={})
    assert to_arrow(exported, None).equals(to_arrow(plain, None))
    pd.testing.assert_frame_equal(to_pandas(exported, None), to_pandas(plain, None))
