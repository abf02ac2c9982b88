"""Records: add, get, update, replace, remove, list — the contract's shapes and errors."""

from __future__ import annotations

import uuid

import numpy as np
import pytest
from api_helpers import DIM, make_index, records

from eigenlake import ConflictError, NotFoundError, ValidationError


@pytest.fixture
def idx(client):
    return make_index(client)


def test_add_and_get_round_trip(idx):
    rec = records(1)[0]
    uid = idx.records.add(properties=rec["properties"], vector=rec["vector"])
    got = idx.records.get(uid)
    assert got["uuid"] == uid
    assert got["metadata"] == rec["properties"]
    np.testing.assert_allclose(got["vector"], rec["vector"], rtol=0, atol=0)
    assert idx.records.exists(uid)
    assert "vector" not in idx.records.get(uid, return_data=False)


def test_get_missing_returns_none(idx):
    assert idx.records.get(str(uuid.uuid4())) is None
    assert idx.records.exists(str(uuid.uuid4())) is False


def test_add_many_returns_uuids_in_order(idx):
    recs = records(20)
    result = idx.records.add_many(recs)
    assert isinstance(result, list) and len(result) == 20
    assert result.number_errors == 0 and result.failed_records == []
    for uid, rec in zip(result, recs, strict=True):
        assert idx.records.get(uid)["metadata"]["accession"] == rec["properties"]["accession"]


def test_add_many_raise_stores_nothing(idx):
    recs = records(5)
    recs[3]["properties"]["length"] = "long"
    with pytest.raises(ValidationError) as err:
        idx.records.add_many(recs)
    assert "record 3" in str(err.value) and "length" in str(err.value)
    assert idx.records.list(limit=100)["objects"] == []


def test_add_many_continue_reports_failures(idx):
    recs = records(6)
    recs[1]["properties"]["reviewed"] = 1  # an int is not a boolean
    recs[4]["vector"] = [float("nan")] * DIM
    recs[5]["properties"]["undeclared"] = "x"
    result = idx.records.add_many(recs, on_error="continue")
    assert len(result) == 3 and result.number_errors == 3
    problems = " ".join(f.error for f in result.failed_records)
    assert "reviewed" in problems and "NaN" in problems and "undeclared" in problems
    assert len(idx.records.list(limit=100)["objects"]) == 3


def test_bool_is_not_an_integer(idx):
    rec = records(1)[0]
    rec["properties"]["length"] = True
    with pytest.raises(ValidationError, match="length"):
        idx.records.add(**rec)


def test_vector_checks(idx):
    props = records(1)[0]["properties"]
    with pytest.raises(ValidationError, match="dimensions"):
        idx.records.add(properties=props, vector=[1.0] * (DIM + 1))
    with pytest.raises(ValidationError, match="zero"):
        idx.records.add(properties=props, vector=[0.0] * DIM)
    with pytest.raises(ValidationError, match="NaN"):
        idx.records.add(properties=props, vector=[float("inf")] + [1.0] * (DIM - 1))


def test_constraints_and_required(idx):
    rec = records(1)[0]
    del rec["properties"]["accession"]
    with pytest.raises(ValidationError, match="accession"):
        idx.records.add(**rec)
    rec = records(1)[0]
    rec["properties"]["length"] = -1
    with pytest.raises(ValidationError, match="minimum"):
        idx.records.add(**rec)
    rec = records(1)[0]
    rec["properties"]["seen"] = "yesterday"
    with pytest.raises(ValidationError, match="seen"):
        idx.records.add(**rec)


def test_duplicate_modes(idx):
    rec = records(1)[0]
    uid = str(uuid.uuid4())
    idx.records.add(**rec, id=uid)
    with pytest.raises(ConflictError):
        idx.records.add(**rec, id=uid)
    changed = {**rec["properties"], "organism": "Changed"}
    assert (
        idx.records.add(properties=changed, vector=rec["vector"], id=uid, on_duplicate="skip")
        == uid
    )
    assert idx.records.get(uid)["metadata"]["organism"] == rec["properties"]["organism"]
    idx.records.add(properties=changed, vector=rec["vector"], id=uid, on_duplicate="replace")
    assert idx.records.get(uid)["metadata"]["organism"] == "Changed"
    assert len(idx.records.list(limit=10)["objects"]) == 1


def test_duplicates_within_one_call(idx):
    a, b = records(2)
    uid = str(uuid.uuid4())
    batch = [{**a, "id": uid}, {**b, "id": uid}]
    with pytest.raises(ConflictError):
        idx.records.add_many(batch)
    assert idx.records.list(limit=10)["objects"] == []
    result = idx.records.add_many(batch, on_error="continue")
    assert list(result) == [uid] and result.number_errors == 1
    idx.records.add_many(batch, on_duplicate="replace")
    assert idx.records.get(uid)["metadata"]["accession"] == b["properties"]["accession"]


def test_record_id_property_gives_deterministic_uuid(client):
    idx = client.indexes.create_or_get(namespace="tests", index="docs", dimensions=DIM)
    vec = np.ones(DIM)
    first = idx.records.add(properties={"document_id": "doc-1"}, vector=vec)
    with pytest.raises(ConflictError):
        idx.records.add(properties={"document_id": "doc-1"}, vector=vec)
    again = idx.records.add(properties={"document_id": "doc-1"}, vector=vec, on_duplicate="skip")
    assert first == again
    assert uuid.UUID(first).version == 5


def test_two_d_numpy_batch_and_add_vectors(client):
    idx = client.indexes.create_or_get(namespace="tests", index="vecs", dimensions=DIM)
    mat = np.random.default_rng(1).standard_normal((7, DIM))
    result = idx.records.add_vectors(mat)
    assert len(result) == 7
    got = idx.records.get(result[2])
    np.testing.assert_allclose(got["vector"], mat[2].astype(np.float32))


def test_update_positional_and_keyword(idx):
    uid = idx.records.add(**records(1)[0])
    idx.records.update(uid, properties={"organism": "A"})
    assert idx.records.get(uid)["metadata"]["organism"] == "A"
    idx.records.update(id=uid, properties={"organism": "B"})
    meta = idx.records.get(uid)["metadata"]
    assert meta["organism"] == "B" and meta["accession"] == "P00000"


def test_update_vector(idx):
    uid = idx.records.add(**records(1)[0])
    new = np.arange(1, DIM + 1, dtype=np.float32)
    idx.records.update(uid, vector=new)
    np.testing.assert_array_equal(idx.records.get(uid)["vector"], new)


def test_update_adds_typed_property_to_closed_schema(idx):
    uids = idx.records.add_many(records(4))
    for i, uid in enumerate(uids):
        idx.records.update(uid, properties={"cluster_id": i % 2})
    assert idx.settings.schema()["properties"]["cluster_id"]["type"] == "integer"
    page = idx.records.list(filter={"cluster_id": 1}, limit=10)
    assert sorted(o["uuid"] for o in page["objects"]) == sorted([uids[1], uids[3]])
    with pytest.raises(ValidationError, match="cluster_id"):
        idx.records.update(uids[0], properties={"cluster_id": "one"})
    rec = records(1, seed=9)[0]
    rec["properties"]["cluster_id"] = 5  # now declared: add accepts it
    idx.records.add(**rec)


def test_update_missing_record_raises_not_found(idx):
    with pytest.raises(NotFoundError):
        idx.records.update(str(uuid.uuid4()), properties={"organism": "x"})


def test_replace_swaps_properties(idx):
    rec = records(1)[0]
    uid = idx.records.add(**rec)
    idx.records.replace(id=uid, properties={"accession": "NEW"})
    assert idx.records.get(uid)["metadata"] == {"accession": "NEW"}
    with pytest.raises(ValidationError):
        idx.records.replace(id=uid, properties={"organism": "no accession"})


def test_remove_and_remove_many(idx):
    uids = idx.records.add_many(records(9))
    idx.records.remove(uids[0])
    assert not idx.records.exists(uids[0])
    with pytest.raises(NotFoundError):
        idx.records.remove(uids[0])
    out = idx.records.remove_many(filter={"organism": "Homo sapiens"})
    assert out == {"deleted": 2}  # records 3 and 6 (0 is gone)
    assert len(idx.records.list(limit=100)["objects"]) == 6


def test_list_pages_cover_every_record_once(idx):
    uids = idx.records.add_many(records(23))
    seen, after = [], None
    while True:
        page = idx.records.list(limit=5, after=after)
        seen += [o["uuid"] for o in page["objects"]]
        assert all("vector" not in o for o in page["objects"])
        after = page["next_after"]
        if after is None:
            break
    assert seen == list(uids)


def test_list_with_filter_and_vectors(idx):
    recs = records(12)
    uids = idx.records.add_many(recs)
    page = idx.records.list(
        filter={"length": {"$gte": 100}, "reviewed": True}, limit=100, with_vector=True
    )
    want = [
        u
        for u, r in zip(uids, recs, strict=True)
        if r["properties"]["length"] >= 100 and r["properties"]["reviewed"]
    ]
    assert [o["uuid"] for o in page["objects"]] == want
    assert len(page["objects"][0]["vector"]) == DIM
    assert page["next_after"] is None


def test_filter_errors_name_the_property(idx):
    with pytest.raises(ValidationError, match="sequence"):
        idx.records.list(filter={"sequence": "MKV"})
    with pytest.raises(ValidationError, match="nope"):
        idx.records.list(filter={"nope": 1})
    with pytest.raises(ValidationError, match=r"\$near"):
        idx.records.list(filter={"length": {"$near": 1}})
    with pytest.raises(ValidationError, match="length"):
        idx.records.list(filter={"length": {"$gt": "big"}})


def test_datetime_filters_compare_instants(idx):
    uids = idx.records.add_many(records(5))
    # seen is 12:00+02:00 = 10:00Z on day i+1
    page = idx.records.list(filter={"seen": {"$gte": "2024-03-03T10:00:00Z"}}, limit=10)
    assert [o["uuid"] for o in page["objects"]] == list(uids[2:])
    page = idx.records.list(filter={"day": {"$lt": "2024-03-02"}}, limit=10)
    assert [o["uuid"] for o in page["objects"]] == [uids[0]]


def test_batch_context_manager(idx):
    recs = records(7)
    recs[2]["properties"]["length"] = "bad"
    with idx.batch.with_size(batch_size=3) as batch:
        for r in recs:
            batch.add(properties=r["properties"], vector=r["vector"])
    assert batch.number_errors == 1
    assert len(idx.records.list(limit=100)["objects"]) == 6


def test_open_index_types_new_properties_from_values(client):
    idx = client.indexes.create_or_get(namespace="tests", index="open", dimensions=DIM)
    vec = np.ones(DIM)
    recs = [
        {
            "properties": {
                "name": f"n{i}",
                "size": i,
                "weight": i + 0.5 * (i % 2),
                "ok": i % 2 == 0,
            },
            "vector": vec,
        }
        for i in range(6)
    ]
    idx.records.add_many(recs)
    props = idx.settings.schema()["properties"]
    assert {k: v["type"] for k, v in props.items()} == {
        "name": "string",
        "size": "integer",
        "weight": "number",
        "ok": "boolean",
    }
    page = idx.records.list(filter={"size": {"$gte": 3}, "ok": True}, limit=10)
    assert [o["metadata"]["name"] for o in page["objects"]] == ["n4"]
    with pytest.raises(ValidationError, match="size"):
        idx.records.add(properties={"size": "big"}, vector=vec)
    mixed = [{"properties": {"tag": "a"}, "vector": vec}, {"properties": {"tag": 1}, "vector": vec}]
    with pytest.raises(ValidationError, match="record 1.*tag"):
        idx.records.add_many(mixed)
    assert "tag" not in idx.settings.schema()["properties"]


def test_count_matches_the_filtered_rows(idx):
    """``records.count`` against the properties counted in Python (the oracle), in every
    mode; removed records stop counting; a bad filter is refused by name."""
    recs = records(30)
    uuids = idx.records.add_many(recs)
    props = [r["properties"] for r in recs]
    assert idx.records.count() == 30 == idx.records.count({})
    cases = [
        ({"organism": "Homo sapiens"}, lambda p: p["organism"] == "Homo sapiens"),
        ({"length": {"$gte": 200}}, lambda p: p["length"] >= 200),
        (
            {"$and": [{"reviewed": True}, {"tags": {"$contains": "toxin"}}]},
            lambda p: p["reviewed"] and "toxin" in p["tags"],
        ),
        ({"organism": "nobody"}, lambda p: False),
    ]
    for flt, keep in cases:
        assert idx.records.count(flt) == sum(map(keep, props)), flt
    idx.records.remove(uuids[0])  # a Homo sapiens record
    assert idx.records.count() == 29
    assert idx.records.count({"organism": "Homo sapiens"}) == 9
    with pytest.raises(ValidationError, match="filter"):
        idx.records.count("organism")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="nope"):
        idx.records.count({"nope": {"$gt": 1}})
