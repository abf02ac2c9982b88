"""search.nearest against a NumPy brute-force oracle; paging; list/get/iterate."""

from __future__ import annotations

import numpy as np
import pytest
from api_helpers import DIM, make_index, records

from eigenlake import ValidationError


def _oracle(vectors, query, metric, keep):
    v = np.asarray(vectors, dtype=np.float64)
    q = np.asarray(query, dtype=np.float64)
    if metric == "cosine":
        d = 1 - (v / np.linalg.norm(v, axis=1, keepdims=True)) @ (q / np.linalg.norm(q))
    else:
        d = np.linalg.norm(v - q, axis=1)
    d = np.where(keep, d, np.inf)
    return d


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_nearest_matches_brute_force(client, metric):
    idx = make_index(client, name=f"nn-{metric}", options={"distance_metric": metric})
    recs = records(60, seed=3)
    uids = idx.records.add_many(recs)
    query = np.random.default_rng(7).standard_normal(DIM)
    keep = np.array([r["properties"]["organism"] != "Mus musculus" for r in recs])
    dist = _oracle([r["vector"] for r in recs], query, metric, keep)
    out = idx.search.nearest(vector=query, limit=5, filter={"organism": {"$ne": "Mus musculus"}})
    hits = out["results"]
    want = np.argsort(dist, kind="stable")[:5]
    assert [h["uuid"] for h in hits] == [uids[i] for i in want]
    np.testing.assert_allclose([h["distance"] for h in hits], dist[want], atol=1e-5)
    assert hits[0]["metadata"]["accession"] == recs[want[0]]["properties"]["accession"]
    assert all("vector" not in h for h in hits)


def test_nearest_pages_without_duplicates(client):
    idx = make_index(client)
    recs = records(40, seed=5)
    idx.records.add_many(recs)
    query = recs[0]["vector"]
    seen, after = [], None
    while True:
        out = idx.search.nearest(vector=query, limit=7, after=after, filter={"reviewed": True})
        seen += [h["uuid"] for h in out["results"]]
        after = out["next_after"]
        if after is None:
            break
    full = idx.search.nearest(vector=query, limit=100, filter={"reviewed": True})
    assert seen == [h["uuid"] for h in full["results"]]
    assert len(seen) == 20 and len(set(seen)) == 20


def test_nearest_cursor_of_another_query_is_rejected(client):
    idx = make_index(client)
    recs = records(10)
    idx.records.add_many(recs)
    out = idx.search.nearest(vector=recs[0]["vector"], limit=2)
    with pytest.raises(ValidationError):
        idx.search.nearest(vector=recs[1]["vector"], limit=2, after=out["next_after"])


def test_nearest_with_vector_and_bad_query(client):
    idx = make_index(client)
    recs = records(5)
    idx.records.add_many(recs)
    out = idx.search.nearest(vector=recs[2]["vector"], limit=1, with_vector=True)
    assert out["results"][0]["distance"] == pytest.approx(0.0, abs=1e-6)
    assert len(out["results"][0]["vector"]) == DIM
    with pytest.raises(ValidationError):
        idx.search.nearest(vector=[1.0] * (DIM - 1))


def test_search_list_offsets_and_order(client):
    idx = make_index(client)
    uids = idx.records.add_many(records(9))
    page = idx.search.list(limit=4, offset=0)
    assert [o["uuid"] for o in page["objects"]] == list(reversed(uids))[:4]
    assert page["next_offset"] == 4
    page = idx.search.list(limit=4, offset=8, newest_first=False)
    assert [o["uuid"] for o in page["objects"]] == [uids[8]]
    assert page["next_offset"] == 9
    assert idx.search.list(limit=4, offset=9)["objects"] == []


def test_search_get_and_iterate(client):
    idx = make_index(client)
    uids = idx.records.add_many(records(11))
    rec = idx.search.get(uids[3], with_vector=True)
    assert rec["uuid"] == uids[3] and len(rec["vector"]) == DIM
    assert [r["uuid"] for r in idx.search.iterate(page_size=4)] == list(uids)


def test_nearest_on_empty_index_and_empty_filter(client):
    idx = make_index(client)
    empty = idx.search.nearest(vector=np.ones(DIM), limit=3)
    assert empty["results"] == [] and empty["next_after"] is None
    assert empty["usage"]["records_scanned"] == 0
    idx.records.add_many(records(3))
    out = idx.search.nearest(vector=np.ones(DIM), limit=3, filter={"organism": "nobody"})
    assert out["results"] == [] and out["next_after"] is None
    assert out["usage"]["records_scanned"] == 0 and out["usage"]["search_units"] == 0.001


def test_nearest_with_a_batch_of_queries_equals_each_query_alone(client):
    """A 2-D query (array or list of vectors) answers one list entry per row, each equal
    to that row's single-query answer (filter and with_vector included); no cursor."""
    idx = make_index(client)
    recs = records(50)
    idx.records.add_many(recs)
    q = np.random.default_rng(3).standard_normal((4, DIM)).astype(np.float32)
    flt = {"organism": {"$ne": "Mus musculus"}}
    for batch in (q, [list(map(float, row)) for row in q]):
        answers = idx.search.nearest(vector=batch, limit=7, filter=flt, with_vector=True)
        assert isinstance(answers, list) and len(answers) == 4
        for row, got in zip(q, answers, strict=True):
            alone = idx.search.nearest(vector=row, limit=7, filter=flt, with_vector=True)
            assert got["results"] == alone["results"]
            assert [h["uuid"] for h in got["results"]] == [h["uuid"] for h in alone["results"]]
    assert idx.search.nearest(vector=np.zeros((0, DIM), np.float32)) == []
    one = idx.search.nearest(vector=q[:1], limit=3)
    assert len(one) == 1 and len(one[0]["results"]) == 3
    with pytest.raises(ValidationError, match="after"):
        idx.search.nearest(vector=q, after=idx.search.nearest(vector=q[0], limit=1)["next_after"])
    with pytest.raises(ValidationError, match="query"):
        idx.search.nearest(vector=np.ones((2, DIM + 1), np.float32))
