"""``records.add_many`` of tables (pandas, Arrow, dict of columns), embedded: the dict path
is the oracle — the same rows sent as record dicts (missing values left out) must store the
same uuids, properties and bit-identical vectors, and fail with the same messages."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import eigenlake
from eigenlake import schema as s
from eigenlake.api.columns import to_columns
from eigenlake.errors import ConflictError, ValidationError

DIM = 8


def _schema(**extra: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    b = (
        s.SchemaBuilder()
        .add("title", s.string())
        .add("year", s.integer(filterable=True))
        .add("score", s.number())
        .add("flag", s.boolean())
        .add("when", s.datetime())
        .add("kind", s.string(filterable=True))
    )
    for name, spec in extra.items():
        b = b.add(name, spec)
    return b.build()


@pytest.fixture()
def client(tmp_path: Path) -> Any:
    with eigenlake.connect(path=str(tmp_path / "store")) as c:
        yield c


_COUNTER = iter(range(10**6))


def _index(client: Any, schema: Any = None, **options: Any) -> Any:
    sch, opts = schema if schema is not None else _schema()
    return client.indexes.create_or_get(
        namespace="t",
        index=f"i{next(_COUNTER)}",
        dimensions=DIM,
        schema=sch,
        index_options={**(opts or {}), **options},
    )


def _vectors(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)


def _ids(n: int) -> list[str]:
    return [str(uuid.UUID(int=i + 1)) for i in range(n)]


def _stored(idx: Any) -> dict[str, Any]:
    """uuid -> (properties, vector bytes), read back through list (with vectors) and get."""
    out: dict[str, Any] = {}
    after = None
    while True:
        page = idx.records.list(limit=1000, after=after, with_vector=True)
        for o in page["objects"]:
            out[o["uuid"]] = (o["metadata"], np.float32(o["vector"]).tobytes())
        after = page["next_after"]
        if after is None:
            break
    for uid, (props, _vec) in list(out.items())[:5]:
        got = idx.records.get(uid)
        assert got["metadata"] == props
        assert np.float32(got["vector"]).tobytes() == out[uid][1]
    return out


def _same(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        pa_, pb = a[k][0], b[k][0]
        assert pa_ == pb, (k, pa_, pb)
        # types too (1 == 1.0 == True in Python)
        assert {n: type(v) for n, v in pa_.items()} == {n: type(v) for n, v in pb.items()}
        assert a[k][1] == b[k][1]


def _as_dicts(rows: list[dict[str, Any]], vecs: np.ndarray, ids: list[Any] | None) -> list[dict]:
    out = []
    for i, props in enumerate(rows):
        rec: dict[str, Any] = {"properties": props, "vector": vecs[i]}
        if ids is not None and ids[i] is not None:
            rec["id"] = ids[i]
        out.append(rec)
    return out


def _oracle(client: Any, records: list[dict], schema: Any = None, **kw: Any) -> dict[str, Any]:
    idx = _index(client, schema)
    idx.records.add_many(records, **kw)
    return _stored(idx)


# ---- each input kind vs the dict path ---------------------------------------------------


def _frame(n: int = 7) -> tuple[pd.DataFrame, list[dict[str, Any]], np.ndarray, list[str]]:
    vecs = _vectors(n)
    ids = _ids(n)
    when = [pd.Timestamp("2024-01-02 03:04:05") + pd.Timedelta(days=i) for i in range(n)]
    df = pd.DataFrame(
        {
            "id": ids,
            "title": [f"t{i}" if i % 3 else None for i in range(n)],
            "year": pd.array([2000 + i if i % 4 else None for i in range(n)], dtype="Int64"),
            "score": np.array([0.5 * i if i != 2 else np.nan for i in range(n)]),
            "flag": [bool(i % 2) for i in range(n)],
            "when": [w if i != 1 else pd.NaT for i, w in enumerate(when)],
            "kind": pd.Categorical([["a", "b"][i % 2] if i != 5 else None for i in range(n)]),
            "count64": np.arange(n, dtype=np.int64) * 3,
            "nullable": pd.array([i if i % 2 else pd.NA for i in range(n)], dtype="Int64"),
            "label": pd.array([f"x{i}" if i != 3 else None for i in range(n)], dtype="string"),
            "vector": list(vecs),
        }
    )
    rows = []
    for i in range(n):
        r: dict[str, Any] = {}
        if i % 3:
            r["title"] = f"t{i}"
        if i % 4:
            r["year"] = 2000 + i
        if i != 2:
            r["score"] = 0.5 * i
        r["flag"] = bool(i % 2)
        if i != 1:
            r["when"] = when[i]
        if i != 5:
            r["kind"] = ["a", "b"][i % 2]
        r["count64"] = 3 * i
        if i % 2:
            r["nullable"] = i
        if i != 3:
            r["label"] = f"x{i}"
        rows.append(r)
    return df, rows, vecs, ids


def test_dataframe_matches_the_dict_path(client: Any) -> None:
    df, rows, vecs, ids = _frame()
    sch = _schema(count64=s.integer(), nullable=s.integer(), label=s.string())
    idx = _index(client, sch)
    res = idx.records.add_many(df, id_column="id")
    assert list(res) == ids and res.number_errors == 0
    got = _stored(idx)
    _same(got, _oracle(client, _as_dicts(rows, vecs, ids), sch))
    # datetimes are stored as the dict path stores them: ISO-8601 strings, UTC when naive
    assert got[ids[0]][0]["when"] == "2024-01-02T03:04:05+00:00"
    assert idx.records.count({"year": {"$gte": 2003}}) == 3
    assert idx.records.count({"kind": "a"}) == 4


def test_dataframe_with_tz_aware_timestamps_and_numpy_scalars(client: Any) -> None:
    n = 4
    vecs = _vectors(n, 3)
    when = pd.date_range("2024-03-01", periods=n, freq="h", tz="Europe/Paris")
    df = pd.DataFrame(
        {"when": when, "year": np.array([1, 2, 3, 4], dtype=np.int32), "vector": list(vecs)}
    )
    df["score"] = pd.Series([np.float32(0.25)] * n, dtype=object)
    rows = [{"when": when[i], "year": int(i + 1), "score": np.float32(0.25)} for i in range(n)]
    ids = _ids(n)
    df.insert(0, "rid", ids)
    idx = _index(client)
    idx.records.add_many(df, id_column="rid")
    _same(_stored(idx), _oracle(client, _as_dicts(rows, vecs, ids)))


def _arrow_table(n: int = 6) -> tuple[pa.Table, list[dict[str, Any]], np.ndarray, list[str]]:
    vecs = _vectors(n, 1)
    ids = _ids(n)
    fsl = pa.FixedSizeListArray.from_arrays(pa.array(vecs.reshape(-1)), DIM)
    tbl = pa.table(
        {
            "uid": ids,
            "title": pa.array([f"t{i}" if i != 2 else None for i in range(n)]),
            "year": pa.array([2000 + i if i != 4 else None for i in range(n)], pa.int32()),
            "score": pa.array([i / 4 if i != 0 else None for i in range(n)], pa.float64()),
            "flag": pa.array([i % 2 == 0 if i != 3 else None for i in range(n)]),
            "kind": pa.array(["a", "b", "a", None, "b", "a"][:n]).dictionary_encode(),
            "when": pa.array(
                [dt.datetime(2024, 5, 1 + i, 12, 0) if i != 5 else None for i in range(n)],
                pa.timestamp("us"),
            ),
            "emb": fsl,
        }
    )
    rows = []
    for i in range(n):
        r: dict[str, Any] = {}
        if i != 2:
            r["title"] = f"t{i}"
        if i != 4:
            r["year"] = 2000 + i
        if i != 0:
            r["score"] = i / 4
        if i != 3:
            r["flag"] = i % 2 == 0
        k = ["a", "b", "a", None, "b", "a"][i]
        if k is not None:
            r["kind"] = k
        if i != 5:
            r["when"] = dt.datetime(2024, 5, 1 + i, 12, 0)
        rows.append(r)
    return tbl, rows, vecs, ids


def test_arrow_table_with_nulls_and_fixed_size_list_vectors(client: Any) -> None:
    tbl, rows, vecs, ids = _arrow_table()
    idx = _index(client)
    res = idx.records.add_many(tbl, vector_column="emb", id_column="uid")
    assert list(res) == ids
    _same(_stored(idx), _oracle(client, _as_dicts(rows, vecs, ids)))


def test_arrow_record_batch_and_chunked_table(client: Any) -> None:
    tbl, rows, vecs, ids = _arrow_table()
    oracle = _oracle(client, _as_dicts(rows, vecs, ids))
    for data in (tbl.to_batches()[0], pa.concat_tables([tbl.slice(0, 2), tbl.slice(2)])):
        idx = _index(client)
        idx.records.add_many(data, vector_column="emb", id_column="uid")
        _same(_stored(idx), oracle)


def test_arrow_list_vectors_of_float64(client: Any) -> None:
    vecs = _vectors(3, 2).astype(np.float64)
    tbl = pa.table({"vector": pa.array([list(v) for v in vecs]), "year": [1, 2, 3]})
    idx = _index(client)
    idx.records.add_many(tbl)
    got = sorted(_stored(idx).values(), key=lambda v: v[0]["year"])
    assert [g[1] for g in got] == [v.astype(np.float32).tobytes() for v in vecs]


def test_dict_of_columns_and_vectors_argument(client: Any) -> None:
    n = 5
    vecs = _vectors(n, 4)
    ids = _ids(n)
    cols = {
        "id": ids,
        "title": [f"t{i}" if i else None for i in range(n)],
        "year": np.arange(n) + 1990,
        "score": [0.1 * i for i in range(n)],
        "tags": [["x", "y"][: i % 3] for i in range(n)],
    }
    rows = [
        {
            **({"title": f"t{i}"} if i else {}),
            "year": 1990 + i,
            "score": 0.1 * i,
            "tags": ["x", "y"][: i % 3],
        }
        for i in range(n)
    ]
    sch = _schema(tags=s.array(s.string()))
    oracle = _oracle(client, _as_dicts(rows, vecs, ids), sch)
    idx = _index(client, sch)
    idx.records.add_many({**cols, "vector": list(vecs)}, id_column="id")
    _same(_stored(idx), oracle)
    idx = _index(client, sch)
    idx.records.add_many(cols, vectors=vecs, id_column="id")
    _same(_stored(idx), oracle)
    idx = _index(client, sch)
    idx.records.add_many(pd.DataFrame(cols), vectors=vecs, id_column="id")
    _same(_stored(idx), oracle)


def test_open_schema_types_new_columns_like_the_dict_path(client: Any) -> None:
    n = 4
    vecs = _vectors(n, 5)
    ids = _ids(n)
    cols = {"a": [1, 2, None, 4], "b": ["x", None, "y", "z"], "c": [0.5, 1.5, 2.5, float("nan")]}
    rows = [
        {k: v[i] for k, v in cols.items() if v[i] is not None and v[i] == v[i]} for i in range(n)
    ]
    idx_d = client.indexes.create_or_get(namespace="t", index="open_d", dimensions=DIM)
    idx_d.records.add_many(_as_dicts(rows, vecs, ids))
    idx_c = client.indexes.create_or_get(namespace="t", index="open_c", dimensions=DIM)
    idx_c.records.add_many(cols, vectors=vecs, id_column=None)
    # no ids given: fresh uuids; compare by content
    a = sorted((str(p), v) for p, v in _stored(idx_d).values())
    b = sorted((str(p), v) for p, v in _stored(idx_c).values())
    assert a == b
    assert idx_c.settings.schema()["properties"] == idx_d.settings.schema()["properties"]
    assert idx_c.records.count({"a": {"$gte": 2}}) == 2


def test_record_id_property_derives_the_same_uuids(client: Any) -> None:
    sch = _schema(acc=s.string())
    n = 4
    vecs = _vectors(n, 6)
    rows = [{"acc": f"P{i}", "year": i} for i in range(n)]
    idx_d = _index(client, sch, record_id_property="acc")
    idx_d.records.add_many(_as_dicts(rows, vecs, None))
    idx_c = _index(client, sch, record_id_property="acc")
    res = idx_c.records.add_many(pd.DataFrame(rows), vectors=vecs)
    assert sorted(res) == sorted(_stored(idx_c))
    # same namespace and index name give the same uuid5: compare the ids' order instead
    assert len(set(res)) == n


# ---- errors: the same words as the dict path, named by column and row -------------------


def _dict_error(client: Any, records: list[dict], schema: Any = None, **kw: Any) -> str:
    idx = _index(client, schema)
    with pytest.raises(ValidationError) as e:
        idx.records.add_many(records, **kw)
    assert idx.records.count() == 0
    return str(e.value)


def test_errors_name_the_column_and_first_bad_row(client: Any) -> None:
    n = 5
    vecs = _vectors(n, 7)
    cases: list[tuple[str, list[Any]]] = [
        ("year", [1, 2, "three", 4, "five"]),
        ("year", [1.0, 2.5, 3.0, 4.0, 5.0]),  # floats, even whole ones, as the dict path
        ("score", [0.5, 1.0, float("inf"), 2.0, 3.0]),
        ("flag", [True, False, 1, True, False]),
        ("when", ["2024-01-01", "yesterday", None, None, None]),
    ]
    for name, values in cases:
        rows = [{name: v} if v is not None else {} for v in values]
        want = _dict_error(client, _as_dicts(rows, vecs, None))
        idx = _index(client)
        with pytest.raises(ValidationError) as e:
            idx.records.add_many({name: values}, vectors=vecs)
        assert str(e.value) == want
        assert f"property {name!r}" in str(e.value)
        assert idx.records.count() == 0


def test_required_closed_schema_and_ids_errors(client: Any) -> None:
    sch = s.SchemaBuilder(additional_properties=False).add("t", s.string(required=True)).build()
    vecs = _vectors(3, 8)
    want = _dict_error(client, _as_dicts([{"t": "a"}, {}, {"t": "c"}], vecs, None), sch)
    idx = _index(client, sch)
    with pytest.raises(ValidationError) as e:
        idx.records.add_many({"t": ["a", None, "c"]}, vectors=vecs)
    assert str(e.value) == want == "record 1: required property 't' is missing"
    want = _dict_error(client, _as_dicts([{"t": "a", "u": 1}] * 3, vecs, None), sch)
    with pytest.raises(ValidationError) as e:
        idx.records.add_many({"t": ["a"] * 3, "u": [1, 2, 3]}, vectors=vecs)
    assert str(e.value) == want
    want = _dict_error(client, _as_dicts([{"t": "a"}] * 3, vecs, ["x", None, None]), sch)
    with pytest.raises(ValidationError) as e:
        idx.records.add_many(
            {"t": ["a"] * 3, "id": ["x", None, None]}, vectors=vecs, id_column="id"
        )
    assert str(e.value) == want
    assert idx.records.count() == 0


def test_vector_errors(client: Any) -> None:
    vecs = _vectors(3, 9)
    bad = [vecs[0], vecs[1][:3], vecs[2]]
    want = _dict_error(client, [{"properties": {}, "vector": v} for v in bad])
    idx = _index(client)
    with pytest.raises(ValidationError) as e:
        idx.records.add_many({"vector": bad})
    assert str(e.value) == want
    nan = vecs.copy()
    nan[2, 1] = np.nan
    want = _dict_error(client, [{"properties": {}, "vector": v} for v in nan])
    with pytest.raises(ValidationError) as e:
        idx.records.add_many({"year": [1, 2, 3]}, vectors=nan)
    assert str(e.value) == want
    with pytest.raises(ValidationError, match="has no vector column 'vector'"):
        idx.records.add_many({"year": [1, 2, 3]})
    with pytest.raises(ValidationError, match="vectors has 2 rows, data has 3"):
        idx.records.add_many({"year": [1, 2, 3]}, vectors=vecs[:2])
    with pytest.raises(ValidationError, match="column 'a' has 3 values, column 'b' has 2"):
        idx.records.add_many({"a": [1, 2, 3], "b": [1, 2]}, vectors=vecs)
    idx4 = client.indexes.create_or_get(namespace="t", index="d4", dimensions=4)
    with pytest.raises(ValidationError, match="vectors have 8 dimensions, the index has 4"):
        idx4.records.add_many({"v": [1]}, vectors=np.ones((1, 8)))
    assert idx.records.count() == 0


def test_continue_reports_bad_rows_by_position_and_stores_the_rest(client: Any) -> None:
    n = 8
    vecs = _vectors(n, 10)
    vecs[6] = 0.0  # cosine: no direction
    ids = _ids(n)
    ids[4] = ids[1]  # repeats record 1
    years: list[Any] = [1, 2, "x", 4, 5, 6, 7, 8]
    rows = [{"year": y} for y in years]
    idx_d = _index(client)
    want = idx_d.records.add_many(_as_dicts(rows, vecs, ids), on_error="continue")
    idx_c = _index(client)
    got = idx_c.records.add_many(
        pd.DataFrame({"year": pd.Series(years, dtype=object), "id": ids}),
        vectors=vecs,
        id_column="id",
        on_error="continue",
    )
    assert [(f.position, f.id, f.error) for f in got.failed_records] == [
        (f.position, f.id, f.error) for f in want.failed_records
    ]
    assert [f.position for f in got.failed_records] == [2, 4, 6]
    assert list(got) == list(want)
    _same(_stored(idx_c), _stored(idx_d))


def test_raise_stores_nothing_and_duplicates(client: Any) -> None:
    vecs = _vectors(4, 11)
    ids = _ids(4)
    idx = _index(client)
    idx.records.add_many({"id": ids[:2]}, vectors=vecs[:2], id_column="id")
    with pytest.raises(ConflictError, match="record 2: id .* already exists"):
        idx.records.add_many({"id": ids[2:] + ids[1:2]}, vectors=vecs[:3], id_column="id")
    assert idx.records.count() == 2
    res = idx.records.add_many(
        {"id": [ids[1], ids[3]], "year": [5, 6]},
        vectors=vecs[2:4],
        id_column="id",
        on_duplicate="replace",
    )
    assert list(res) == [ids[1], ids[3]]
    assert idx.records.get(ids[1])["metadata"] == {"year": 5}
    res = idx.records.add_many(
        {"id": [ids[0]], "year": [9]}, vectors=vecs[:1], id_column="id", on_duplicate="skip"
    )
    assert list(res) == [] and idx.records.get(ids[0])["metadata"] == {}


def test_arguments_are_checked(client: Any) -> None:
    idx = _index(client)
    with pytest.raises(ValidationError, match="id_column 'nope' is not a column"):
        idx.records.add_many({"a": [1]}, vectors=_vectors(1), id_column="nope")
    with pytest.raises(ValidationError, match="id_column and vector_column name columns"):
        idx.records.add_many([{"vector": _vectors(1)[0]}], id_column="x")
    with pytest.raises(ValidationError, match="column names must be strings"):
        idx.records.add_many(pd.DataFrame({0: [1]}), vectors=_vectors(1))
    with pytest.raises(ValidationError, match="also has a column 'vector'"):
        idx.records.add_many({"vector": [[1] * DIM]}, vectors=_vectors(1))
    with pytest.raises(ValidationError, match="a list or array of values per column"):
        idx.records.add_many({"a": 1}, vectors=_vectors(1))


def test_progress_bar_on_request(client: Any, capsys: pytest.CaptureFixture[str]) -> None:
    idx = _index(client)
    idx.records.add_many({"year": [1, 2]}, vectors=_vectors(2), progress=True)
    assert "add_many" in capsys.readouterr().err
    idx.records.add_many({"year": [1, 2]}, vectors=_vectors(2, 1), progress=False)
    assert capsys.readouterr().err == ""
    with pytest.raises(ValidationError):
        idx.records.add_many({"year": [1]}, vectors=_vectors(1), progress="yes")


def test_missing_values_in_columns() -> None:
    cols = to_columns(
        {
            "a": [1, None, 3],
            "b": [1.0, float("nan"), None],
            "c": ["x", pd.NA, None],
            "d": [pd.NaT, pd.Timestamp("2024-01-01"), None],
        },
        vectors=np.ones((3, 2)),
    )
    got = {c.name: (c.kind, c.python()) for c in cols.properties}
    assert got["a"] == ("integer", [1, None, 3])
    assert got["b"] == ("number", [1.0, None, None])
    assert got["c"] == ("string", ["x", None, None])
    assert got["d"][1][:1] == [None] and got["d"][0] == "datetime"


# ---- the bulk path: vectors in the vector file -------------------------------------------


def test_bulk_write_survives_reopen_update_and_remove(tmp_path: Path) -> None:
    n = 1000
    vecs = _vectors(n, 12)
    ids = _ids(n)
    tbl = pa.table(
        {
            "id": ids,
            "year": np.arange(n),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(vecs.reshape(-1)), DIM),
        }
    )
    path = str(tmp_path / "s")
    with eigenlake.connect(path=path) as c:
        idx = c.indexes.create_or_get(namespace="t", index="bulk", dimensions=DIM)
        idx.records.add_many(tbl, id_column="id")
        idx.records.add_many([{"properties": {"year": -1}, "vector": vecs[0]} for _ in range(300)])
        idx.records.remove(ids[3])
        idx.records.update(ids[5], properties={"year": 55}, vector=vecs[6])
        idx.records.update(ids[7], properties={"year": 77})
    files = os.listdir(tmp_path / "s" / "t" / "bulk")
    assert any(f.startswith("vectors-") for f in files)
    with eigenlake.connect(path=path) as c:
        idx = c.indexes.open(namespace="t", index="bulk")
        assert idx.records.count() == n - 1 + 300
        assert idx.records.get(ids[3]) is None
        got = idx.records.get(ids[5])
        assert got["metadata"] == {"year": 55}
        assert np.float32(got["vector"]).tobytes() == vecs[6].tobytes()
        assert idx.records.get(ids[7])["metadata"] == {"year": 77}
        for i in (0, 8, 999):
            assert np.float32(idx.records.get(ids[i])["vector"]).tobytes() == vecs[i].tobytes()
        hits = idx.search.nearest(vector=vecs[10], limit=1)
        assert hits["results"][0]["uuid"] == ids[10]


def test_truncated_vector_file_is_damage(tmp_path: Path) -> None:
    path = str(tmp_path / "s")
    with eigenlake.connect(path=path) as c:
        idx = c.indexes.create_or_get(namespace="t", index="bulk", dimensions=DIM)
        idx.records.add_many({"year": list(range(400))}, vectors=_vectors(400))
    folder = tmp_path / "s" / "t" / "bulk"
    (vec_file,) = [f for f in os.listdir(folder) if f.startswith("vectors-")]
    os.truncate(folder / vec_file, 100)
    with eigenlake.connect(path=path) as c, pytest.raises(eigenlake.errors.StorageError):
        c.indexes.open(namespace="t", index="bulk").records.count()


def test_failed_vector_write_stores_nothing(tmp_path: Path, monkeypatch: Any) -> None:
    """The vector file is written on a worker thread: its failure must still fail the call
    and roll the rows back, and the next bulk write must land where this one would have."""
    from eigenlake.embedded import store as store_module

    path = str(tmp_path / "s")
    vecs = _vectors(600, 3)
    with eigenlake.connect(path=path) as c:
        idx = c.indexes.create_or_get(namespace="t", index="bulk", dimensions=DIM)
        idx.records.add_many({"year": list(range(300))}, vectors=vecs[:300])

        def broken_fsync(fd: int) -> None:
            raise OSError(5, "Input/output error")

        with monkeypatch.context() as m:
            m.setattr(store_module.os, "fsync", broken_fsync)
            with pytest.raises(OSError, match="Input/output error"):
                idx.records.add_many({"year": [-1] * 300}, vectors=vecs[300:])
        assert idx.records.count() == 300
        ids = list(idx.records.add_many({"year": list(range(300, 600))}, vectors=vecs[300:]))
    with eigenlake.connect(path=path) as c:
        idx = c.indexes.open(namespace="t", index="bulk")
        assert idx.records.count() == 600
        assert idx.records.count({"year": -1}) == 0
        for k in (0, 150, 299):
            got = idx.records.get(ids[k])
            assert got["metadata"] == {"year": 300 + k}
            assert np.float32(got["vector"]).tobytes() == vecs[300 + k].tobytes()


def test_bulk_write_racing_another_clients_write(tmp_path: Path, monkeypatch: Any) -> None:
    """Another client commits while a bulk write checks its rows (before it takes the write
    lock): the writer's cache is rebuilt inside its transaction and its rows are copied in.
    They must be the rows sent, normalised as a fresh open reads them (cosine)."""
    from eigenlake.embedded import ingest as ingest_module

    path = str(tmp_path / "s")
    vecs = _vectors(900, 5) * 3.0  # not unit length: normalisation shows
    real = ingest_module._dedupe_rows
    with eigenlake.connect(path=path) as a, eigenlake.connect(path=path) as b:
        ia = a.indexes.create_or_get(namespace="t", index="two", dimensions=DIM)
        ib = b.indexes.open(namespace="t", index="two")
        ib.records.count()  # b's cache is loaded
        raced: list[int] = []

        def racing(*args: Any, **kwargs: Any) -> Any:
            if not raced:
                raced.append(1)
                ia.records.add_many({"year": list(range(300))}, vectors=vecs[:300])
            return real(*args, **kwargs)

        monkeypatch.setattr(ingest_module, "_dedupe_rows", racing)
        ib.records.add_many({"year": list(range(300, 900))}, vectors=vecs[300:])
        assert raced and ib.records.count() == 900
        got_b = [ib.search.nearest(vector=vecs[i], limit=3) for i in (0, 301, 899)]
    with eigenlake.connect(path=path) as c:
        ic = c.indexes.open(namespace="t", index="two")
        got_c = [ic.search.nearest(vector=vecs[i], limit=3) for i in (0, 301, 899)]
    for one, fresh in zip(got_b, got_c, strict=True):
        assert [(h["uuid"], h["distance"]) for h in one["results"]] == [
            (h["uuid"], h["distance"]) for h in fresh["results"]
        ]


WRITER = textwrap.dedent(
    """
    import sys, numpy as np, pyarrow as pa, eigenlake
    path, batch = sys.argv[1], int(sys.argv[2])
    def vec(i):
        return np.random.default_rng(i).standard_normal(8).astype("float32")
    with eigenlake.connect(path=path) as c:
        idx = c.indexes.create_or_get(namespace="d", index="k", dimensions=8)
        i = 0
        while True:
            rows = range(i, i + batch)
            vecs = np.stack([vec(j) for j in rows])
            tbl = pa.table({"i": list(rows), "vector": pa.FixedSizeListArray.from_arrays(
                pa.array(vecs.reshape(-1)), 8)})
            for uid in idx.records.add_many(tbl):
                print(uid, flush=True)
            i += batch
    """
)


def test_kill_9_keeps_every_acknowledged_bulk_write(tmp_path: Path) -> None:
    path = tmp_path / "store"
    batch = 300  # past the vector-file threshold
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), str(batch)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    acked = []
    for line in proc.stdout:
        acked.append(line.strip())
        if len(acked) >= 3 * batch:
            break
    os.kill(proc.pid, signal.SIGKILL)
    rest, err = proc.communicate()
    acked += [x for x in rest.split("\n") if x.strip()]
    assert acked, err
    with eigenlake.connect(path=str(path)) as client:
        idx = client.indexes.open(namespace="d", index="k")
        stored = {}
        after = None
        while True:
            page = idx.records.list(limit=1000, after=after, with_vector=True)
            for o in page["objects"]:
                stored[o["uuid"]] = o
                want = np.random.default_rng(o["metadata"]["i"]).standard_normal(8)
                np.testing.assert_array_equal(np.float32(o["vector"]), want.astype("float32"))
            after = page["next_after"]
            if after is None:
                break
        assert set(acked) <= set(stored)
        assert len(stored) % batch == 0


# ---- property: random tables ingested columnar equal the same rows as dicts -------------

_cell = {
    "year": st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
    "score": st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)),
    "title": st.one_of(st.none(), st.text(max_size=5)),
    "flag": st.one_of(st.none(), st.booleans()),
}


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.fixed_dictionaries(_cell), min_size=1, max_size=12),
    kind=st.sampled_from(["dict", "pandas", "arrow"]),
)
def test_random_tables_equal_the_dict_path(client: Any, rows: list[dict], kind: str) -> None:
    n = len(rows)
    vecs = _vectors(n, n)
    ids = _ids(n)
    names = list(_cell)
    cols = {k: [r[k] for r in rows] for k in names}
    data: Any
    if kind == "dict":
        data = {**cols, "id": ids}
    elif kind == "pandas":
        data = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in cols.items()})
        data["id"] = ids
    else:
        data = pa.table(
            {
                "year": pa.array(cols["year"], pa.int64()),
                "score": pa.array(cols["score"], pa.float64()),
                "title": pa.array(cols["title"], pa.string()),
                "flag": pa.array(cols["flag"], pa.bool_()),
                "id": ids,
            }
        )
    dict_rows = [{k: v for k, v in r.items() if v is not None} for r in rows]
    if any(
        "title" in r and not eigenlake.schema.is_utf8(r["title"]) for r in dict_rows
    ):  # a lone surrogate: both refuse it (checked elsewhere)
        return
    idx = _index(client)
    idx.records.add_many(data, vectors=vecs, id_column="id")
    _same(_stored(idx), _oracle(client, _as_dicts(dict_rows, vecs, ids)))


def test_string_codes_of_table_writes_match_a_reload(tmp_path: Path) -> None:
    """A table write gives new strings their codes in first-seen order, as loading the
    store does: the live cache and a fresh open hold the same categories and codes."""
    path = str(tmp_path / "s")
    first = ["b", "a", "b", "c"] * 100
    second = ["d", "a", "e", "d"] * 100
    with eigenlake.connect(path=path) as c:
        idx = c.indexes.create_or_get(namespace="t", index="codes", dimensions=DIM)
        idx.records.add_many({"tag": first}, vectors=_vectors(400, 1))
        idx.records.add_many({"tag": second}, vectors=_vectors(400, 2))
        with idx.reading() as view:
            codes, cats, _ = view.cache.categorical("tag")
            live = (codes.tolist(), list(cats))
    with eigenlake.connect(path=path) as c:
        idx = c.indexes.open(namespace="t", index="codes")
        with idx.reading() as view:
            codes, cats, _ = view.cache.categorical("tag")
            assert (codes.tolist(), list(cats)) == live
        assert idx.records.count({"tag": "e"}) == 100
    assert live[1] == ["b", "a", "c", "d", "e"]


def test_bulk_json_falls_back_to_python_when_the_core_refuses(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """Values the core's JSON writer does not take are encoded by Python instead: the same
    records come back either way."""
    from eigenlake.embedded import ingest as ingest_module

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise TypeError("not a str")

    rows = {"year": list(range(300)), "name": [f"n{i}" if i % 3 else None for i in range(300)]}
    vecs = _vectors(300, 8)
    got = {}
    for label, patch in (("core", False), ("python", True)):
        with eigenlake.connect(path=str(tmp_path / label)) as c:
            idx = c.indexes.create_or_get(namespace="t", index="j", dimensions=DIM)
            with monkeypatch.context() as m:
                if patch:
                    m.setattr(ingest_module._core, "json_objects", refuse)
                idx.records.add_many(rows, vectors=vecs)
        with eigenlake.connect(path=str(tmp_path / label)) as c:  # read back from the store
            idx = c.indexes.open(namespace="t", index="j")
            got[label] = [o["metadata"] for o in idx.records.list(limit=1000)["objects"]]
    assert got["core"] == got["python"]
    assert got["core"][1] == {"year": 1, "name": "n1"} and got["core"][3] == {"year": 3}
