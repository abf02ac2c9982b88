"""Index embedders (``index_options["embedder"]``) and ``search.nearest(text=...)``.

Embedded with a small registered embedder (fast, exact oracle: the same function called
directly) and one test with the real MiniLM model against ``text_embedder()``. The remote
and distributed modes: ``tests/integration/test_index_embedder_modes.py``.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import eigenlake
from eigenlake import embed
from eigenlake.errors import ValidationError
from tests_paths import TEST_DATA

DIM = 16
NAME = "test-bag-of-letters"


def bag_of_letters(texts: Sequence[str]) -> np.ndarray:
    """A deterministic toy embedder: letter counts folded into 16 bins, plus a bias."""
    out = np.full((len(texts), DIM), 0.25, dtype=np.float32)
    for i, t in enumerate(texts):
        for ch in t.lower():
            out[i, ord(ch) % DIM] += 1.0
    return out


CALLS: list[int] = []


def counting(texts: Sequence[str]) -> np.ndarray:
    CALLS.append(len(texts))
    return bag_of_letters(texts)


@pytest.fixture(autouse=True)
def registered() -> Iterator[None]:
    embed.register(NAME, counting, replace=True)
    CALLS.clear()
    yield
    embed.unregister(NAME)


@pytest.fixture()
def client(tmp_path: Path) -> Iterator[Any]:
    with eigenlake.connect(path=str(tmp_path / "store")) as c:
        yield c


def _index(client: Any, name: str = "docs", **extra: Any) -> Any:
    return client.indexes.create_or_get(
        namespace="t",
        index=name,
        dimensions=DIM,
        index_options={"embedder": {"model": NAME, "field": "text"}, **extra},
    )


def _stored(idx: Any) -> dict[str, np.ndarray]:
    uuids, x = idx.records.to_numpy()
    return dict(zip(uuids, x, strict=True))


TEXTS = ["oil prices rose", "the board approved a split", "wheat exports fell", "gold"]


# ---- create-time checks -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("embedder", "match"),
    [
        ("x", r"index_options\.embedder must be an object"),
        ({"model": "no-such-model", "field": "text"}, r"index_options\.embedder\.model: no"),
        ({"model": 3, "field": "text"}, r"index_options\.embedder\.model must be the name"),
        ({"model": NAME}, r"index_options\.embedder\.field must be the name"),
        ({"model": NAME, "field": ""}, r"index_options\.embedder\.field must be the name"),
        ({"model": NAME, "field": "text", "x": 1}, r"unknown key\(s\) \['x'\]"),
    ],
)
def test_create_refuses_a_bad_embedder(client: Any, embedder: Any, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        client.indexes.create_or_get(
            namespace="t", index="bad", dimensions=DIM, index_options={"embedder": embedder}
        )
    assert client.indexes.list() == []


def test_create_checks_the_field_against_the_schema(client: Any) -> None:
    from eigenlake import schema as s

    opts = {"embedder": {"model": NAME, "field": "text"}}
    closed, _ = s.SchemaBuilder(additional_properties=False).add("n", s.integer()).build()
    with pytest.raises(ValidationError, match="'text' is not a property of the schema"):
        client.indexes.create_or_get(
            namespace="t", index="a", dimensions=DIM, schema=closed, index_options=opts
        )
    typed, _ = s.SchemaBuilder().add("text", s.integer()).build()
    with pytest.raises(ValidationError, match="'text' must be a string property"):
        client.indexes.create_or_get(
            namespace="t", index="a", dimensions=DIM, schema=typed, index_options=opts
        )
    ok, _ = s.SchemaBuilder(additional_properties=False).add("text", s.string()).build()
    client.indexes.create_or_get(
        namespace="t", index="a", dimensions=DIM, schema=ok, index_options=opts
    )
    # checked by name: a create does not build (load) the model
    assert CALLS == []


# ---- writes ---------------------------------------------------------------------------------


def test_add_many_embeds_records_without_a_vector_in_one_call(client: Any) -> None:
    idx = _index(client)
    given = np.arange(DIM, dtype=np.float32) + 1
    recs: list[dict[str, Any]] = [{"properties": {"text": t}} for t in TEXTS]
    recs.insert(2, {"properties": {"text": "has its own"}, "vector": given})
    res = idx.records.add_many(recs)
    assert len(res) == 5 and res.number_errors == 0
    assert CALLS == [4]  # one batched embedder call for the four without a vector
    assert recs[0] == {"properties": {"text": TEXTS[0]}}  # the caller's dicts untouched
    stored = _stored(idx)
    want = bag_of_letters(TEXTS)
    for uid, row in zip([res[0], res[1], res[3], res[4]], want, strict=True):
        np.testing.assert_array_equal(stored[uid], row)
    np.testing.assert_array_equal(stored[res[2]], given)


def test_add_batch_and_tables_embed_too(client: Any) -> None:
    import pandas as pd

    idx = _index(client)
    one = idx.records.add(properties={"text": "crude oil"})
    with idx.batch.with_size(batch_size=2) as batch:
        two = [batch.add(properties={"text": t}) for t in TEXTS[:3]]
    table = idx.records.add_many(pd.DataFrame({"text": TEXTS, "n": range(4)}))
    mixed = idx.records.add_many(
        {"text": ["a b", "c d"], "vector": [None, np.ones(DIM, dtype=np.float32)]}
    )
    stored = _stored(idx)
    np.testing.assert_array_equal(stored[one], bag_of_letters(["crude oil"])[0])
    for uid, row in zip(two, bag_of_letters(TEXTS[:3]), strict=True):
        np.testing.assert_array_equal(stored[uid], row)
    for uid, row in zip(table, bag_of_letters(TEXTS), strict=True):
        np.testing.assert_array_equal(stored[uid], row)
    np.testing.assert_array_equal(stored[mixed[0]], bag_of_letters(["a b"])[0])
    np.testing.assert_array_equal(stored[mixed[1]], np.ones(DIM, dtype=np.float32))
    assert idx.records.count() == 1 + 3 + 4 + 2


def test_a_record_with_neither_vector_nor_field_is_named(client: Any) -> None:
    idx = _index(client)
    recs = [
        {"properties": {"text": "fine"}},
        {"properties": {"other": "x"}, "id": "doc-7"},
        {"properties": {"text": 12}},
    ]
    with pytest.raises(ValidationError, match=r"^record 1 \(id doc-7\): no vector, and no 'text'"):
        idx.records.add_many(recs)
    assert idx.records.count() == 0  # a failing call stores nothing
    res = idx.records.add_many(recs, on_error="continue")
    assert len(res) == 1
    assert [(f.position, f.id) for f in res.failed_records] == [(1, "doc-7"), (2, None)]
    # the schema (which typed 'text' as a string from record 0) names record 2's problem
    assert str(res.failed_records[1].error).startswith("record 2: property 'text'")
    with pytest.raises(ValidationError, match=r"^record 0: property 'text' must be a string"):
        _index(client, "other").records.add_many([{"properties": {"text": 12}}])
    with pytest.raises(ValidationError, match=r"^record 1: no vector, and no 'text'"):
        idx.records.add_many({"text": ["a", None]})


def test_an_index_without_an_embedder_keeps_its_errors(client: Any) -> None:
    idx = client.indexes.create_or_get(namespace="t", index="plain", dimensions=DIM)
    with pytest.raises(ValidationError, match=r"^record 3: vector is missing$"):
        idx.records.add_many([{"properties": {}, "vector": np.ones(DIM)}] * 3 + [{}])
    with pytest.raises(ValidationError, match="has no vector column 'vector'"):
        idx.records.add_many({"text": ["a"]})
    with pytest.raises(ValidationError, match=r"^this index has no embedder: pass vector=\.\.\."):
        idx.search.nearest(text="oil")


def test_an_embedder_of_the_wrong_width_is_refused(client: Any) -> None:
    embed.register(NAME, lambda texts: np.ones((len(texts), 3), np.float32), replace=True)
    idx = _index(client)
    with pytest.raises(ValidationError, match=r"returned an array of shape \(1, 3\).*\(1, 16\)"):
        idx.records.add(properties={"text": "x"})


# ---- nearest(text=...) --------------------------------------------------------------------


def test_nearest_text_is_nearest_of_the_embedded_query(client: Any) -> None:
    idx = _index(client)
    idx.records.add_many([{"properties": {"text": t, "n": i}} for i, t in enumerate(TEXTS * 5)])
    q = "prices of oil"
    by_text = idx.search.nearest(text=q, limit=7, filter={"n": {"$gte": 2}})
    by_vector = idx.search.nearest(
        vector=bag_of_letters([q])[0], limit=7, filter={"n": {"$gte": 2}}
    )
    assert [h["uuid"] for h in by_text["results"]] == [h["uuid"] for h in by_vector["results"]]
    assert by_text["next_after"] == by_vector["next_after"]
    # the cursor pages on a text query as on its vector
    more = idx.search.nearest(
        text=q, limit=7, filter={"n": {"$gte": 2}}, after=by_text["next_after"]
    )
    more_v = idx.search.nearest(
        vector=bag_of_letters([q])[0],
        limit=7,
        filter={"n": {"$gte": 2}},
        after=by_vector["next_after"],
    )
    assert [h["uuid"] for h in more["results"]] == [h["uuid"] for h in more_v["results"]]
    # a list of texts is a batch, as a 2-D vector is
    batch = idx.search.nearest(text=TEXTS[:2], limit=3)
    want = idx.search.nearest(vector=bag_of_letters(TEXTS[:2]), limit=3)
    assert isinstance(batch, list) and len(batch) == 2
    for got, exp in zip(batch, want, strict=True):
        assert [h["uuid"] for h in got["results"]] == [h["uuid"] for h in exp["results"]]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, r"pass vector=\.\.\. \(the query vector\) or text="),
        ({"text": "a", "vector": np.ones(DIM)}, "pass vector or text, not both"),
        ({"text": []}, "text is an empty list"),
        ({"text": ["a", 3]}, r"text\[1\] must be a str, got int"),
        ({"text": ["a"], "after": "x"}, "a batch of texts takes none"),
    ],
)
def test_nearest_text_argument_errors(client: Any, kwargs: dict[str, Any], match: str) -> None:
    idx = _index(client)
    idx.records.add(properties={"text": "x"})
    with pytest.raises(ValidationError, match=match):
        idx.search.nearest(**kwargs)


# ---- the real text model --------------------------------------------------------------------


def _news(n: int) -> list[str]:
    with gzip.open(TEST_DATA / "news.tsv.gz", "rt", encoding="utf-8", newline="") as f:
        return [row["text"] for row in csv.DictReader(f, delimiter="\t")][:n]


def test_minilm_index_embeds_as_text_embedder_does(client: Any) -> None:
    texts = _news(20)
    idx = client.indexes.create_or_get(
        namespace="t",
        index="news",
        dimensions=384,
        index_options={"embedder": {"model": "all-MiniLM-L6-v2", "field": "text"}},
    )
    res = idx.records.add_many([{"properties": {"text": t, "i": i}} for i, t in enumerate(texts)])
    want = embed.text_embedder()(texts)
    stored = _stored(idx)
    got = np.stack([stored[u] for u in res])
    cos = np.sum(got * want, axis=1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(want, axis=1))
    assert cos.min() > 0.9999
    # each stored text is its own nearest neighbour
    hits = idx.search.nearest(text=texts[:5], limit=1)
    assert [h["results"][0]["metadata"]["i"] for h in hits] == [0, 1, 2, 3, 4]
