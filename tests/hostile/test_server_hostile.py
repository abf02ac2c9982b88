"""Hostile requests against a real server: every one gets a 4xx `{"detail"}` naming the
problem (or, for sizes that can be clamped, a bounded answer), nothing of a refused write
is stored, and the server stays up and ready with bounded memory throughout."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from eigenlake.server.process import ServerProcess

from .conftest import BASE, ROWS, rss_bytes

VEC = [1.0, 0.0, 0.0, 0.0]
HUGE = [10**7, 10**12, 10**18, 2**63, 2**64 - 1, 2**64, 10**40]


def body(obj: Any) -> bytes:
    """JSON bytes; json.dumps escapes a lone surrogate as \\ud800, as a hostile client sends it."""
    raws: list[str] = []

    def hole(o: Any) -> Any:
        if isinstance(o, Raw):
            raws.append(o.text)
            return f"@@RAW{len(raws) - 1}@@"
        if isinstance(o, dict):
            return {k: hole(v) for k, v in o.items()}
        if isinstance(o, list):
            return [hole(v) for v in o]
        return o

    text = json.dumps(hole(obj))
    for i, raw in enumerate(raws):
        text = text.replace(f'"@@RAW{i}@@"', raw)
    return text.encode()


class Raw:
    """JSON text spliced in as it is: nesting too deep for json.dumps to build."""

    def __init__(self, text: str) -> None:
        self.text = text


def deep(depth: int, leaf: str) -> Raw:
    return Raw('{"$and": [' * depth + leaf + "]}" * depth)


def deep_list(depth: int) -> Raw:
    return Raw("[" * depth + "1" + "]" * depth)


def count(http: httpx.Client) -> int:
    r = http.get(f"{BASE}/search/objects", params={"limit": 10_000})
    assert r.status_code == 200, r.text
    return len(r.json()["objects"])


def ready(server: ServerProcess, http: httpx.Client) -> None:
    assert server.proc is not None and server.proc.poll() is None, "server died"
    r = http.get("/v1/health/ready")
    assert r.status_code == 200 and r.json() == {"ready": True}


def refused(r: httpx.Response, *words: str) -> None:
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("application/json"), r.text[:300]
    detail = r.json()["detail"]
    assert isinstance(detail, str) and detail
    for w in words:
        assert w.lower() in detail.lower(), (w, detail)


# (path, body, words the refusal must name)
WRITE_CASES: list[tuple[str, bytes, tuple[str, ...]]] = [
    (f"{BASE}/records/insert", body({"properties": {"s": "\ud800"}, "vector": VEC}), ("s",)),
    (
        f"{BASE}/records/insert",
        body({"properties": {"s": ["ok", {"x": "a\udfff"}]}, "vector": VEC}),
        ("s",),
    ),
    (f"{BASE}/records/insert", body({"properties": {"\ud800": 1}, "vector": VEC}), ()),
    (f"{BASE}/records/insert", b'{"properties": {"f": [1, NaN]}, "vector": [1, 0, 0, 0]}', ()),
    (f"{BASE}/records/insert", b'{"properties": {"f": {"g": Infinity}}, "vector": [1,0,0,0]}', ()),
    (f"{BASE}/records/insert", body({"properties": {"d": deep_list(10_000)}, "vector": VEC}), ()),
    (f"{BASE}/records/insert", b'{"properties": {}, "vector": [1e400, 0, 0, 0]}', ("vector",)),
    (f"{BASE}/records/insert", body({"properties": {}, "vector": [10**400, 0, 0, 0]}), ("vector",)),
    (
        f"{BASE}/records/insert",
        body({"properties": {}, "vector": ["a", "b", "c", "d"]}),
        ("vector",),
    ),
    (
        f"{BASE}/records/insert",
        body({"properties": {}, "vector": [True, False, True, False]}),
        ("vector",),
    ),
    (
        f"{BASE}/records/insert-many",
        body(
            {
                "objects": [
                    {"properties": {"ok": 1}, "vector": VEC},
                    {"properties": {"s": "\ud800"}, "vector": VEC},
                ]
            }
        ),
        (),
    ),
    (f"{BASE}/records/insert-many", body({"objects": 5}), ("objects",)),
]

INDEX_CASES: list[tuple[bytes, tuple[str, ...]]] = [
    (body({"namespace": "a/b", "index": "x", "dimensions": 4}), ("namespace",)),
    (body({"namespace": "ok", "index": "x/y", "dimensions": 4}), ("index",)),
    (body({"namespace": ".hidden", "index": "x", "dimensions": 4}), ("namespace",)),
    (body({"namespace": "ok", "index": "x" * 129, "dimensions": 4}), ("index",)),
    (body({"namespace": "ok", "index": "x", "dimensions": 10**9}), ("dimensions",)),
    (body({"namespace": "ok", "index": "x", "dimensions": True}), ("dimensions",)),
    (
        body({"namespace": "ok", "index": "x", "dimensions": 4, "schema": {"properties": 5}}),
        ("schema",),
    ),
    (body({"namespace": "ok", "index": "x", "dimensions": 4, "schema": 5}), ("schema",)),
    (
        body(
            {
                "namespace": "ok",
                "index": "x",
                "dimensions": 4,
                "schema": {
                    "type": "object",
                    "properties": {"p": {"type": "string", "pattern": "(["}},
                },
            }
        ),
        ("pattern",),
    ),
    (
        body(
            {
                "namespace": "ok",
                "index": "x",
                "dimensions": 4,
                "index_options": {"hnsw": {"m": 10**9}},
            }
        ),
        ("m",),
    ),
]


@pytest.mark.parametrize(("path", "raw", "words"), WRITE_CASES)
def test_bad_writes_are_refused_and_store_nothing(
    server: ServerProcess, http: httpx.Client, path: str, raw: bytes, words: tuple[str, ...]
) -> None:
    before = count(http)
    r = http.post(path, content=raw, headers={"content-type": "application/json"})
    if r.status_code == 200 and path.endswith("insert-many"):
        # on_error defaults to "raise" on the wire too: a bad record fails the whole call
        raise AssertionError(f"insert-many with a bad record answered 200: {r.text[:300]}")
    refused(r, *words)
    assert count(http) == before, "a refused write stored something"
    ready(server, http)


@pytest.mark.parametrize(("raw", "words"), INDEX_CASES)
def test_bad_indexes_are_refused(
    server: ServerProcess, http: httpx.Client, raw: bytes, words: tuple[str, ...]
) -> None:
    r = http.post(
        "/v1/indexes/get-or-create", content=raw, headers={"content-type": "application/json"}
    )
    refused(r, *words)
    sent = json.loads(raw)
    ns, idx = (quote(str(sent[k]), safe="") for k in ("namespace", "index"))
    assert http.get(f"/v1/indexes/{ns}/{idx}").status_code != 200, "a refused index exists"
    ready(server, http)


@pytest.mark.parametrize("k", HUGE)
def test_huge_top_k_is_bounded_or_refused(
    server: ServerProcess, http: httpx.Client, k: int
) -> None:
    r = http.post(
        f"{BASE}/search/near-vector",
        content=body({"vector": VEC, "top_k": k}),
        headers={"content-type": "application/json"},
    )
    if r.status_code == 200:
        assert len(r.json()["results"]) == ROWS  # clamped to what exists
    else:
        refused(r, "top_k")
    ready(server, http)


@pytest.mark.parametrize("k", HUGE)
def test_huge_list_limit_is_bounded_or_refused(
    server: ServerProcess, http: httpx.Client, k: int
) -> None:
    r = http.post(f"{BASE}/records/get-by-filter", json={"where": {}, "limit": k})
    if r.status_code == 200:
        assert len(r.json()["objects"]) == ROWS
    else:
        refused(r, "limit")
    r = http.get(f"{BASE}/search/objects", params={"limit": k, "offset": 0})
    if r.status_code == 200:
        assert len(r.json()["objects"]) == ROWS
    else:
        refused(r, "limit")
    r = http.get(f"{BASE}/search/objects", params={"limit": 5, "offset": k})
    if r.status_code == 200:
        assert r.json()["objects"] == []
    else:
        refused(r, "offset")
    ready(server, http)


def _inflate(cursor: str) -> list[str]:
    """Hand-made cursors: the real one with every integer inside made huge, plus junk."""
    out = ["x", "1.5", "-1", str(10**18), base64.urlsafe_b64encode(b"[]").decode()]
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(text)
    except ValueError:
        return out
    if isinstance(data, dict):
        for huge in (10**18, 2**64, -5):
            forged = {k: (huge if isinstance(v, int) else v) for k, v in data.items()}
            out.append(base64.urlsafe_b64encode(json.dumps(forged).encode()).decode().rstrip("="))
    return out


def test_forged_cursors_are_refused(server: ServerProcess, http: httpx.Client) -> None:
    page = http.post(f"{BASE}/search/near-vector", json={"vector": VEC, "top_k": 3}).json()
    cursor = page.get("next_after")
    assert cursor, "near-vector must page with next_after"
    for forged in _inflate(cursor):
        r = http.post(
            f"{BASE}/search/near-vector", json={"vector": VEC, "top_k": 3, "after": forged}
        )
        if r.status_code == 200:  # a cursor past the end is an empty page, never a crash
            assert len(r.json()["results"]) <= 3
        else:
            refused(r, "after")
    for forged in ("x", "1.5", str(10**30), "-3"):
        r = http.post(
            f"{BASE}/records/get-by-filter", json={"where": {}, "limit": 5, "after": forged}
        )
        if r.status_code == 200:
            assert len(r.json()["objects"]) <= 5
        else:
            refused(r, "after")
    ready(server, http)


READ_CASES: list[tuple[str, Any, tuple[str, ...]]] = [
    ("search/near-vector", {"vector": VEC, "top_k": True}, ("top_k",)),
    ("search/near-vector", {"vector": VEC, "top_k": 0}, ("top_k",)),
    (
        "search/near-vector",
        {"vector": VEC, "top_k": 3, "filter": deep(10_000, '{"i": 1}')},
        ("filter",),
    ),
    ("search/near-vector", {"vector": ["a", "b", "c", "d"], "top_k": 3}, ("vector",)),
    ("search/near-vector", {"vector": VEC, "top_k": 3, "after": 1.5}, ("after",)),
    ("records/get-by-filter", {"where": {}, "limit": True}, ("limit",)),
    ("records/get-by-filter", {"where": {}, "limit": "5"}, ("limit",)),
    ("records/get-by-filter", {"where": deep(10_000, '{"i": 1}'), "limit": 5}, ()),
    ("records/delete-many", {"where": {"i": 1}, "limit": -1, "background": False}, ("limit",)),
    ("search/cluster", {"auto_tune": True, "max_clusters": 10**9}, ("max_clusters",)),
    ("search/cluster", {"num_clusters": 10**9}, ("num_clusters",)),
    ("search/cluster", {"num_clusters": 2**64}, ("num_clusters",)),
    ("search/cluster", {"limit": 2**64}, ("limit",)),
]


@pytest.mark.parametrize(("route", "payload", "words"), READ_CASES)
def test_bad_reads_are_refused(
    server: ServerProcess, http: httpx.Client, route: str, payload: Any, words: tuple[str, ...]
) -> None:
    before = count(http)
    r = http.post(
        f"{BASE}/{route}", content=body(payload), headers={"content-type": "application/json"}
    )
    refused(r, *words)
    assert count(http) == before
    ready(server, http)


def test_missing_object_is_404(http: httpx.Client) -> None:
    r = http.get(f"{BASE}/search/object/00000000-0000-0000-0000-000000000000")
    assert r.status_code == 404 and r.json()["detail"]


def test_memory_stays_bounded(server: ServerProcess, http: httpx.Client) -> None:
    """Runs last in this module: after every request above the server holds well under the
    terabytes some of them once asked for."""
    assert server.proc is not None
    ready(server, http)
    assert rss_bytes(server.proc.pid) < 2 * 1024**3
