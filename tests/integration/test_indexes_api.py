"""Index lifecycle through the public API."""

from __future__ import annotations

import pytest
from api_helpers import DIM, make_index, protein_schema, records

from eigenlake import ConflictError, NotFoundError, ValidationError
from eigenlake import schema as s


def test_create_twice_with_same_settings_returns_the_same_index(client):
    a = make_index(client)
    a.records.add_many(records(3))
    b = make_index(client)
    assert b.settings.dimensions() == DIM
    assert len(b.records.list(limit=10)["objects"]) == 3


def test_other_dimensions_conflict(client):
    make_index(client)
    schema, options = protein_schema()
    with pytest.raises(ConflictError):
        client.indexes.create_or_get(
            namespace="tests", index="proteins", dimensions=DIM + 1, schema=schema
        )


def test_incompatible_schema_conflicts(client):
    make_index(client)
    other, options = s.SchemaBuilder().add("accession", s.integer()).build()
    with pytest.raises(ConflictError):
        client.indexes.create_or_get(
            namespace="tests", index="proteins", dimensions=DIM, schema=other
        )


def test_open_missing_index_raises_not_found(client):
    with pytest.raises(NotFoundError):
        client.indexes.open(namespace="tests", index="nope")


def test_ref_is_lazy_and_fails_on_use(client):
    ref = client.indexes.ref(namespace="tests", index="later")
    with pytest.raises(NotFoundError):
        ref.records.list(limit=1)
    make_index(client, name="later")
    assert client.indexes.ref(namespace="tests", index="later").settings.dimensions() == DIM


def test_settings_report_schema_and_shards(client):
    idx = make_index(client)
    schema, _ = protein_schema()
    assert idx.settings.schema() == schema
    shards = idx.settings.shards()
    assert isinstance(shards, dict)


def test_delete_index_then_use_raises_not_found(client):
    idx = make_index(client)
    idx.records.add_many(records(2))
    idx.manage.delete()
    with pytest.raises(NotFoundError):
        client.indexes.open(namespace="tests", index="proteins")
    again = make_index(client)
    assert again.records.list(limit=10)["objects"] == []


def test_bad_dimensions_rejected(client):
    with pytest.raises(ValidationError):
        client.indexes.create_or_get(namespace="tests", index="x", dimensions=0)


def test_client_is_ready(client):
    assert client.ready() is True


def test_names_follow_the_rule(client):
    # 1-128 ASCII letters, digits, "_", "-", "."; not starting with "."
    for kind, kwargs, problem in (
        ("index", {"namespace": "tests", "index": "a" * 129}, "too long"),
        ("namespace", {"namespace": "\U0001d4e3" * 3, "index": "x"}, ""),
        ("namespace", {"namespace": "a/b", "index": "x"}, ""),
        ("index", {"namespace": "tests", "index": ".hidden"}, ""),
        ("index", {"namespace": "tests", "index": "x y"}, ""),
    ):
        with pytest.raises(ValidationError, match=f"{kind}.*{problem}"):
            client.indexes.create_or_get(dimensions=3, **kwargs)
    # the longest allowed name works and round-trips through list()
    idx = client.indexes.create_or_get(namespace="tests", index="b" * 128, dimensions=3)
    assert idx is not None
    assert {"namespace": "tests", "index": "b" * 128} in client.indexes.list()
    odd = client.indexes.create_or_get(namespace="a.b-c_D9", index="x.deleted-3", dimensions=3)
    assert odd is not None
    assert {"namespace": "a.b-c_D9", "index": "x.deleted-3"} in client.indexes.list()
    # opening a name that could not be created finds nothing; it does not fail validation
    with pytest.raises(NotFoundError):
        client.indexes.open(namespace="tests", index="a" * 201)


def test_record_id_property_none_keeps_sent_ids(client):
    # the surface allows None (no derived ids) in every mode; the wire once required a str
    idx = client.indexes.create_or_get(
        namespace="tests", index="noidprop", dimensions=3, record_id_property=None
    )
    a = idx.records.add(properties={"document_id": "same"}, vector=[1.0, 0.0, 0.0])
    b = idx.records.add(properties={"document_id": "same"}, vector=[0.0, 1.0, 0.0])
    assert a != b


def test_reprs_say_what_a_user_asks_next(client):
    """Index reprs give names, records, dimensions, metric and mode in every mode, and
    say "unreadable" rather than raise once the index is gone."""
    idx = client.indexes.create_or_get(
        namespace="tests",
        index="shown",
        dimensions=4,
        index_options={"distance_metric": "euclidean"},
    )
    idx.records.add_many(
        [{"properties": {}, "vector": [1.0, 2.0, 3.0, float(i)]} for i in range(3)]
    )
    text = repr(idx)
    for part in (
        "namespace='tests'",
        "index='shown'",
        "records=3",
        "dimensions=4",
        "metric='euclidean'",
    ):
        assert part in text, text
    assert "mode=" in text and "mode=" in repr(client)
    client.indexes.delete(namespace="tests", index="shown")
    assert "unreadable: NotFoundError" in repr(idx)
