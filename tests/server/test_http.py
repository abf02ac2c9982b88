"""The /v1 protocol over the HTTP layer: paths, shapes and status codes of API.md."""

from __future__ import annotations

import time
import uuid

from fastapi.testclient import TestClient

from .conftest import IDX


def test_ready_and_openapi(http: TestClient) -> None:
    assert http.get("/v1/health/ready").json() == {"ready": True}
    paths = http.get("/openapi.json").json()["paths"]
    for p in (
        "/v1/indexes/get-or-create",
        "/v1/indexes/{ns}/{idx}/records/insert-many",
        "/v1/indexes/{ns}/{idx}/search/near-vector",
        "/v1/indexes/{ns}/{idx}/search/outliers",
        "/v1/indexes/{ns}/{idx}/search/topics",
        "/v1/indexes/{ns}/{idx}/agent/query",
    ):
        assert p in paths


def test_index_lifecycle(http: TestClient) -> None:
    r = http.post(
        "/v1/indexes/get-or-create", json={"namespace": "ns", "index": "idx", "dimensions": 3}
    )
    assert r.status_code == 200 and r.json()["dimensions"] == 3
    r = http.post(
        "/v1/indexes/get-or-create", json={"namespace": "ns", "index": "idx", "dimensions": 4}
    )
    assert r.status_code == 409 and "dimensions" in r.json()["detail"]
    assert http.get(f"{IDX}/settings").json() == {
        "dims": 3,
        "schema": {},
        "shards": {"shard_count": 1, "shards": [{"id": 0, "records": 0}]},
    }
    assert http.get("/v1/indexes/ns/nope").status_code == 404
    r = http.delete(IDX, params={"ensure_remote": "true", "drop_keys_table": "true"})
    assert (r.status_code, r.json()) == (200, {"deleted": True})
    assert http.get(IDX).status_code == 404
    missing = str(uuid.uuid4())
    assert http.post(f"{IDX}/records/get-by-id", json={"uuid": missing}).status_code == 404


def test_record_round_trip(http: TestClient) -> None:
    r1, absent = str(uuid.uuid4()), str(uuid.uuid4())
    r = http.post(
        f"{IDX}/records/insert", json={"properties": {"a": 1}, "vector": [1, 0, 0], "uuid": r1}
    )
    assert r.json() == {"uuid": r1}
    r = http.post(f"{IDX}/records/insert", json={"properties": {}, "vector": [1, 0, 0], "uuid": r1})
    assert r.status_code == 409
    assert http.get(f"{IDX}/records/exists/{r1}").json() == {"exists": True}
    assert http.get(f"{IDX}/records/exists/{absent}").json() == {"exists": False}
    assert (
        http.patch(f"{IDX}/records/{r1}", json={"properties": {"b": 2}, "vector": None}).status_code
        == 200
    )
    obj = http.post(f"{IDX}/records/get-by-id", json={"uuid": r1}).json()["object"]
    assert obj["metadata"] == {"a": 1, "b": 2}
    assert (
        http.put(
            f"{IDX}/records/{r1}", json={"properties": {"c": 3}, "vector": [0, 1, 0]}
        ).status_code
        == 200
    )
    assert http.get(f"{IDX}/search/object/{r1}").json()["metadata"] == {"c": 3}
    assert http.delete(f"{IDX}/records/{r1}", params={"batch_size": 500}).status_code == 200
    assert http.post(f"{IDX}/records/get-by-id", json={"uuid": r1}).json() == {"object": None}
    assert http.delete(f"{IDX}/records/{r1}").status_code == 404
    assert http.patch(f"{IDX}/records/{r1}", json={"properties": {"b": 2}}).status_code == 404


def test_insert_many_reports_bad_records(http: TestClient) -> None:
    ids = [str(uuid.uuid4()) for _ in range(4)]
    objs = [{"properties": {"i": i}, "vector": [i, 1, 0], "uuid": ids[i]} for i in range(4)]
    bad = str(uuid.uuid4())  # a vector of 2 dimensions in an index of 3
    objs.append({"properties": {"bad": True}, "vector": [1, 1], "uuid": bad})
    body = {
        "objects": objs,
        "on_duplicate": "error",
        "on_error": "continue",
        "batch_size": 500,
        "max_workers": 1,
    }
    r = http.post(f"{IDX}/records/insert-many", json=body).json()
    assert r["uuids"] == ids
    assert [f["uuid"] for f in r["failed_objects"]] == [bad] and r["failed_objects"][0]["error"]
    body["on_error"] = "raise"
    body["objects"] = [{"properties": {}, "vector": [1, 2, 3]}, objs[-1]]
    assert http.post(f"{IDX}/records/insert-many", json=body).status_code == 422


def _fill(http: TestClient, n: int = 6) -> list[str]:
    """n records ``{"i": i, "status": ...}`` (odd ones "failed"); their uuids in order."""
    ids = [str(uuid.uuid4()) for _ in range(n)]
    objs = [
        {
            "properties": {"i": i, "status": "failed" if i % 2 else "ok"},
            "vector": [i, 1, 0],
            "uuid": ids[i],
        }
        for i in range(n)
    ]
    r = http.post(f"{IDX}/records/insert-many", json={"objects": objs, "on_error": "raise"})
    assert r.status_code == 200 and r.json()["uuids"] == ids, r.text
    return ids


def test_delete_many_sync_and_background(http: TestClient) -> None:
    _fill(http)
    body = {
        "where": {"i": {"$lt": 2}},
        "limit": None,
        "delete_patent_rows": False,
        "on_missing_keys": "skip",
        "batch_size": 500,
        "background": False,
    }
    assert http.post(f"{IDX}/records/delete-many", json=body).json() == {"deleted": 2}
    body["background"] = True
    body["where"] = {"i": {"$gte": 4}}
    job = http.post(f"{IDX}/records/delete-many", json=body).json()
    assert isinstance(job["job_id"], int) and job["status"] in ("queued", "running", "completed")
    for _ in range(100):
        job = http.get(f"{IDX}/records/delete-jobs/{job['job_id']}").json()
        if job["status"] == "completed":
            break
        time.sleep(0.02)
    assert job["status"] == "completed" and job["deleted"] == 2
    assert http.get(f"{IDX}/records/delete-jobs/999").status_code == 404
    body2 = {
        "where": {"i": 3},
        "limit_object_ids": None,
        "delete_sql_metadata_rows": False,
        "on_missing_keys": "skip",
        "batch_size": 500,
        "background": False,
    }
    assert http.post(f"{IDX}/manage/delete-by-filter", json=body2).json() == {"deleted": 1}


def test_pages_and_search(http: TestClient) -> None:
    ids = _fill(http, 5)
    body = {
        "where": {},
        "limit": 2,
        "after": None,
        "include_vector": False,
        "include_properties": True,
        "on_missing_keys": "skip",
    }
    seen = []
    while True:
        page = http.post(f"{IDX}/records/get-by-filter", json=body).json()
        seen += [o["uuid"] for o in page["objects"]]
        if page["next_after"] is None:
            break
        body["after"] = page["next_after"]
    assert seen == ids
    r = http.get(
        f"{IDX}/search/objects",
        params={"limit": 2, "offset": 2, "include_vector": "true", "newest_first": "false"},
    ).json()
    assert r["next_offset"] == 4 and len(r["objects"]) == 2
    hits = http.post(
        f"{IDX}/search/near-vector", json={"vector": [4, 1, 0], "top_k": 2, "filter": None}
    ).json()
    assert [h["uuid"] for h in hits["results"]] == [ids[4], ids[3]]
    c = http.post(
        f"{IDX}/search/cluster", json={"filter": {}, "text_fields": [], "algorithm": "kmeans"}
    ).json()
    assert sum(cl["count"] for cl in c["clusters"]) == 5
    assert sorted(m["uuid"] for cl in c["clusters"] for m in cl["members"]) == sorted(ids)
    assert c["parameters"]["num_clusters"] == len(c["clusters"])
    a = http.post(
        f"{IDX}/agent/query", json={"query": "errors", "filter": {}, "failure_values": ["failed"]}
    ).json()
    assert a["action"] == "filter" and list(a["filter"]) == ["status"]
    assert sorted(o["uuid"] for o in a["objects"]) == sorted([ids[1], ids[3]])
    o = http.post(f"{IDX}/search/outliers", json={"n_neighbors": 3})
    assert o.status_code == 200 and o.json()["parameters"]["n_neighbors"] == 3
    assert o.json()["parameters"]["num_records"] == 5
    assert http.post(f"{IDX}/search/outliers", json={"bogus": 1}).status_code == 422


def test_background_delete_validates_before_queueing(http: TestClient) -> None:
    _fill(http, 2)  # the index knows property 'i': the filter fails on its operator alone
    body = {"where": {"i": {"$regex": "x"}}, "background": True}
    r = http.post(f"{IDX}/records/delete-many", json=body)
    assert r.status_code == 422 and "$regex" in r.json()["detail"]
    r = http.post("/v1/indexes/ns/missing/records/delete-many", json={**body, "where": {}})
    assert r.status_code == 404
