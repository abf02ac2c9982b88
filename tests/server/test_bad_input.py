"""Bad requests get a 4xx `{"detail": str}`, never a 500, and the server keeps serving."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from eigenlake.server.app import create_app

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
    # a query vector is read as strictly as a written one: "1" or true is not a number
    ("post", f"{IDX}/search/near-vector", b'{"vector": ["1", true, 0.5]}', 422),
    ("post", f"{IDX}/search/near-vector", b'{"vector": [1, true, 0.5]}', 422),
    ("post", f"{IDX}/search/near-vector", b'{"vector": ["1", 2, 0.5]}', 422),
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

    search = store.indexes.open(namespace="ns", index="idx").search
    search.nearest = boom  # the opened index is cached: the route gets this very object
    r = http.post(f"{IDX}/search/near-vector", json={"vector": [1, 2, 3]})
    assert r.status_code == 500 and r.json() == {"detail": "internal server error"}
    assert http.get("/v1/health/ready").status_code == 200


# ---- the write path against a real embedded store -------------------------------------

ROUTE_CASES = [
    # checked by the route / request models, whatever store serves them
    ("/v1/indexes/get-or-create", b'{"namespace": "a", "index": "b", "dimensions": true}', 422),
    ("/v1/indexes/get-or-create", b'{"namespace": "a", "index": "b", "dimensions": 70000}', 422),
    (
        "/v1/indexes/get-or-create",
        b'{"namespace": "a", "index": "b", "dimensions": 3, "schema": {"properties": 5}}',
        422,
    ),
    (
        "/v1/indexes/get-or-create",
        b'{"namespace": "a", "index": "b", "dimensions": 3, "index_options": {"hnsw": {"m": 1000}}}',
        422,
    ),
    (f"{IDX}/records/insert", b'{"vector": ["1", "2", "3"]}', 422),
    (f"{IDX}/records/insert", b'{"vector": [true, false, true]}', 422),
    (f"{IDX}/records/insert-vectors", b'{"vectors": [{"vector": [true, 1, 1]}]}', 422),
]


@pytest.mark.parametrize(("path", "body", "status"), ROUTE_CASES)
def test_route_checks_refuse_whatever_the_store(
    http: TestClient, store, path: str, body: bytes, status: int
) -> None:
    before = store.indexes.list()
    r = http.post(path, content=body, headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    assert isinstance(r.json()["detail"], str) and r.json()["detail"]
    assert store.indexes.list() == before
    assert store.indexes.open(namespace="ns", index="idx").records.list(limit=10)["objects"] == []


@pytest.fixture
def served(tmp_path) -> Iterator[TestClient]:
    """The app over a real embedded store, with one 3-d index ns/idx."""
    app = create_app(path=str(tmp_path / "store"), max_body_bytes=10_000_000)
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.post(
            "/v1/indexes/get-or-create", json={"namespace": "ns", "index": "idx", "dimensions": 3}
        )
        assert r.status_code == 200, r.text
        r = c.post(f"{IDX}/records/insert", json={"properties": {"k": 1}, "vector": [1, 0, 0]})
        assert r.status_code == 200, r.text
        yield c


def _json(obj: object) -> bytes:
    # json.dumps escapes a lone surrogate as \ud800 and writes NaN/Infinity, as clients do
    return json.dumps(obj).encode()


def _deep(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


def _records(c: TestClient) -> list[object]:
    r = c.post(f"{IDX}/records/get-by-filter", json={"where": {}, "limit": 1000})
    assert r.status_code == 200, r.text  # a stored bad value would fail this read
    return sorted((o["uuid"], json.dumps(o["metadata"])) for o in r.json()["objects"])


UID = "00000000-0000-4000-8000-00000000000a"
V3 = [1.0, 0.0, 0.0]
WRITES: list[tuple[str, str, bytes, tuple[str, ...]]] = [
    ("post", "insert", _json({"properties": {"s": "a\ud800"}, "vector": V3}), ("'s'", "surrogate")),
    ("post", "insert", _json({"properties": {"l": [{"x": "\udfff"}]}, "vector": V3}), ("'l'",)),
    ("post", "insert", _json({"properties": {"\ud800": 1}, "vector": V3}), ("surrogate",)),
    ("post", "insert", _json({"properties": {}, "vector": V3, "uuid": "\ud800"}), ("uuid",)),
    ("post", "insert", b'{"properties": {"f": [1, NaN]}, "vector": [1, 0, 0]}', ("'f'", "finite")),
    ("post", "insert", b'{"properties": {"f": {"g": -Infinity}}, "vector": [1, 0, 0]}', ("'f'",)),
    (
        "post",
        "insert",
        b'{"properties": {"d": %s}, "vector": [1, 0, 0]}' % _deep(100).encode(),
        ("'d'", "deep"),
    ),
    (
        "post",
        "insert",
        b'{"properties": {"d": %s}, "vector": [1, 0, 0]}' % _deep(10_000).encode(),
        (),
    ),
    ("post", "insert", _json({"properties": {"big": 2**64}, "vector": V3}), ("'big'", "64-bit")),
    ("post", "insert", b'{"properties": {}, "vector": [1e400, 0, 0]}', ("vector",)),
    ("post", "insert", _json({"properties": {}, "vector": [10**400, 0, 0]}), ("vector",)),
    ("post", "insert", _json({"properties": {}, "vector": ["a", "b", "c"]}), ("vector",)),
    ("post", "insert", _json({"properties": {}, "vector": [True, False, True]}), ("vector",)),
    (
        "post",
        "insert-many",
        _json(
            {
                "objects": [
                    {"properties": {"ok": 1}, "vector": V3},
                    {"properties": {"s": "\ud800"}, "vector": V3},
                ]
            }
        ),
        ("record 1", "'s'"),
    ),
    ("post", "insert-many", _json({"objects": 5}), ("objects",)),
    (
        "post",
        "insert-vectors",
        _json({"vectors": [{"vector": [1, 0, 0], "uuid": "x\ud800"}]}),
        ("uuid",),
    ),
    ("patch", UID, _json({"properties": {"s": ["\ud800"]}}), ("'s'",)),
    ("patch", UID, b'{"properties": {"f": [NaN]}}', ("'f'",)),
    ("patch", UID, _json({"vector": ["1", "0", "0"]}), ("vector",)),
    ("put", UID, _json({"properties": {"o": {"\ud800": 1}}}), ("'o'",)),
    ("put", UID, _json({"properties": {"d": json.loads(_deep(33))}}), ("'d'", "deep")),
]


@pytest.mark.parametrize(("method", "route", "body", "words"), WRITES)
def test_bad_writes_are_4xx_naming_the_problem_and_store_nothing(
    served: TestClient, method: str, route: str, body: bytes, words: tuple[str, ...]
) -> None:
    if method != "post":
        r = served.post(f"{IDX}/records/insert", json={"properties": {}, "vector": V3, "uuid": UID})
        assert r.status_code == 200, r.text
    before = _records(served)
    r = served.request(
        method, f"{IDX}/records/{route}", content=body, headers={"content-type": "application/json"}
    )
    assert 400 <= r.status_code < 500, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, str) and detail
    for w in words:
        assert w in detail, (w, detail)
    assert _records(served) == before
    assert served.get("/v1/health/ready").status_code == 200


CREATES: list[tuple[dict[str, object], tuple[str, ...]]] = [
    ({"namespace": "a/b", "index": "x"}, ("namespace",)),
    ({"namespace": "ok", "index": "x/y"}, ("index",)),
    ({"namespace": ".hidden", "index": "x"}, ("namespace", "'.'")),
    ({"namespace": "ok", "index": "x" * 129}, ("index", "too long")),
    ({"namespace": "ok", "index": "sp ace"}, ("index",)),
    ({"namespace": "ok", "index": "x", "dimensions": 10**9}, ("dimensions",)),
    ({"namespace": "ok", "index": "x", "dimensions": True}, ("dimensions",)),
    ({"namespace": "ok", "index": "x", "schema": 5}, ("schema",)),
    ({"namespace": "ok", "index": "x", "schema": {"properties": 5}}, ("schema", "properties")),
    (
        {"namespace": "ok", "index": "x", "schema": {"properties": {"p": "string"}}},
        ("schema", "'p'"),
    ),
    (
        {"namespace": "ok", "index": "x", "schema": {"properties": {"p": {"type": "blob"}}}},
        ("schema", "'p'", "blob"),
    ),
    (
        {
            "namespace": "ok",
            "index": "x",
            "schema": {"properties": {"p": {"type": "string", "pattern": "(["}}},
        },
        ("schema", "'p'", "pattern"),
    ),
    (
        {
            "namespace": "ok",
            "index": "x",
            "schema": {"properties": {"p": {"type": "string", "enum": 5}}},
        },
        ("'p'", "enum"),
    ),
    (
        {
            "namespace": "ok",
            "index": "x",
            "schema": {"properties": {"p": {"type": "integer", "minimum": "1"}}},
        },
        ("'p'", "minimum"),
    ),
    ({"namespace": "ok", "index": "x", "schema": {"required": "p"}}, ("schema", "required")),
    ({"namespace": "ok", "index": "x", "index_options": {"hnsw": {"m": 10**9}}}, ("hnsw.m",)),
    (
        {"namespace": "ok", "index": "x", "index_options": {"hnsw": {"ef_search": 0}}},
        ("ef_search",),
    ),
    (
        {"namespace": "ok", "index": "x", "index_options": {"exact_threshold": -1}},
        ("exact_threshold",),
    ),
    (
        {"namespace": "ok", "index": "x", "index_options": {"distance_metric": "dot"}},
        ("distance_metric",),
    ),
    (
        {
            "namespace": "ok",
            "index": "x",
            "index_options": {"metadataConfiguration": {"nonFilterableMetadataKeys": "p"}},
        },
        ("nonFilterableMetadataKeys",),
    ),
]


@pytest.mark.parametrize(("fields", "words"), CREATES)
def test_bad_creates_are_422_naming_the_field_and_create_nothing(
    served: TestClient, fields: dict[str, object], words: tuple[str, ...]
) -> None:
    body = {"dimensions": 3, **fields}
    r = served.post(
        "/v1/indexes/get-or-create",
        content=_json(body),
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422, r.text
    for w in words:
        assert w in r.json()["detail"], (w, r.json()["detail"])
    listed = served.get("/v1/indexes").json()["indexes"]
    assert listed == [{"namespace": "ns", "index": "idx"}]
