"""Bad input on the write path: a ValidationError naming the argument or property and the
problem, in embedded and remote mode alike, and nothing of a refused call stored (reads
keep working afterwards).

The remote client sends what it is given (or refuses it with the embedded message): it
converts nothing on the way (a boolean vector is not 1/0, ``properties=0`` is not {}) and
never trips over the input before the server sees it.
"""

from __future__ import annotations

import math
import uuid
from typing import Any

import numpy as np
import pytest

from eigenlake import ValidationError
from eigenlake import schema as s

DIM = 4
V = [1.0, 0.0, 0.0, 0.0]
NAN, INF = float("nan"), float("inf")


def nest(depth: int, leaf: Any = 1) -> Any:
    """``depth`` arrays/objects around ``leaf`` (alternating, as JSON can nest)."""
    node = leaf
    for i in range(depth):
        node = [node] if i % 2 else {"k": node}
    return node


@pytest.fixture
def idx(client: Any) -> Any:
    """An open-schema index holding one record (so update/replace have a target)."""
    index = client.indexes.create_or_get(namespace="wv", index="open", dimensions=DIM)
    index.records.add(properties={"keep": "me"}, vector=V, id=KEEP)
    return index


KEEP = "00000000-0000-4000-8000-000000000001"


def snapshot(index: Any) -> list[Any]:
    """Every record, read back: fails if a stored record poisons reads."""
    page = index.records.list(limit=1000, with_vector=True)
    assert page["next_after"] is None
    return sorted((o["uuid"], repr(o["metadata"]), o["vector"]) for o in page["objects"])


def refused(fn: Any, *words: str, **kwargs: Any) -> str:
    with pytest.raises(ValidationError) as err:
        fn(**kwargs)
    msg = str(err.value)
    msg.encode("utf-8")  # the message itself must be storable/sendable (no lone surrogate)
    for w in words:
        assert w in msg, (w, msg)
    return msg


# ---- 1. lone surrogates ---------------------------------------------------------------

SURROGATES = {
    "value": ({"s": "a\ud800"}, "'s'"),
    "in an array": ({"l": ["ok", "\udfff"]}, "'l'"),
    "in an object": ({"o": {"k": ["x", {"deep": "\ud800"}]}}, "'o'"),
    "an object key": ({"o": {"\ud800": 1}}, "'o'"),
    "a property name": ({"\ud800": 1}, "\\ud800"),
    "the record id property": ({"document_id": "doc-\ud800"}, "'document_id'"),
}


@pytest.mark.parametrize("case", list(SURROGATES))
@pytest.mark.parametrize("method", ["add", "add_many", "batch", "update", "replace"])
def test_lone_surrogates_are_refused_on_every_write(idx: Any, case: str, method: str) -> None:
    props, name = SURROGATES[case]
    before = snapshot(idx)
    if method == "add":
        refused(idx.records.add, "surrogate", name, properties=props, vector=V)
    elif method == "add_many":
        good = {"properties": {"fine": 1}, "vector": V}
        refused(
            idx.records.add_many,
            "surrogate",
            name,
            records=[good, {"properties": props, "vector": V}],
        )
    elif method == "update":
        refused(idx.records.update, "surrogate", name, id=KEEP, properties=props)
    elif method == "replace":
        refused(idx.records.replace, "surrogate", name, id=KEEP, properties=props)
    else:
        with idx.batch.with_size(batch_size=10) as batch:
            batch.add(properties={"fine": 2}, vector=V)
            bad = batch.add(properties=props, vector=V)
        assert batch.number_errors == 1 and "surrogate" in batch.failed_records[0].error
        assert not idx.records.exists(bad)
        assert len(snapshot(idx)) == len(before) + 1  # the good one only
        return
    assert snapshot(idx) == before


def test_lone_surrogate_in_an_id_is_refused_with_a_sendable_message(idx: Any) -> None:
    before = snapshot(idx)
    refused(idx.records.add, "not a valid uuid", properties={}, vector=V, id="\ud800")
    result = idx.records.add_many(
        [{"properties": {}, "vector": V, "id": "x\ud800"}], on_error="continue"
    )
    assert list(result) == [] and result.number_errors == 1
    str(result.failed_records[0].id).encode("utf-8")
    assert snapshot(idx) == before


# ---- 2. NaN and infinities at any depth ---------------------------------------------


@pytest.mark.parametrize(
    "props",
    [
        {"f": NAN},
        {"f": [1.0, NAN]},
        {"f": {"g": INF}},
        {"f": {"g": [[-INF]]}},
        {"f": [{"h": [1, 2, NAN]}]},
    ],
    ids=["top", "in-array", "in-object", "deep", "array-object-array"],
)
def test_non_finite_numbers_are_refused_at_any_depth(idx: Any, props: dict[str, Any]) -> None:
    before = snapshot(idx)
    refused(idx.records.add, "'f'", "finite", properties=props, vector=V)
    refused(idx.records.update, "'f'", "finite", id=KEEP, properties=props)
    assert snapshot(idx) == before


def test_non_finite_numbers_in_typed_properties(client: Any) -> None:
    schema, opts = (
        s.SchemaBuilder(additional_properties=False)
        .add("n", s.number())
        .add("ns", s.array(s.number()))
        .add("free", s.array(s.string()))
        .build()
    )
    index = client.indexes.create_or_get(
        namespace="wv", index="typed", dimensions=DIM, schema=schema, index_options=opts
    )
    refused(index.records.add, "'n'", "finite", properties={"n": INF}, vector=V)
    refused(index.records.add, "'ns'", "finite", properties={"ns": [1.0, NAN]}, vector=V)
    refused(index.records.add, "'free'", "surrogate", properties={"free": ["\ud800"]}, vector=V)
    assert index.records.list(limit=10)["objects"] == []


# ---- 3. depth -------------------------------------------------------------------------


def test_deeply_nested_values_are_refused(idx: Any) -> None:
    before = snapshot(idx)
    refused(idx.records.add, "'d'", "deep", properties={"d": nest(100)}, vector=V)
    refused(idx.records.update, "'d'", "deep", id=KEEP, properties={"d": nest(33)})
    assert snapshot(idx) == before
    # 32 levels are fine and read back as written
    uid = idx.records.add(properties={"d": nest(32)}, vector=V)
    assert idx.records.get(uid)["metadata"]["d"] == nest(32)


def test_a_10000_deep_value_is_a_validation_error(idx: Any) -> None:
    before = snapshot(idx)
    refused(idx.records.add, "'d'", "deep", properties={"d": nest(10_000)}, vector=V)
    assert snapshot(idx) == before


# ---- 4. numbers that do not fit -------------------------------------------------------


@pytest.mark.parametrize(
    ("props", "name"),
    [
        ({"big": 2**63}, "'big'"),
        ({"big": -(2**63) - 1}, "'big'"),
        ({"bl": [1, 2**64]}, "'bl'"),
        ({"bo": {"x": [10**30]}}, "'bo'"),
    ],
)
def test_integers_beyond_64_bits_are_refused(idx: Any, props: dict[str, Any], name: str) -> None:
    before = snapshot(idx)
    refused(idx.records.add, name, "64-bit", properties=props, vector=V)
    assert snapshot(idx) == before


def test_64_bit_integers_at_the_edges_are_stored(idx: Any) -> None:
    uid = idx.records.add(properties={"lo": -(2**63), "hi": 2**63 - 1}, vector=V)
    meta = idx.records.get(uid)["metadata"]
    assert meta["lo"] == -(2**63) and meta["hi"] == 2**63 - 1


BAD_VECTORS: dict[str, Any] = {
    "letters": ["a", "b", "c", "d"],
    "numeric strings": ["1", "0", "0", "0"],
    "booleans": [True, False, False, False],
    "a boolean among numbers": [1.0, True, 0.0, 0.0],
    "numpy booleans": np.array([True, False, False, False]),
    "numpy strings": np.array(["1", "0", "0", "0"]),
    "numpy objects": np.array([1, 0, 0, 0], dtype=object),
    "a Python int past float": [10**400, 0, 0, 0],
    "1e400 (infinity)": [1e400, 0.0, 0.0, 0.0],
    "a value past float32": [1e39, 0.0, 0.0, 0.0],
    "None inside": [1.0, None, 0.0, 0.0],
    "a string": "abcd",
    "a number": 5,
}


@pytest.mark.parametrize("case", list(BAD_VECTORS))
@pytest.mark.parametrize("method", ["add", "add_many", "update", "add_vectors"])
def test_vectors_that_are_not_numbers_are_refused(idx: Any, case: str, method: str) -> None:
    vector = BAD_VECTORS[case]
    before = snapshot(idx)
    if method == "add":
        refused(idx.records.add, "vector", properties={}, vector=vector)
    elif method == "add_many":
        refused(idx.records.add_many, "vector", records=[{"properties": {}, "vector": vector}])
    elif method == "update":
        refused(idx.records.update, "vector", id=KEEP, vector=vector)
    else:
        refused(idx.records.add_vectors, "vector", vectors=[{"vector": vector}])
    assert snapshot(idx) == before


def test_a_2d_array_of_booleans_is_refused(idx: Any) -> None:
    before = snapshot(idx)
    refused(idx.records.add_vectors, "vector", vectors=np.ones((3, DIM), dtype=bool))
    assert snapshot(idx) == before


def test_numeric_vectors_of_any_number_type_are_stored(idx: Any) -> None:
    for vector in ([1, 2, 3, 4], (1.5, 2, 3, 4), np.arange(1, 5, dtype=np.int8), [0, 0, 1, 1]):
        uid = idx.records.add(properties={}, vector=vector)
        stored = idx.records.get(uid)["vector"]
        assert stored == [float(x) for x in vector]


# ---- 5. the arguments themselves ------------------------------------------------------


@pytest.mark.parametrize(
    "records",
    [5, None, "abc", {"properties": {}, "vector": V}, [5], [{"properties": {}, "vector": V}, "x"]],
    ids=["int", "None", "str", "dict", "list-of-int", "list-with-a-str"],
)
def test_add_many_names_records(idx: Any, records: Any) -> None:
    before = snapshot(idx)
    refused(idx.records.add_many, "records", records=records)
    assert snapshot(idx) == before


@pytest.mark.parametrize("vectors", [5, None, np.ones(DIM)], ids=["int", "None", "1-D array"])
def test_add_vectors_names_vectors(idx: Any, vectors: Any) -> None:
    before = snapshot(idx)
    refused(idx.records.add_vectors, "vectors", vectors=vectors)
    assert snapshot(idx) == before


def test_add_update_replace_name_their_arguments(idx: Any) -> None:
    before = snapshot(idx)
    refused(idx.records.add, "properties", properties=5, vector=V)
    refused(idx.records.add, "properties", properties=["a"], vector=V)
    refused(idx.records.add, "vector", properties={}, vector=None)
    refused(idx.records.update, "properties", id=KEEP, properties=5)
    refused(idx.records.replace, "properties", id=KEEP, properties="abc")
    refused(idx.records.add, "id", properties={}, vector=V, id="not-a-uuid")
    assert snapshot(idx) == before


def test_replace_with_falsy_non_dict_properties_is_refused(idx: Any) -> None:
    before = snapshot(idx)
    refused(idx.records.replace, "properties", id=KEEP, properties=0)
    assert snapshot(idx) == before


@pytest.mark.parametrize("props", [False, 0, "", []])
def test_add_with_falsy_non_dict_properties_is_refused(idx: Any, props: Any) -> None:
    # only None means "no properties"; a falsy non-dict is a mistake, not an empty record
    before = snapshot(idx)
    refused(idx.records.add, "properties", properties=props, vector=[1.0, 0.0, 0.0])
    refused(
        idx.records.add_many, "properties", records=[{"properties": props, "vector": [1, 0, 0]}]
    )
    assert snapshot(idx) == before


def test_batch_settings_are_checked_when_the_batch_opens(idx: Any) -> None:
    refused(idx.batch.with_size, "batch_size", batch_size=0)
    refused(idx.batch.with_size, "batch_size", batch_size="10")
    refused(idx.batch.with_size, "on_error", on_error="ignore")


# ---- 6. schemas -----------------------------------------------------------------------

BAD_SCHEMAS: list[tuple[Any, tuple[str, ...]]] = [
    (5, ()),
    ({"properties": 5}, ("properties",)),
    ({"properties": {"a": 5}}, ("'a'",)),
    ({"properties": {"a": {"type": "blob"}}}, ("'a'", "blob")),
    ({"properties": {"a": {"type": "string", "pattern": "(["}}}, ("'a'", "pattern")),
    ({"properties": {"a": {"type": "string", "enum": 5}}}, ("'a'", "enum")),
    ({"properties": {"a": {"type": "string", "enum": ["x", 1]}}}, ("'a'", "enum")),
    ({"properties": {"a": {"type": "integer", "minimum": "0"}}}, ("'a'", "minimum")),
    ({"properties": {"a": {"type": "string", "minimum": 0}}}, ("'a'", "minimum")),
    ({"properties": {"a": {"type": "integer", "minimum": 5, "maximum": 1}}}, ("'a'", "minimum")),
    ({"properties": {"a": {"type": "string", "maxLength": -1}}}, ("'a'", "maxLength")),
    ({"properties": {"a": {"type": "array", "items": "string"}}}, ("'a'", "items")),
    ({"properties": {"a": {"type": "date", "format": "date"}}}, ("'a'", "date")),
    (
        {"properties": {"a": {"type": "string", "format": "date", "formatMinimum": "soon"}}},
        ("'a'", "formatMinimum"),
    ),
    ({"properties": {}, "required": "a"}, ("required",)),
    ({"properties": {}, "required": 5}, ("required",)),
    ({"properties": {"a": {}}, "additionalProperties": False, "required": ["b"]}, ("'b'",)),
    ({"properties": {}, "additionalProperties": "no"}, ("additionalProperties",)),
    ({"type": "array"}, ("type",)),
]


@pytest.mark.parametrize(
    ("schema", "words"), BAD_SCHEMAS, ids=[str(i) for i in range(len(BAD_SCHEMAS))]
)
def test_bad_schemas_are_refused_at_create(
    client: Any, schema: Any, words: tuple[str, ...]
) -> None:
    refused(
        client.indexes.create_or_get,
        "schema",
        *words,
        namespace="wv",
        index="schema",
        dimensions=DIM,
        schema=schema,
    )
    assert {"namespace": "wv", "index": "schema"} not in client.indexes.list()


# ---- 7, 8. dimensions and index options ----------------------------------------------


@pytest.mark.parametrize("dimensions", [0, -3, 65_537, 10**9, True, 3.0, "3"])
def test_dimensions_outside_one_to_65536_are_refused(client: Any, dimensions: Any) -> None:
    refused(
        client.indexes.create_or_get,
        "dimensions",
        namespace="wv",
        index="dims",
        dimensions=dimensions,
    )
    assert client.indexes.list() == []


BAD_OPTIONS: list[tuple[Any, str]] = [
    (5, "index_options"),
    ({"hnsw": 5}, "hnsw"),
    ({"hnsw": {"m": 1}}, "hnsw.m"),
    ({"hnsw": {"m": 257}}, "hnsw.m"),
    ({"hnsw": {"m": 10**9}}, "hnsw.m"),
    ({"hnsw": {"m": True}}, "hnsw.m"),
    ({"hnsw": {"m": 16.0}}, "hnsw.m"),
    ({"hnsw": {"ef_construction": 0}}, "ef_construction"),
    ({"hnsw": {"ef_search": 4097}}, "ef_search"),
    ({"hnsw": {"efSearch": 10}}, "efSearch"),
    ({"exact_threshold": -1}, "exact_threshold"),
    ({"exact_threshold": True}, "exact_threshold"),
    ({"exact_threshold": "100"}, "exact_threshold"),
    ({"ann_index": 0}, "ann_index"),
    ({"ann_index": "false"}, "ann_index"),
    ({"quantized_scan": 1}, "quantized_scan"),
    ({"quantized_scan": None}, "quantized_scan"),
    ({"distance_metric": "dot"}, "distance_metric"),
    ({"distance_metric": 5}, "distance_metric"),
    ({"metadataConfiguration": 5}, "metadataConfiguration"),
    ({"metadataConfiguration": {"nonFilterableMetadataKeys": "a"}}, "nonFilterableMetadataKeys"),
    ({"metadataConfiguration": {"nonFilterableMetadataKeys": [1]}}, "nonFilterableMetadataKeys"),
]


@pytest.mark.parametrize(
    ("options", "word"), BAD_OPTIONS, ids=[str(i) for i in range(len(BAD_OPTIONS))]
)
def test_bad_index_options_are_refused_at_create(client: Any, options: Any, word: str) -> None:
    refused(
        client.indexes.create_or_get,
        word,
        namespace="wv",
        index="opts",
        dimensions=DIM,
        index_options=options,
    )
    assert client.indexes.list() == []


def test_index_options_at_their_bounds_work(client: Any) -> None:
    rng = np.random.default_rng(0)
    for name, hnsw in (
        ("low", {"m": 2, "ef_construction": 1, "ef_search": 1}),
        ("high", {"m": 256, "ef_construction": 4096, "ef_search": 4096}),
    ):
        index = client.indexes.create_or_get(
            namespace="wv",
            index=name,
            dimensions=DIM,
            index_options={"hnsw": hnsw, "exact_threshold": 0, "distance_metric": "euclidean"},
        )
        index.records.add_vectors(rng.standard_normal((20, DIM)))
        assert len(index.search.nearest(vector=V, limit=3)["results"]) == 3


# ---- 9. names ------------------------------------------------------------------------

BAD_NAMES = ["a/b", ".hidden", "..", "", "x" * 129, "with space", "é", "a\ud800", "a%2Fb", 5]


@pytest.mark.parametrize("bad", BAD_NAMES, ids=[f"name{i}" for i in range(len(BAD_NAMES))])
@pytest.mark.parametrize("kind", ["namespace", "index"])
def test_names_outside_the_rule_are_refused(client: Any, kind: str, bad: Any) -> None:
    names = {"namespace": "wv", "index": "ok", kind: bad}
    refused(client.indexes.create_or_get, kind, dimensions=DIM, **names)
    assert client.indexes.list() == []


def test_names_inside_the_rule_work_and_list(client: Any) -> None:
    good = ["A-z_0.9", "x" * 128, "-dash", "n.deleted-12-34", "v1.2"]
    for name in good:
        index = client.indexes.create_or_get(namespace="wv", index=name, dimensions=DIM)
        index.records.add(properties={"name": name}, vector=V)
    listed = [i["index"] for i in client.indexes.list() if i["namespace"] == "wv"]
    assert sorted(listed) == sorted(good)
    client.indexes.delete(namespace="wv", index="v1.2")
    listed = [i["index"] for i in client.indexes.list() if i["namespace"] == "wv"]
    assert sorted(listed) == sorted(good[:-1])
    again = client.indexes.open(namespace="wv", index="n.deleted-12-34")
    assert again.records.list(limit=5)["objects"][0]["metadata"] == {"name": "n.deleted-12-34"}


def test_refused_writes_leave_the_index_readable_and_uuid_valid(idx: Any) -> None:
    """A last round trip after everything above: the store still answers normally."""
    uid = idx.records.add(properties={"ok": math.pi}, vector=V)
    assert uuid.UUID(uid) and idx.records.get(uid)["metadata"] == {"ok": math.pi}
