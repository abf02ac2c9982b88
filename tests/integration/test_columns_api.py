"""``records.add_many`` of a DataFrame, an Arrow table and a dict of columns in every mode
(embedded, remote, distributed): the same records as the dict path stores."""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from eigenlake import schema as s
from eigenlake.errors import ValidationError

DIM = 6


def _index(client: Any, name: str) -> Any:
    schema, options = (
        s.SchemaBuilder()
        .add("title", s.string())
        .add("year", s.integer(filterable=True))
        .add("score", s.number())
        .add("when", s.datetime())
        .build()
    )
    return client.indexes.create_or_get(
        namespace="cols", index=name, dimensions=DIM, schema=schema, index_options=options
    )


def _all(idx: Any) -> dict[str, Any]:
    page = idx.records.list(limit=1000, with_vector=True)
    return {o["uuid"]: (o["metadata"], np.float32(o["vector"]).tobytes()) for o in page["objects"]}


def test_tables_store_what_the_dict_path_stores(client: Any) -> None:
    n = 5
    vecs = np.random.default_rng(0).standard_normal((n, DIM)).astype(np.float32)
    ids = [str(uuid.UUID(int=i + 1)) for i in range(n)]
    when = [pd.Timestamp("2024-02-01 10:00") + pd.Timedelta(hours=i) for i in range(n)]
    df = pd.DataFrame(
        {
            "id": ids,
            "title": [f"t{i}" if i != 1 else None for i in range(n)],
            "year": pd.array([2000 + i if i != 2 else None for i in range(n)], dtype="Int64"),
            "score": np.linspace(0, 1, n),
            "when": [w if i != 3 else pd.NaT for i, w in enumerate(when)],
            "vector": list(vecs),
        }
    )
    rows = []
    for i in range(n):
        props: dict[str, Any] = {"score": float(np.linspace(0, 1, n)[i])}
        if i != 1:
            props["title"] = f"t{i}"
        if i != 2:
            props["year"] = 2000 + i
        if i != 3:
            props["when"] = when[i]
        rows.append({"id": ids[i], "properties": props, "vector": vecs[i]})
    oracle = _index(client, "dicts")
    oracle.records.add_many(rows)
    want = _all(oracle)

    idx = _index(client, "frame")
    assert list(idx.records.add_many(df, id_column="id")) == ids
    assert _all(idx) == want

    tbl = pa.Table.from_pandas(df.drop(columns=["vector"]), preserve_index=False)
    tbl = tbl.append_column(
        "emb", pa.FixedSizeListArray.from_arrays(pa.array(vecs.reshape(-1)), DIM)
    )
    idx = _index(client, "arrow")
    idx.records.add_many(tbl, id_column="id", vector_column="emb")
    assert _all(idx) == want

    idx = _index(client, "dict")
    cols = {k: df[k].tolist() for k in ("id", "title", "year", "score", "when")}
    idx.records.add_many(cols, vectors=vecs, id_column="id")
    assert _all(idx) == want
    assert idx.records.count({"year": {"$gte": 2003}}) == 2


def test_bad_rows_by_position_in_every_mode(client: Any) -> None:
    vecs = np.random.default_rng(1).standard_normal((4, DIM)).astype(np.float32)
    idx = _index(client, "bad")
    data = {"year": pd.Series([1, "two", 3, "four"], dtype=object)}
    with pytest.raises(ValidationError, match="record 1: property 'year': expected an integer"):
        idx.records.add_many(data, vectors=vecs)
    assert idx.records.count() == 0
    res = idx.records.add_many(data, vectors=vecs, on_error="continue")
    assert [f.position for f in res.failed_records] == [1, 3]
    assert len(res) == 2 and idx.records.count() == 2
