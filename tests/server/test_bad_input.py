"""Bad requests get a 4xx `{"detail": str}`, never a 500, and the server keeps serving."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from .conftest import IDX

CASES = [
    ("post", f"{IDX}/records/insert", b"{not json", 400),
    ("post", f"{IDX}/records/insert", b"[1, 2]", 422),
    ("post", f"{IDX}/records/insert", b'{"properties": {}, "vector": "abc"}', 422),
    ("post", f"{IDX}/records/insert", b'{"properties": [], "vector": [1, 2, 3]}', 422),
    ("post", f"{IDX}/records/insert", b'{"vector": [1, 2, 3], "colour": "red"}', 422),
    ("post", f"{IDX}/records/insert", b'{"vector": [1, 2]}', 422),  # wrong dimension
    (
        "post",
        f"{IDX}/records/insert-many",
        b'{"objects": [{"vector": [1, 2, 3], "extra": 1}]}',
        422,
    ),
    ("post", f"{IDX}/records/insert", b'{"vector": [1, 2, 3], "on_duplicate": "maybe"}', 422),
    ("post", f"{IDX}/search/near-vector", b'{"vector": [1, 2, 3], "top_k": -1}', 422),
    (
        "post",
        f"{IDX}/search/near-vector",
        b'{"vector": [1, 2, 3], "filter": {"i": {"$regex": 1}}}',
        422,
    ),
    ("get", f"{IDX}/search/objects?limit=abc", b"", 422),
    ("get", f"{IDX}/search/objects?include_vector=perhaps", b"", 422),
    ("get", f"{IDX}/records/delete-jobs/notanint", b"", 422),
    (
        "post",
        "/v1/indexes/get-or-create",
        b'{"namespace": "a", "index": "b", "dimensions": 0}',
        422,
    ),
    (
        "post",
        "/v1/indexes/get-or-create",
        b'{"namespace": "a", "index": "b", "dimensions": "x"}',
        422,
    ),
    ("post", f"{IDX}/search/cluster", b'{"algorithm": "hdbscan"}', 422),
    ("post", f"{IDX}/agent/query", b'{"limit": 5}', 422),
]


@pytest.mark.parametrize(("method", "path", "body", "status"), CASES)
def test_rejected_with_detail(
    http: TestClient, method: str, path: str, body: bytes, status: int
) -> None:
    r = http.request(method, path, content=body, headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    assert isinstance(r.json()["detail"], str) and r.json()["detail"]
    assert http.get("/v1/health/ready").status_code == 200


def test_oversize_body_is_413(http: TestClient) -> None:
    big = {"properties": {"text": "x" * 300_000}, "vector": [1, 2, 3]}
    r = http.post(f"{IDX}/records/insert", json=big)
    assert r.status_code == 413 and "exceeds" in r.json()["detail"]

    def chunked():  # no Content-Length: the limit is enforced while reading
        for _ in range(30):
            yield b" " * 10_000

    r = http.post(
        f"{IDX}/records/insert", content=chunked(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 413
    r = http.post(f"{IDX}/records/insert", json={"properties": {}, "vector": [1, 2, 3]})
    assert r.status_code == 200


def test_unexpected_store_fault_is_500_without_internals(http: TestClient, store) -> None:
    def boom(**_):
        raise RuntimeError("secret internals")

    store.indexes_[("ns", "idx")].nearest = boom
    r = http.post(f"{IDX}/search/near-vector", json={"vector": [1, 2, 3]})
    assert r.status_code == 500 and r.json() == {"detail": "internal server error"}
    assert http.get("/v1/health/ready").status_code == 200
