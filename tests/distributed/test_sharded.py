"""Sharded index on a local Ray: results equal one embedded index and brute force."""

from __future__ import annotations

import uuid

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

import eigenlake
from eigenlake import _core
from eigenlake.distributed import connect_ray, shard_of
from eigenlake.distributed.kmeans import run_kmeans
from eigenlake.errors import ConflictError, NotFoundError, ValidationError

from ._data import blobs, records_of

NS, IDX, SHARDS = "ns", "vectors", 3
# the distributed k-means as search.cluster calls it (its defaults)
_KMEANS = {
    "algorithm": "kmeans",
    "num_clusters": 2,
    "distance_metric": "cosine",
    "text_fields": None,
    "max_iterations": 50,
    "representatives_per_cluster": 3,
    "auto_tune": False,
    "seed": 0,
}


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    return blobs()


@pytest.fixture(scope="module")
def client(ray_session, tmp_path_factory):
    c = connect_ray(path=str(tmp_path_factory.mktemp("sharded")), num_shards=SHARDS)
    yield c
    c.close()


@pytest.fixture(scope="module")
def loaded(client, data):
    """(sharded index, embedded index) holding the same records."""
    x, labels = data
    idx = client.indexes.create_or_get(namespace=NS, index=IDX, dimensions=x.shape[1])
    got = idx.records.add_many(records_of(x, labels))
    assert len(got) == len(x) and got.number_errors == 0
    emb = eigenlake.connect(path=str(client.path) + "-embedded")
    single = emb.indexes.create_or_get(namespace=NS, index=IDX, dimensions=x.shape[1])
    single.records.add_many(records_of(x, labels))
    return idx, single, list(got)


def test_routing_is_stable_and_followed(loaded):
    idx, _single, uuids = loaded
    # a fixed value: a salted or changed hash would move every stored record
    assert shard_of("00000000-0000-0000-0000-000000000001", 3) == shard_of(str(uuid.UUID(int=1)), 3)
    assert [shard_of(str(uuid.UUID(int=i)), 7) for i in range(5)] == [5, 1, 4, 2, 5]
    expected = np.bincount([shard_of(u, SHARDS) for u in uuids], minlength=SHARDS)
    shards = idx.settings.shards()
    assert shards["shard_count"] == SHARDS
    assert [s["records"] for s in shards["shards"]] == expected.tolist()
    assert min(expected) > 0


def test_uuids_are_the_embedded_ones(loaded, data):
    idx, single, uuids = loaded
    x, labels = data
    page = single.records.list(limit=len(x))
    assert [o["uuid"] for o in page["objects"]] == uuids
    assert idx.count() == len(x)


def _brute(x: np.ndarray, q: np.ndarray, mask: np.ndarray, k: int) -> list[int]:
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    d = 1.0 - xn @ (q / np.linalg.norm(q))
    d[~mask] = np.inf
    return [int(i) for i in np.argsort(d, kind="stable")[:k] if np.isfinite(d[i])]


@pytest.mark.parametrize("flt", [None, {"label": 2}])
def test_nearest_equals_embedded_and_brute_force(loaded, data, flt):
    idx, single, uuids = loaded
    x, labels = data
    mask = np.ones(len(x), bool) if flt is None else labels == 2
    rng = np.random.default_rng(1)
    for q in rng.normal(size=(5, x.shape[1])).astype(np.float32):
        got = idx.search.nearest(vector=q, limit=10, filter=flt)["results"]
        ref = single.search.nearest(vector=q, limit=10, filter=flt)["results"]
        assert [h["uuid"] for h in got] == [h["uuid"] for h in ref]
        assert [h["uuid"] for h in got] == [uuids[i] for i in _brute(x, q, mask, 10)]
        np.testing.assert_allclose(
            [h["distance"] for h in got], [h["distance"] for h in ref], atol=1e-5
        )
        assert got[0]["metadata"]["label"] in (0, 1, 2, 3)


def test_nearest_pages_follow_the_global_order(loaded, data):
    idx, _single, uuids = loaded
    x, _labels = data
    q = x[3] + 0.3
    seen, after = [], None
    for _ in range(3):
        page = idx.search.nearest(vector=q, limit=7, after=after)
        seen += [h["uuid"] for h in page["results"]]
        after = page["next_after"]
    assert seen == [uuids[i] for i in _brute(x, q, np.ones(len(x), bool), 21)]
    with pytest.raises(ValidationError):
        idx.search.nearest(vector=q * 2 + 1, limit=7, after=after)


@pytest.mark.parametrize("flt", [None, {"label": {"$in": [1, 3]}}])
def test_list_returns_every_record_exactly_once(loaded, data, flt):
    idx, _single, uuids = loaded
    x, labels = data
    want = {u for u, lab in zip(uuids, labels, strict=True) if flt is None or lab in (1, 3)}
    seen, after, pages = [], None, 0
    while pages <= len(want):  # bounded: a cursor that stops moving must fail, not hang
        page = idx.records.list(filter=flt, limit=7, after=after)
        assert len(page["objects"]) <= 7
        seen += [o["uuid"] for o in page["objects"]]
        after, pages = page["next_after"], pages + 1
        if after is None:
            break
    assert len(seen) == len(set(seen)) == len(want)
    assert set(seen) == want
    assert pages == -(-len(want) // 7)
    with pytest.raises(ValidationError):
        idx.records.list(limit=7, after="not-a-cursor")


def test_get_exists_remove_and_writes(client, data):
    x, labels = data
    idx = client.indexes.create_or_get(namespace=NS, index="writes", dimensions=x.shape[1])
    recs = records_of(x[:50], labels[:50])
    uuids = idx.records.add_many(recs)
    assert idx.records.get(uuids[5])["metadata"] == {
        "document_id": "doc-5",
        "label": int(labels[5]),
    }
    np.testing.assert_allclose(idx.records.get(uuids[5])["vector"], x[5], rtol=1e-6)
    assert idx.records.exists(uuids[5])
    idx.records.remove(uuids[5])
    assert not idx.records.exists(uuids[5]) and idx.records.get(uuids[5]) is None
    with pytest.raises(NotFoundError):
        idx.records.remove(uuids[5])
    assert idx.count() == 49
    # a duplicate of a stored record fails the whole call: nothing of it is stored
    new = {"properties": {"document_id": "fresh"}, "vector": x[60]}
    with pytest.raises(ConflictError, match="record 1"):
        idx.records.add_many([new, recs[7]])
    assert idx.count() == 49
    # on_error="continue": the bad ones are reported at their position in the call
    res = idx.records.add_many([new, recs[7], {"vector": [1.0]}], on_error="continue")
    assert len(res) == 1 and sorted(f.position for f in res.failed_records) == [1, 2]
    assert idx.count() == 50
    assert (
        idx.records.add(properties={"document_id": "fresh"}, vector=x[61], on_duplicate="skip")
        == res[0]
    )


def test_kmeans_equals_lloyd_from_the_same_start(loaded, data):
    idx, _single, uuids = loaded
    x, labels = data
    xn = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    # deliberately poor start: midpoints between blobs, so Lloyd has to move every centroid
    first = [int(np.flatnonzero(labels == b)[0]) for b in range(4)]
    init = np.stack([xn[first[b]] + xn[first[(b + 1) % 4]] for b in range(4)])
    init /= np.linalg.norm(init, axis=1, keepdims=True)
    settings = {**_KMEANS, "num_clusters": 4, "max_iterations": 100}
    res = run_kmeans(idx, filter=None, limit=None, init=init, **settings)
    part = _labels_of(res, uuids)
    ref = _numpy_lloyd(xn, init, 100)
    assert adjusted_rand_score(ref, part) == pytest.approx(1.0)
    start = np.argmax(xn @ init.T, axis=1)
    assert adjusted_rand_score(start, part) < 0.99  # the test would miss a frozen loop
    assert res["parameters"]["iterations"] >= 2
    core_labels, *_ = _core.kmeans(xn, 4, init=init, max_iter=100, spherical=True)
    assert adjusted_rand_score(np.asarray(core_labels), part) >= 0.99


def test_kmeans_recovers_blobs(loaded, data):
    idx, _single, uuids = loaded
    x, labels = data
    res = idx.search.cluster(num_clusters=4, limit=None, representatives_per_cluster=2)
    assert adjusted_rand_score(labels, _labels_of(res, uuids)) >= 0.99
    assert res["parameters"]["num_clusters"] == 4 and res["noise_count"] == 0
    counts = [c["count"] for c in res["clusters"]]
    assert counts == sorted(counts, reverse=True) and sum(counts) == len(x)
    for c in res["clusters"]:
        assert len(c["members"]) == c["count"] and len(c["representatives"]) == 2
        rep = c["representatives"][0]
        assert set(rep) == {"uuid", "metadata", "distance"} and rep["distance"] < 0.05
        assert {m["uuid"] for m in c["members"]} >= {r["uuid"] for r in c["representatives"]}


def test_kmeans_silhouette_is_the_exact_one_of_all_rows(loaded, data):
    idx, _single, uuids = loaded
    x, _labels = data
    xn = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    res = run_kmeans(idx, filter=None, limit=None, **{**_KMEANS, "num_clusters": 5})
    part = _labels_of(res, uuids)
    want = _core.silhouette(xn, part.astype(np.int64), "cosine")
    assert res["silhouette"] == pytest.approx(want, abs=1e-5)
    assert res["parameters"]["silhouette_sample_size"] is None
    # euclidean keeps the estimate on the seeding sample, and says so
    res = run_kmeans(
        idx,
        filter=None,
        limit=None,
        **{**_KMEANS, "num_clusters": 4, "distance_metric": "euclidean"},
    )
    assert res["parameters"]["silhouette_sample_size"] > 0


def test_kmeans_limit_and_filter(loaded, data):
    idx, _single, _uuids = loaded
    res = idx.search.cluster(num_clusters=2, limit=50, filter={"label": {"$in": [0, 1]}})
    assert sum(c["count"] for c in res["clusters"]) == 50
    assert res["parameters"]["num_records"] == 50


def test_gathered_analyses_run_and_check_their_arguments(loaded):
    """DBSCAN, auto_tune, outliers and topics run on the rows gathered to the driver
    (equality with embedded: test_surface.py); bad arguments are refused the embedded way."""
    idx, _single, _uuids = loaded
    res = idx.search.cluster(algorithm="dbscan", limit=None)
    assert res["parameters"]["algorithm"] == "dbscan" and res["clusters"]
    assert idx.search.outliers(n_neighbors=5, limit=50)["parameters"]["num_records"] == 50
    with pytest.raises(ValidationError, match="algorithm"):
        idx.search.cluster(algorithm="hdbscan")
    with pytest.raises(ValidationError, match="max_clusters"):
        idx.search.cluster(num_clusters=3, max_clusters=1)  # checked on the k-means path too
    with pytest.raises(ValidationError, match="init must have shape"):
        run_kmeans(idx, filter=None, limit=None, init=np.ones((3, 16)), **_KMEANS)


def test_durable_across_reconnect(ray_session, tmp_path, data):
    x, labels = data
    path = str(tmp_path / "durable")
    with connect_ray(path=path, num_shards=2) as c:
        idx = c.indexes.create_or_get(namespace=NS, index=IDX, dimensions=x.shape[1])
        uuids = idx.records.add_many(records_of(x[:40], labels[:40]))
    with connect_ray(path=path, num_shards=2) as c:
        idx = c.indexes.open(namespace=NS, index=IDX)
        assert idx.count() == 40
        assert idx.records.get(uuids[17])["metadata"]["document_id"] == "doc-17"
    with pytest.raises(ConflictError, match="2-shard"):
        connect_ray(path=path, num_shards=3)


def _labels_of(res: dict, uuids: list[str]) -> np.ndarray:
    of = {m["uuid"]: c["cluster_id"] for c in res["clusters"] for m in c["members"]}
    return np.array([of[u] for u in uuids])


def _numpy_lloyd(x: np.ndarray, init: np.ndarray, iters: int) -> np.ndarray:
    """Spherical Lloyd in plain NumPy: the oracle for the distributed loop."""
    c = init.copy()
    labels = np.full(len(x), -1)
    for _ in range(iters):
        new = np.argmax(x @ c.T, axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
        for j in range(len(c)):
            s = x[labels == j].sum(axis=0)
            c[j] = s / (np.linalg.norm(s) or 1.0) if (labels == j).any() else c[j]
    return labels


def test_update_writes_back_and_new_properties_reach_every_shard(client, data):
    """The cookbook's pattern: cluster, write ``cluster_id`` back, filter on it."""
    from eigenlake import schema as s

    x, labels = data
    sch, opts = s.SchemaBuilder(additional_properties=False).add("document_id", s.string()).build()
    idx = client.indexes.create_or_get(
        namespace=NS, index="annotate", dimensions=x.shape[1], schema=sch, index_options=opts
    )
    uuids = idx.records.add_many(
        [{"properties": {"document_id": f"doc-{i}"}, "vector": v} for i, v in enumerate(x[:60])]
    )
    # one record only: the shards that do not hold it must still accept the filter
    idx.records.update(uuids[0], properties={"cluster_id": 9})
    assert idx.count({"cluster_id": 9}) == 1
    assert idx.settings.schema()["properties"]["cluster_id"]["type"] == "integer"
    res = idx.search.cluster(num_clusters=3)
    for c in res["clusters"]:
        for m in c["members"]:
            idx.records.update(m["uuid"], properties={"cluster_id": c["cluster_id"]})
    for c in res["clusters"]:
        assert idx.count({"cluster_id": c["cluster_id"]}) == c["count"]
    with pytest.raises(ValidationError):
        idx.records.update(uuids[1], properties={"cluster_id": "not an int"})
    got = idx.records.replace(id=uuids[2], properties={"document_id": "doc-2"})
    assert got["metadata"] == {"document_id": "doc-2"}


def test_open_schema_property_seen_by_one_shard_is_filterable(client, data):
    x, _labels = data
    idx = client.indexes.create_or_get(namespace=NS, index="open", dimensions=x.shape[1])
    idx.records.add_many([{"vector": v} for v in x[:30]])
    idx.records.add_many([{"properties": {"rare": 1}, "vector": x[31]}])
    assert idx.count({"rare": 1}) == 1
    assert len(idx.records.list(filter={"rare": {"$gte": 1}})["objects"]) == 1


def test_euclidean_kmeans_with_keywords_and_iterate(loaded, data):
    idx, _single, uuids = loaded
    _x, labels = data
    res = idx.search.cluster(
        num_clusters=4, distance_metric="euclidean", text_fields=["document_id"], limit=None
    )
    assert adjusted_rand_score(labels, _labels_of(res, uuids)) >= 0.99
    assert all("summary" in c and "keywords" in c for c in res["clusters"])
    assert [r["uuid"] for r in idx.search.iterate(page_size=33)] == [
        o["uuid"] for o in idx.records.list(limit=1000)["objects"]
    ]


def test_remove_many_and_add_vectors(client, data):
    x, labels = data
    idx = client.indexes.create_or_get(namespace=NS, index="bulk", dimensions=x.shape[1])
    idx.records.add_many(records_of(x[:80], labels[:80]))
    first = [o["uuid"] for o in idx.records.list(filter={"label": 1}, limit=1000)["objects"]]
    # limit removes the first matches in list order, across shards
    assert idx.records.remove_many(filter={"label": 1}, limit=3) == {"deleted": 3}
    left = [o["uuid"] for o in idx.records.list(filter={"label": 1}, limit=1000)["objects"]]
    assert left == first[3:]
    assert idx.manage.remove_by_filter(filter={"label": 1}) == {"deleted": len(first) - 3}
    with pytest.raises(NotFoundError):
        idx.records.remove_many(filter={"label": 1}, on_missing="error")
    before = idx.count()
    got = idx.records.add_vectors(x[80:90])
    assert len(got) == 10 and idx.count() == before + 10
    assert all(idx.records.exists(u) for u in got)
