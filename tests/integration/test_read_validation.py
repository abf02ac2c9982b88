"""Bad input on the read path: a ValidationError naming the argument, in both modes, and
the contract fixes of the hardening issue (search.get 404, agent filter {}, outliers
return_all). Wire-level refusals (422, never 5xx) are at the end, against the real server."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import httpx
import numpy as np
import pytest
from api_helpers import DIM, make_index, records

from eigenlake import NotFoundError, ValidationError
from eigenlake.api.checks import MAX_FILTER_DEPTH, MAX_LIMIT
from eigenlake.server.process import ServerProcess

BAD_LIMITS = [True, False, "5", 1.5, 0, -1, MAX_LIMIT + 1, 10**7, 2**64, None]
BAD_AFTERS = [1.5, 5, b"abc", ["x"], "x" * 5000]


def _raises(name: str, fn: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(ValidationError) as err:
        fn(*args, **kwargs)
    assert name in str(err.value), str(err.value)
    return str(err.value)


@pytest.fixture
def idx(client: Any) -> Any:
    index = make_index(client)
    index.records.add_many(records(12, seed=1))
    return index


def _forge(cursor: str, **fields: Any) -> str:
    data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    data.update(fields)
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _deep(depth: int) -> dict[str, Any]:
    flt: dict[str, Any] = {"length": {"$gte": 0}}
    for i in range(depth):
        flt = {"$not": flt} if i % 2 else {"$and": [flt]}
    return flt


# ---- 1. limits and cursors ---------------------------------------------------------------


@pytest.mark.parametrize("limit", BAD_LIMITS)
def test_bad_page_sizes_are_refused_naming_them(idx: Any, limit: Any) -> None:
    q = np.ones(DIM)
    _raises("limit", idx.search.nearest, vector=q, limit=limit)
    _raises("limit", idx.records.list, limit=limit)
    _raises("limit", idx.search.list, limit=limit)
    _raises("page_size", idx.search.iterate, page_size=limit)


def test_the_largest_page_is_accepted(idx: Any) -> None:
    q = np.ones(DIM)
    assert len(idx.search.nearest(vector=q, limit=MAX_LIMIT)["results"]) == 12
    assert len(idx.records.list(limit=MAX_LIMIT)["objects"]) == 12
    assert len(idx.search.list(limit=MAX_LIMIT)["objects"]) == 12


@pytest.mark.parametrize("offset", [True, "3", 1.5, -1, 2**64])
def test_bad_offsets_are_refused(idx: Any, offset: Any) -> None:
    _raises("offset", idx.search.list, limit=5, offset=offset)


def test_offset_past_the_end_is_an_empty_page(idx: Any) -> None:
    assert idx.search.list(limit=5, offset=10**12) == {"objects": [], "next_offset": 10**12}


@pytest.mark.parametrize("after", BAD_AFTERS)
def test_cursors_that_are_not_strings_are_refused(idx: Any, after: Any) -> None:
    _raises("after", idx.search.nearest, vector=np.ones(DIM), limit=2, after=after)
    _raises("after", idx.records.list, limit=2, after=after)


@pytest.mark.parametrize("after", ["-3", "1.5", " 5", "5_0", "9" * 40, "x"])
def test_malformed_list_cursors_are_refused(idx: Any, after: str) -> None:
    _raises("after", idx.records.list, limit=2, after=after)


@pytest.mark.parametrize(
    "fields",
    [{"o": 2**64}, {"o": -5}, {"o": 1.5}, {"o": True}, {"d": "x"}, {"u": "nope"}, {"u": 7}],
)
def test_hand_made_nearest_cursors_are_refused(idx: Any, fields: dict[str, Any]) -> None:
    q = np.ones(DIM)
    cursor = idx.search.nearest(vector=q, limit=2)["next_after"]
    _raises("after", idx.search.nearest, vector=q, limit=2, after=_forge(cursor, **fields))


def test_a_large_cursor_offset_is_harmless(idx: Any) -> None:
    """The offset only sizes the search; it is capped by the rows that exist, so a cursor
    claiming 10**12 hits returned gives the right next page instead of a huge allocation
    (this aborted the process before the cap)."""
    q = np.ones(DIM)
    first = idx.search.nearest(vector=q, limit=4)
    forged = _forge(first["next_after"], o=10**12)
    got = idx.search.nearest(vector=q, limit=4, after=forged)
    want = idx.search.nearest(vector=q, limit=4, after=first["next_after"])
    assert [h["uuid"] for h in got["results"]] == [h["uuid"] for h in want["results"]]


def test_search_memory_is_bounded_by_the_rows(tmp_path: Any, monkeypatch: Any) -> None:
    """The kernels are never asked for more rows than the filter keeps, whatever the
    limit or a cursor's offset says (before: offset + limit + 1, doubling from there;
    a cursor claiming 10**12 hits made a 32 TB allocation abort the process)."""
    import eigenlake
    from eigenlake.embedded.search import Search

    asked: list[tuple[int, int]] = []
    topk = Search._topk

    def checked(self: Any, q: Any, k: int, sel: Any) -> Any:
        kept = sel.count
        asked.append((k, kept))
        assert k <= kept, f"asked the kernel for {k} rows, {kept} exist"
        return topk(self, q, k, sel)

    monkeypatch.setattr(Search, "_topk", checked)
    with eigenlake.connect(path=str(tmp_path / "store")) as client:
        index = make_index(client)
        index.records.add_many(records(12, seed=1))
        q = np.ones(DIM)
        assert len(index.search.nearest(vector=q, limit=MAX_LIMIT)["results"]) == 12
        flt = {"organism": "Homo sapiens"}
        first = index.search.nearest(vector=q, limit=2, filter=flt)
        forged = _forge(first["next_after"], o=10**12)
        assert len(index.search.nearest(vector=q, limit=2, filter=flt, after=forged)["results"])
        nothing = {"organism": "nobody"}
        assert index.search.nearest(vector=q, limit=MAX_LIMIT, filter=nothing)["results"] == []
    assert asked and all(k <= kept for k, kept in asked)


def test_remove_many_refuses_bad_limits_and_modes(idx: Any) -> None:
    flt = {"length": {"$gte": 0}}
    for limit in (-1, True, "5", 1.5, 2**64):
        _raises("limit", idx.records.remove_many, filter=flt, limit=limit)
        _raises("limit", idx.manage.remove_by_filter, filter=flt, limit=limit)
    for mode in ("maybe", None, 1):
        _raises("on_missing", idx.records.remove_many, filter=flt, on_missing=mode)
    _raises("filter", idx.records.remove_many, filter=[flt])
    assert len(idx.records.list(limit=100)["objects"]) == 12  # nothing removed
    assert idx.records.remove_many(filter=flt, limit=0) == {"deleted": 0}


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda i: i.records.get(str(uuid.uuid4()), return_data="y"), "return_data"),
        (lambda i: i.records.list(with_vector="yes"), "with_vector"),
        (lambda i: i.search.list(newest_first=1), "newest_first"),
        (lambda i: i.search.nearest(vector=np.ones(DIM), with_vector=None), "with_vector"),
    ],
)
def test_flags_must_be_booleans(idx: Any, call: Any, name: str) -> None:
    _raises(name, call, idx)


# ---- 2. filters --------------------------------------------------------------------------


def test_a_10000_deep_filter_is_refused(idx: Any) -> None:
    flt = _deep(10_000)
    msg = _raises("filter", idx.records.list, filter=flt)
    assert str(MAX_FILTER_DEPTH) in msg
    _raises("filter", idx.search.nearest, vector=np.ones(DIM), filter=flt)
    _raises("filter", idx.records.remove_many, filter=flt)
    _raises("filter", idx.search.cluster, filter=flt)


def test_filter_depth_limit_is_exact(idx: Any) -> None:
    assert len(idx.records.list(filter=_deep(MAX_FILTER_DEPTH))["objects"]) == 12
    _raises("filter", idx.records.list, filter=_deep(MAX_FILTER_DEPTH + 1))


@pytest.mark.parametrize(
    ("flt", "named"),
    [
        ([{"length": 1}], "filter"),
        ("length = 1", "filter"),
        ({"length": {"$gt": float("nan")}}, "length"),
        ({"length": {"$gt": 2**70}}, "length"),
        ({"score": {"$lt": 2**1100}}, "score"),
        ({"length": {"$in": [1, 2**64]}}, "length"),
        ({"$and": {"length": 1}}, "$and"),
        ({"$not": []}, "filter"),
        ({"organism": {"$in": [{"a": 1}]}}, "organism"),
    ],
)
def test_bad_filters_are_validation_errors(idx: Any, flt: Any, named: str) -> None:
    _raises(named, idx.records.list, filter=flt)
    _raises(named, idx.search.nearest, vector=np.ones(DIM), filter=flt)


# ---- 3. analyses arguments ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"limit": True}, "limit"),
        ({"limit": 0}, "limit"),
        ({"limit": "10"}, "limit"),
        ({"limit": 2**64}, "limit"),
        ({"filter": [1]}, "filter"),
        ({"n_neighbors": True}, "n_neighbors"),
        ({"n_neighbors": 0}, "n_neighbors"),
        ({"n_neighbors": 2**64}, "n_neighbors"),
        ({"contamination": 0.9}, "contamination"),
        ({"contamination": True}, "contamination"),
        ({"return_all": "yes"}, "return_all"),
        ({"max_results": -1}, "max_results"),
        ({"max_results": 1.5}, "max_results"),
        ({"distance_metric": "l1"}, "distance_metric"),
    ],
)
def test_outliers_arguments(idx: Any, kwargs: dict[str, Any], name: str) -> None:
    _raises(name, idx.search.outliers, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"limit": -1}, "limit"),
        ({"filter": 5}, "filter"),
        ({"num_topics": True}, "num_topics"),
        ({"top_words": 0}, "top_words"),
        ({"top_words": "10"}, "top_words"),
        ({"auto_tune": "yes"}, "auto_tune"),
    ],
)
def test_topics_arguments(idx: Any, kwargs: dict[str, Any], name: str) -> None:
    _raises(name, idx.search.topics, text_fields=["organism"], **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"limit": True}, "limit"), ({"limit": 0}, "limit"), ({"filter": "x"}, "filter")],
)
def test_cluster_limit_and_filter(idx: Any, kwargs: dict[str, Any], name: str) -> None:
    _raises(name, idx.search.cluster, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"limit": True}, "limit"),
        ({"limit": 2**64}, "limit"),
        ({"filter": [1]}, "filter"),
        ({"mode": "summarise"}, "mode"),
        ({"algorithm": "hdbscan"}, "algorithm"),
        ({"num_clusters": True}, "num_clusters"),
        ({"auto_tune": "yes"}, "auto_tune"),
        ({"min_clusters": 1}, "min_clusters"),
        ({"max_clusters": 2.5}, "max_clusters"),
        ({"dbscan_eps": -1.0}, "dbscan_eps"),
        ({"dbscan_min_samples": 0}, "dbscan_min_samples"),
        ({"time_field": 5}, "time_field"),
        ({"failure_field": None}, "failure_field"),
        ({"failure_values": "failed"}, "failure_values"),
        ({"recent_days": True}, "recent_days"),
        ({"recent_days": 10**9}, "recent_days"),
    ],
)
def test_agent_arguments(idx: Any, kwargs: dict[str, Any], name: str) -> None:
    # a listing request: before, arguments of analyses it does not run went unchecked
    _raises(name, idx.agent.query, "show human proteins", **kwargs)


def test_agent_time_window_too_far_back_is_answered(idx: Any) -> None:
    res = idx.agent.query("show records of the last 99999999999 days", time_field="seen")
    assert res["action"] == "none" and "year 1" in res["explanation"]


# NumPy values as arguments: refused naming the argument, never a raw "truth value of an
# array is ambiguous" ValueError or an OverflowError; NumPy integers are counts everywhere.

MODES_ARRAY = np.array(["skip", "error"])


@pytest.mark.parametrize("name", ["on_duplicate", "on_error"])
def test_a_numpy_array_as_a_write_mode_is_refused_by_name(idx: Any, name: str) -> None:
    _raises(name, idx.records.add_many, records(1, seed=5), **{name: MODES_ARRAY})
    assert len(idx.records.list(limit=100)["objects"]) == 12  # nothing added


def test_a_numpy_array_as_on_missing_is_refused_by_name(idx: Any) -> None:
    flt = {"length": {"$gte": 0}}
    _raises("on_missing", idx.records.remove_many, filter=flt, on_missing=MODES_ARRAY)
    assert len(idx.records.list(limit=100)["objects"]) == 12  # nothing removed


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"algorithm": np.array(["kmeans", "dbscan"])}, "algorithm"),
        ({"distance_metric": np.array(["cosine"] * 2)}, "distance_metric"),
        ({"algorithm": "dbscan", "dbscan_eps": 10**400}, "dbscan_eps"),
        ({"algorithm": "dbscan", "dbscan_eps": np.float32(0)}, "dbscan_eps"),
        ({"num_clusters": np.int64(10**9)}, "num_clusters"),
    ],
)
def test_cluster_numpy_and_huge_arguments_are_refused_by_name(
    idx: Any, kwargs: dict[str, Any], name: str
) -> None:
    _raises(name, idx.search.cluster, **kwargs)


def test_outliers_numpy_metric_is_refused_by_name(idx: Any) -> None:
    _raises("distance_metric", idx.search.outliers, distance_metric=np.array(["cosine"] * 2))


def test_numpy_numbers_are_taken_as_arguments_of_analyses_as_of_searches(idx: Any) -> None:
    """cluster(num_clusters=np.int64(3)) was refused while nearest(limit=np.int64(3)) was
    taken; a float32 epsilon was refused while a float64 one was taken."""
    assert len(idx.search.nearest(vector=np.ones(DIM), limit=np.int64(3))["results"]) == 3
    res = idx.search.cluster(num_clusters=np.int64(3), max_iterations=np.int32(20))
    assert res["parameters"]["num_clusters"] == 3
    res = idx.search.cluster(algorithm="dbscan", dbscan_eps=np.float32(0.5))
    assert res["parameters"]["dbscan_eps"] == pytest.approx(0.5)


# ---- 4. contract -------------------------------------------------------------------------


def test_search_get_of_a_missing_record(client: Any, idx: Any) -> None:
    missing = "00000000-0000-0000-0000-000000000000"
    assert idx.records.get(missing) is None  # get-by-id: {"object": null} in every mode
    if not type(client).__name__.startswith("Remote"):  # in-process: embedded, sharded
        assert idx.search.get(missing) is None
    else:  # the wire answers 404 (API.md, "Additions")
        with pytest.raises(NotFoundError):
            idx.search.get(missing)


def test_agent_filter_is_always_a_dict(idx: Any) -> None:
    res = idx.agent.query("what is the weather like")
    assert res["action"] == "none" and res["filter"] == {}
    res = idx.agent.query("cluster everything", mode="cluster", num_clusters=2)
    assert res["action"] == "cluster" and res["filter"] == {}


def test_outliers_return_all_and_max_results(idx: Any) -> None:
    flagged = idx.search.outliers(n_neighbors=3, contamination=0.25)
    every = idx.search.outliers(n_neighbors=3, contamination=0.25, return_all=True)
    assert len(every["outliers"]) == 12
    assert every["outlier_count"] == flagged["outlier_count"] == 3
    scores = [o["score"] for o in every["outliers"]]
    assert scores == sorted(scores, reverse=True)  # most outlying first
    assert [o["uuid"] for o in every["outliers"][:3]] == [o["uuid"] for o in flagged["outliers"]]
    assert sum(o["is_outlier"] for o in every["outliers"]) == 3
    cut = idx.search.outliers(n_neighbors=3, contamination=0.25, return_all=True, max_results=5)
    assert [o["uuid"] for o in cut["outliers"]] == [o["uuid"] for o in every["outliers"][:5]]
    assert cut["outlier_count"] == 3
    assert idx.search.outliers(n_neighbors=3, max_results=0)["outliers"] == []


# ---- 5. the wire: 422 naming the field, never 5xx ----------------------------------------

WIRE_CASES = [
    ("search/near-vector", {"vector": [1.0] * DIM, "top_k": 2**64}, "top_k"),
    ("search/near-vector", {"vector": [1.0] * DIM, "top_k": True}, "top_k"),
    ("search/near-vector", {"vector": [1.0] * DIM, "top_k": "5"}, "top_k"),
    ("search/near-vector", {"vector": [1.0] * DIM, "top_k": 2.0}, "top_k"),
    ("search/near-vector", {"vector": [1.0] * DIM, "top_k": MAX_LIMIT + 1}, "top_k"),
    ("search/near-vector", {"vector": [1.0] * DIM, "include_vector": "yes"}, "include_vector"),
    ("search/near-vector", {"vector": [1.0] * DIM, "filter": _deep(100)}, "filter"),
    ("records/get-by-filter", {"limit": True}, "limit"),
    ("records/get-by-filter", {"limit": 10**7}, "limit"),
    ("records/get-by-filter", {"limit": 0}, "limit"),
    ("records/get-by-filter", {"after": 1.5}, "after"),
    ("records/get-by-filter", {"after": "9" * 40}, "after"),
    ("records/get-by-id", {"uuid": "0" * 32, "return_data": 1}, "return_data"),
    ("records/delete-many", {"where": {"length": 1}, "limit": True}, "limit"),
    ("records/delete-many", {"where": {"length": 1}, "limit": 2**64}, "limit"),
    ("records/delete-many", {"where": {"length": 1}, "batch_size": 2**64}, "batch_size"),
    ("records/delete-many", {"where": {"length": 1}, "background": 1}, "background"),
    ("manage/delete-by-filter", {"where": {"length": 1}, "limit_object_ids": -1}, "limit"),
    ("manage/delete-by-filter", {"where": {"length": 1}, "limit_object_ids": True}, "limit"),
    ("search/cluster", {"limit": True}, "limit"),
    ("search/cluster", {"limit": 2**64}, "limit"),
    ("search/cluster", {"max_iterations": 2**64}, "max_iterations"),
    ("search/cluster", {"num_clusters": 2**64}, "num_clusters"),
    ("search/cluster", {"dbscan_eps": True}, "dbscan_eps"),
    ("search/outliers", {"limit": True}, "limit"),
    ("search/outliers", {"n_neighbors": 2**64}, "n_neighbors"),
    ("search/outliers", {"return_all": 1}, "return_all"),
    ("search/outliers", {"max_results": -1}, "max_results"),
    ("search/outliers", {"filter": []}, "filter"),
    ("search/topics", {"text_fields": ["organism"], "top_words": 2**64}, "top_words"),
    ("agent/query", {"query": "show human", "limit": True}, "limit"),
    ("agent/query", {"query": "show human", "recent_days": 2**64}, "recent_days"),
    ("agent/query", {"query": "show human", "num_clusters": True}, "num_clusters"),
]


@pytest.fixture
def wire(server: ServerProcess) -> Any:
    headers = {"X-API-Key": server.api_key or ""}
    with httpx.Client(base_url=server.url, headers=headers, timeout=60) as http:
        r = http.post(
            "/v1/indexes/get-or-create",
            json={"namespace": "wire", "index": "reads", "dimensions": DIM},
        )
        assert r.status_code == 200, r.text
        base = "/v1/indexes/wire/reads"
        for i in range(6):
            vec = np.random.default_rng(i).standard_normal(DIM).tolist()
            props = {"length": i, "organism": "x"}
            r = http.post(f"{base}/records/insert", json={"properties": props, "vector": vec})
            assert r.status_code == 200, r.text
        yield http, base
        http.delete(base)


def _count(http: httpx.Client, base: str) -> int:
    return len(http.get(f"{base}/search/objects", params={"limit": 100}).json()["objects"])


@pytest.mark.parametrize(("route", "body", "name"), WIRE_CASES)
def test_wire_refuses_with_422_naming_the_field(
    wire: Any, route: str, body: dict[str, Any], name: str
) -> None:
    http, base = wire
    r = http.post(f"{base}/{route}", json=body)
    assert r.status_code == 422, (r.status_code, r.text)
    assert name in r.json()["detail"], r.text
    assert _count(http, base) == 6  # a refused delete deleted nothing


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"limit": 2**64}, "limit"),
        ({"limit": MAX_LIMIT + 1}, "limit"),
        ({"limit": 0}, "limit"),
        ({"offset": 2**64}, "offset"),
        ({"offset": -1}, "offset"),
    ],
)
def test_wire_search_objects_bounds(wire: Any, params: dict[str, Any], name: str) -> None:
    http, base = wire
    r = http.get(f"{base}/search/objects", params=params)
    assert r.status_code == 422 and name in r.json()["detail"], r.text


def test_wire_missing_object_is_404(wire: Any) -> None:
    http, base = wire
    r = http.get(f"{base}/search/object/00000000-0000-0000-0000-000000000000")
    assert r.status_code == 404 and "does not exist" in r.json()["detail"]
    r = http.post(f"{base}/records/get-by-id", json={"uuid": "0" * 32})
    assert r.status_code == 200 and r.json() == {"object": None}


def test_wire_agent_modes_and_filter(wire: Any) -> None:
    http, base = wire
    r = http.post(f"{base}/agent/query", json={"query": "anything at all", "mode": "outliers"})
    assert r.status_code == 200, r.text
    assert r.json()["action"] == "outliers" and r.json()["filter"] == {}
    r = http.post(f"{base}/agent/query", json={"query": "what is the weather like"})
    assert r.status_code == 200 and r.json()["filter"] == {}, r.text


def test_wire_outliers_return_all(wire: Any) -> None:
    http, base = wire
    r = http.post(
        f"{base}/search/outliers", json={"n_neighbors": 2, "return_all": True, "max_results": 4}
    )
    assert r.status_code == 200, r.text
    assert len(r.json()["outliers"]) == 4
