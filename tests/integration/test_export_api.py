"""Records out as NumPy, Arrow and pandas, in every mode: vectors bit-identical to what was
stored (cosine and euclidean indexes), properties in typed columns, the index order, filters
and limits as ``records.list`` applies them (the oracle: the records as built here)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from api_helpers import DIM, make_index, records

from eigenlake import ValidationError

N = 40


@pytest.fixture(params=["cosine", "euclidean"])
def loaded(client, request):
    idx = make_index(client, options={"distance_metric": request.param})
    recs = records(N)
    recs[3]["properties"].pop("score")  # a missing value
    recs[5]["properties"].pop("seen")
    uuids = idx.records.add_many(recs)
    return idx, list(uuids), recs


def test_to_numpy_is_bit_identical_in_index_order(loaded):
    idx, uuids, recs = loaded
    got_ids, x = idx.records.to_numpy()
    assert got_ids == uuids
    assert x.dtype == np.float32 and x.shape == (N, DIM) and x.flags.c_contiguous
    want = np.stack([r["vector"] for r in recs]).astype(np.float32)
    assert np.array_equal(x.view(np.uint32), want.view(np.uint32))
    flt = {"organism": "Mus musculus"}
    ids, xs = idx.records.to_numpy(flt, limit=5)
    keep = [i for i, r in enumerate(recs) if r["properties"]["organism"] == "Mus musculus"][:5]
    assert ids == [uuids[i] for i in keep]
    assert np.array_equal(xs, want[keep])
    ids, xs = idx.records.to_numpy({"organism": "nobody"})
    assert ids == [] and xs.shape == (0, DIM) and xs.dtype == np.float32


def test_to_arrow_types_and_round_trip(loaded):
    idx, uuids, recs = loaded
    table = idx.records.to_arrow()
    assert isinstance(table, pa.Table) and table.num_rows == N
    assert table.column_names[0] == "uuid" and table.column_names[-1] == "vector"
    schema = table.schema
    assert schema.field("length").type == pa.int64()
    assert schema.field("score").type == pa.float64()
    assert schema.field("reviewed").type == pa.bool_()
    assert schema.field("organism").type == pa.string()
    assert schema.field("tags").type == pa.list_(pa.string())
    assert schema.field("seen").type == pa.timestamp("us", tz="UTC")
    assert schema.field("day").type == pa.date32()
    assert schema.field("vector").type == pa.list_(pa.float32(), DIM)
    assert table.column("uuid").to_pylist() == uuids
    vec = np.asarray(table.column("vector").combine_chunks().flatten()).reshape(N, DIM)
    want = np.stack([r["vector"] for r in recs]).astype(np.float32)
    assert np.array_equal(vec, want)
    rows = table.drop_columns(["vector"]).to_pylist()
    for row, rec in zip(rows, recs, strict=True):
        props = rec["properties"]
        assert row["length"] == props["length"] and row["tags"] == props["tags"]
        assert row["score"] == props.get("score")  # None where it was left out
        assert row["day"] == dt.date.fromisoformat(props["day"])
        if "seen" in props:
            assert row["seen"] == dt.datetime.fromisoformat(props["seen"])
        else:
            assert row["seen"] is None
    only = idx.records.to_arrow({"reviewed": True}, columns=["length"], with_vector=False)
    assert only.column_names == ["uuid", "length"]
    assert only.num_rows == sum(r["properties"]["reviewed"] for r in recs)


def test_to_pandas_types_and_round_trip(loaded):
    idx, uuids, recs = loaded
    df = idx.records.to_pandas(limit=20)
    assert len(df) == 20 and list(df["uuid"]) == uuids[:20]
    assert df["length"].dtype == np.int64
    assert df["score"].dtype == "Float64" and pd.isna(df["score"][3])
    assert df["reviewed"].dtype == bool
    assert str(df["seen"].dtype).startswith("datetime64") and pd.isna(df["seen"][5])
    assert df["seen"][0] == pd.Timestamp(recs[0]["properties"]["seen"])
    assert df["tags"][0] == recs[0]["properties"]["tags"]
    want = np.stack([r["vector"] for r in recs[:20]]).astype(np.float32)
    assert np.array_equal(np.stack(df["vector"].to_list()), want)
    df["tags"][0].append("changed")  # the frame's own list: the index keeps its value
    assert idx.records.get(uuids[0])["metadata"]["tags"] == recs[0]["properties"]["tags"]


def test_export_arguments_are_checked(loaded):
    idx, _uuids, _recs = loaded
    with pytest.raises(ValidationError, match="limit"):
        idx.records.to_numpy(limit=-1)
    with pytest.raises(ValidationError, match="filter"):
        idx.records.to_arrow("organism")
    with pytest.raises(ValidationError, match="columns"):
        idx.records.to_arrow(columns="length")
    with pytest.raises(ValidationError, match=r"\['lenght'\] are not properties"):
        idx.records.to_pandas(columns=["length", "lenght"])
    with pytest.raises(ValidationError, match="with_vector"):
        idx.records.to_pandas(with_vector="yes")
