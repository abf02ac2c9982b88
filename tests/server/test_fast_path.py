"""The near-vector fast path (server/fastpath.py) answers exactly as the FastAPI route.

Every request goes to two apps over the same store, one with the fast path and one
without (``create_app(fast_path=False)``, the oracle), and the answers are compared byte
for byte: status, headers and body. Good and bad bodies, keys, quotas, store faults, and
a hypothesis run of mixed bodies. A counter on the FastAPI route shows which path took a
request, so the comparisons cannot pass because the fast path never ran.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eigenlake.embedded.client import EmbeddedClient
from eigenlake.errors import NotFoundError, StorageError, ValidationError
from eigenlake.server import routes_search
from eigenlake.server.app import create_app
from eigenlake.server.auth import KeyEntry, KeyRing, digest
from eigenlake.server.state import ServerState

NEAR = "/v1/indexes/ns/idx/search/near-vector"
JSON = {"content-type": "application/json"}


class Pair:
    """The same store served with and without the fast path."""

    def __init__(self, fast: TestClient, slow: TestClient) -> None:
        self.fast, self.slow = fast, slow

    def both(
        self, body: bytes | None, headers: dict[str, str] | None = None, path: str = NEAR
    ) -> tuple[Any, Any]:
        hdrs = JSON if headers is None else headers
        a = self.fast.post(path, content=body, headers=hdrs)
        b = self.slow.post(path, content=body, headers=hdrs)
        return a, b

    def same(
        self, body: bytes | None, headers: dict[str, str] | None = None, path: str = NEAR
    ) -> Any:
        a, b = self.both(body, headers, path)
        assert (a.status_code, _timeless(a.content)) == (b.status_code, _timeless(b.content))
        assert _headers(a) == _headers(b)
        return a


def _timeless(body: bytes) -> bytes:
    """The body without the one figure that differs between two runs of a search."""
    return re.sub(rb'"compute_ms":[-+.eE0-9]+', b'"compute_ms":0', body)


def _headers(r: Any) -> list[tuple[str, str]]:
    """Headers in order, the length checked against the body (it follows compute_ms)."""
    items = r.headers.multi_items()
    for name, value in items:
        if name == "content-length":
            assert int(value) == len(r.content)
    return [(n, "*" if n == "content-length" else v) for n, v in items]


@pytest.fixture
def routed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many near-vector answers the FastAPI route encoded."""
    calls: list[int] = []
    real = routes_search.json_response

    def counted(content: Any) -> Any:
        calls.append(1)
        return real(content)

    monkeypatch.setattr(routes_search, "json_response", counted)
    return calls


def _pair(store: EmbeddedClient, keys: KeyRing | None = None) -> Iterator[Pair]:
    with ExitStack() as stack:
        clients = [
            stack.enter_context(
                TestClient(
                    create_app(store, keys=keys, fast_path=fast, max_body_bytes=200_000),
                    raise_server_exceptions=False,
                )
            )
            for fast in (True, False)
        ]
        yield Pair(*clients)


@pytest.fixture
def filled(store: EmbeddedClient) -> EmbeddedClient:
    idx = store.indexes.create_or_get(namespace="ns", index="idx", dimensions=3)
    idx.records.add_many(
        [
            {"properties": {"g": i % 3, "name": f"r{i}"}, "vector": [1.0, i / 10, -i / 20]}
            for i in range(12)
        ],
    )
    return store


@pytest.fixture
def pair(filled: EmbeddedClient) -> Iterator[Pair]:
    yield from _pair(filled)


def _b(doc: Any) -> bytes:
    return json.dumps(doc).encode()


GOOD = [
    {"vector": [1.0, 0.5, 0.2]},
    {"vector": [1, 0, 0], "top_k": 3, "filter": None},
    {"vector": [0.1, 0.2, 0.3], "top_k": 5, "filter": {}},
    {"vector": [0.1, 0.2, 0.3], "top_k": 2, "filter": {"g": 1}, "include_vector": True},
    {"vector": [0.3, -0.2, 0.1], "top_k": 4, "filter": {"g": {"$in": [0, 2]}}},
]


@pytest.mark.parametrize("doc", GOOD)
def test_good_searches_answer_alike_on_the_fast_path(
    pair: Pair, routed: list[int], doc: dict[str, Any]
) -> None:
    r = pair.same(_b(doc))
    assert r.status_code == 200 and r.json()["results"]
    assert len(routed) == 1  # the oracle's answer only: the fast path answered its own


def test_cursor_pages_alike(pair: Pair, routed: list[int]) -> None:
    first = pair.same(_b({"vector": [1, 0, 0], "top_k": 4})).json()
    assert first.get("next_after")
    pair.same(_b({"vector": [1, 0, 0], "top_k": 4, "after": first["next_after"]}))
    assert len(routed) == 2


# Bodies the store refuses after they validate: the fast path answers them through the
# app's handlers, never passing them on.
STORE_REFUSES = [
    ({"vector": [1.0, 2.0]}, 422),  # wrong dimension
    ({"vector": [1.0, 2.0, 3.0], "filter": {"g": {"$bogus": 1}}}, 422),
    ({"vector": [1.0, 2.0, 3.0], "filter": []}, 422),
    ({"vector": [1.0, 2.0, 3.0], "after": "not-a-cursor"}, 422),
    ({"text": "hello"}, 422),  # no embedder on this index
    ({}, 422),  # neither vector nor text
]


@pytest.mark.parametrize(("doc", "status"), STORE_REFUSES)
def test_store_refusals_answer_alike(
    pair: Pair, routed: list[int], doc: dict[str, Any], status: int
) -> None:
    r = pair.same(_b(doc))
    assert r.status_code == status, r.text
    assert len(routed) == 0  # neither app reached a response (both raised)


def test_missing_index_is_404_alike(pair: Pair) -> None:
    r = pair.same(_b({"vector": [1, 0, 0]}), path="/v1/indexes/ns/nope/search/near-vector")
    assert r.status_code == 404


# Requests the fast path passes on to FastAPI, which words the error.
PASSED_ON: list[tuple[bytes | None, dict[str, str], int]] = [
    (b"", JSON, 422),
    (b"{not json", JSON, 400),
    (b"[" * 5000 + b"]" * 5000, JSON, 400),  # nests too deeply
    (_b({"vector": [1, 0, 0]}), {"content-type": "text/plain"}, 422),
    (_b({"vector": [1, 0, 0]}), {}, 422),  # no content type: FastAPI refuses
    (_b({"vector": [1, 0, 0]}), {"content-type": "application/jsonx"}, 422),
    (_b({"vector": [1, 0, 0]}), {"content-type": "application/vnd.x+json"}, 200),
    (_b({"vector": ["1", 0, 0]}), JSON, 422),  # strict numbers
    (_b({"vector": [True, 0, 0]}), JSON, 422),
    (_b({"vector": [1, 0, 0], "top_k": 0}), JSON, 422),
    (_b({"vector": [1, 0, 0], "top_k": 10**9}), JSON, 422),
    (_b({"vector": [1, 0, 0], "top_k": "5"}), JSON, 422),
    (_b({"vector": [1, 0, 0], "include_vector": "yes"}), JSON, 422),
    (_b({"vector": [1, 0, 0], "k": 3}), JSON, 422),  # unknown field
    (_b([1, 0, 0]), JSON, 422),
    (_b("vector"), JSON, 422),
    (b"null", JSON, 422),
]


@pytest.mark.parametrize(("body", "headers", "status"), PASSED_ON)
def test_bad_requests_answer_alike(
    pair: Pair, body: bytes | None, headers: dict[str, str], status: int
) -> None:
    assert pair.same(body, headers).status_code == status


def test_json_charset_and_nan_take_the_fast_path(pair: Pair, routed: list[int]) -> None:
    body = _b({"vector": [1, 0, 0]})
    pair.same(body, {"content-type": "application/json; charset=utf-8"})
    assert len(routed) == 1
    # NaN parses (as json.loads would) and the store refuses it, on both paths
    r = pair.same(b'{"vector": [NaN, 0, 0]}')
    assert r.status_code == 422 and len(routed) == 1


@pytest.mark.parametrize(
    "path",
    [
        "/v1/indexes/ns/idx/search/near-vector/",
        "/v1/indexes/ns/idx/search/near-vectors",
        "/v1/indexes/ns//search/near-vector",
        "/v1/indexes/ns/idx/x/search/near-vector",
    ],
)
def test_other_paths_are_not_taken(pair: Pair, path: str) -> None:
    pair.same(_b({"vector": [1, 0, 0]}), path=path)


def test_other_methods_are_not_taken(pair: Pair) -> None:
    for method in ("GET", "PUT", "DELETE"):
        a = pair.fast.request(method, NEAR, content=_b({"vector": [1, 0, 0]}), headers=JSON)
        b = pair.slow.request(method, NEAR, content=_b({"vector": [1, 0, 0]}), headers=JSON)
        assert (a.status_code, a.content) == (b.status_code, b.content) and a.status_code == 405


def test_oversize_body_is_413_before_the_fast_path(pair: Pair) -> None:
    body = _b({"vector": [0.123456789] * 30_000})
    r = pair.same(body)
    assert r.status_code == 413


# ---- keys and quotas ------------------------------------------------------------------------


@pytest.fixture
def keyed_pair(filled: EmbeddedClient) -> Iterator[Pair]:
    keys = KeyRing(
        [
            KeyEntry(digest("admin"), None),
            KeyEntry(digest("other-ns"), frozenset({"elsewhere"}), admin=False),
            KeyEntry(digest("tiny"), None, daily_search_units=0.0015, admin=False),
        ]
    )
    yield from _pair(filled, keys)


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        (JSON, 401),  # no key
        ({**JSON, "X-API-Key": ""}, 401),
        ({**JSON, "X-API-Key": "wrong"}, 401),
        ({**JSON, "X-API-Key": "other-ns"}, 403),
        ({**JSON, "X-API-Key": "admin"}, 200),
        ({**JSON, "x-api-key": "admin"}, 200),
    ],
)
def test_keys_answer_alike(keyed_pair: Pair, headers: dict[str, str], status: int) -> None:
    assert keyed_pair.same(_b({"vector": [1, 0, 0]}), headers).status_code == status


def test_a_bad_key_wins_over_a_bad_body_on_both(keyed_pair: Pair) -> None:
    r = keyed_pair.same(_b({"vector": ["x"]}), {**JSON, "X-API-Key": "wrong"})
    assert r.status_code == 401


def test_two_key_headers_answer_alike(keyed_pair: Pair) -> None:
    headers = [("content-type", "application/json"), ("x-api-key", "admin")]
    for second in ("admin", "wrong"):
        hdrs = [*headers, ("x-api-key", second)]
        a = keyed_pair.fast.post(NEAR, content=_b({"vector": [1, 0, 0]}), headers=hdrs)
        b = keyed_pair.slow.post(NEAR, content=_b({"vector": [1, 0, 0]}), headers=hdrs)
        assert (a.status_code, _timeless(a.content)) == (b.status_code, _timeless(b.content))


def test_quota_and_usage_alike(keyed_pair: Pair, routed: list[int]) -> None:
    tiny = {**JSON, "X-API-Key": "tiny"}
    body = _b({"vector": [1, 0, 0], "top_k": 2})
    # 12 records x 3 dims: 0.001 units a search (the minimum), so the second still runs
    # (0.001 < 0.0015) and the third is refused
    statuses = [keyed_pair.same(body, tiny).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert len(routed) == 2  # the oracle's two answers
    usage = [
        c.get("/v1/usage", headers={"X-API-Key": "admin"}).json()
        for c in (keyed_pair.fast, keyed_pair.slow)
    ]
    for u in usage:
        assert u["totals"][0].pop("compute_ms") >= 0  # timings differ
    assert usage[0] == usage[1]
    assert usage[0]["totals"][0]["calls"] == 2
    assert usage[0]["today"] == {usage[0]["totals"][0]["key"]: 0.002}


# ---- faults of the store --------------------------------------------------------------------


def _raising(exc: BaseException) -> Callable[..., Any]:
    class Search:
        def nearest(self, **_: Any) -> Any:
            raise exc

    class Index:
        search = Search()

    return lambda self, namespace, name: Index()


@pytest.mark.parametrize(
    "exc",
    [
        StorageError("index.sqlite is damaged", filename="/x/y/ns/idx/index.sqlite"),
        NotFoundError("gone"),
        ValidationError("bad field"),
        ValueError("shape mismatch"),
        KeyError("k"),
        TypeError("t"),
        NotImplementedError("no such analysis"),
        ImportError("module missing"),
        RuntimeError("boom"),
        OSError("disk"),
    ],
)
def test_store_faults_answer_alike(
    pair: Pair, monkeypatch: pytest.MonkeyPatch, exc: Exception
) -> None:
    monkeypatch.setattr(ServerState, "index", _raising(exc))
    r = pair.same(_b({"vector": [1, 0, 0]}))
    assert r.status_code >= 400 and "detail" in r.json()
    if isinstance(exc, StorageError):
        assert r.headers["x-eigenlake-error"] == "StorageError"


def test_a_panic_is_the_json_500_on_both(pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    class Panic(BaseException):  # as pyo3_runtime.PanicException: not an Exception
        pass

    monkeypatch.setattr(ServerState, "index", _raising(Panic("rust panicked")))
    r = pair.same(_b({"vector": [1, 0, 0]}))
    assert r.status_code == 500 and r.json() == {"detail": "internal server error"}


# ---- mixed bodies ---------------------------------------------------------------------------

_numbers = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.integers(-5, 5),
    st.booleans(),
    st.text(max_size=2),
    st.none(),
)
_fields = st.fixed_dictionaries(
    {},
    optional={
        "vector": st.one_of(st.lists(_numbers, min_size=0, max_size=4), _numbers),
        "top_k": st.one_of(st.integers(-2, 20), st.floats(0, 5), st.text(max_size=2)),
        "filter": st.one_of(
            st.none(), st.just({}), st.fixed_dictionaries({"g": st.integers(0, 3)}), st.just([])
        ),
        "include_vector": st.one_of(st.booleans(), st.integers(0, 1)),
        "after": st.one_of(st.none(), st.text(max_size=3)),
        "text": st.one_of(st.none(), st.text(max_size=3)),
        "extra": st.integers(),
    },
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(doc=_fields)
def test_mixed_bodies_answer_alike(pair: Pair, doc: dict[str, Any]) -> None:
    pair.same(_b(doc))


# ---- get object -----------------------------------------------------------------------------


@pytest.fixture
def objects_routed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many get-object answers the FastAPI route gave."""
    calls: list[int] = []
    real = routes_search.stored_object

    def counted(*args: Any) -> Any:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(routes_search, "stored_object", counted)
    return calls


def _get_same(pair: Pair, path: str, headers: dict[str, str] | None = None) -> Any:
    a = pair.fast.get(path, headers=headers)
    b = pair.slow.get(path, headers=headers)
    assert (a.status_code, a.content) == (b.status_code, b.content)
    assert a.headers.multi_items() == b.headers.multi_items()
    return a


def _some_id(store: EmbeddedClient) -> str:
    idx = store.indexes.open(namespace="ns", index="idx")
    return str(idx.records.list(limit=1)["objects"][0]["uuid"])


@pytest.mark.parametrize("query", ["", "?include_vector=true", "?include_vector=false"])
def test_get_object_alike_on_the_fast_path(
    pair: Pair, filled: EmbeddedClient, objects_routed: list[int], query: str
) -> None:
    rid = _some_id(filled)
    r = _get_same(pair, f"/v1/indexes/ns/idx/search/object/{rid}{query}")
    assert r.status_code == 200 and r.json()["uuid"] == rid
    assert ("vector" in r.json()) == (query == "?include_vector=true")
    assert len(objects_routed) == 1  # the oracle's; the fast path answered its own


def test_get_object_encodes_what_fastapi_encodes(
    pair: Pair, store: EmbeddedClient, objects_routed: list[int]
) -> None:
    idx = store.indexes.create_or_get(namespace="ns", index="odd", dimensions=4)
    props = {"name": "é ü 🙂", "big": 10**17, "f": 1e16, "s": 1e-7, "n": None, "l": [1, 2.5]}
    rid = str(
        list(idx.records.add_many([{"properties": props, "vector": [0.1, 1e-8, 3e38, -0.0]}]))[0]
    )
    for query in ("", "?include_vector=true"):
        _get_same(pair, f"/v1/indexes/ns/odd/search/object/{rid}{query}")
    assert len(objects_routed) == 2


@pytest.mark.parametrize(
    "path",
    [
        "/v1/indexes/ns/idx/search/object/00000000-0000-0000-0000-000000000000",  # 404
        "/v1/indexes/ns/idx/search/object/not-a-uuid",
        "/v1/indexes/ns/nope/search/object/x",
        "/v1/indexes/ns/idx/search/object/{rid}?include_vector=yes",
        "/v1/indexes/ns/idx/search/object/{rid}?include_vector=1",
        "/v1/indexes/ns/idx/search/object/{rid}?include_vector=perhaps",
        "/v1/indexes/ns/idx/search/object/{rid}?include_vector=true&x=1",
        "/v1/indexes/ns/idx/search/object/{rid}?include_vector=true&include_vector=false",
        "/v1/indexes/ns/idx/search/object/{rid}/",
        "/v1/indexes/ns/idx/search/object/",
    ],
)
def test_get_object_other_requests_alike(pair: Pair, filled: EmbeddedClient, path: str) -> None:
    _get_same(pair, path.replace("{rid}", _some_id(filled)))


@pytest.mark.parametrize(
    ("key", "status"), [(None, 401), ("", 401), ("wrong", 401), ("other-ns", 403), ("admin", 200)]
)
def test_get_object_keys_alike(
    keyed_pair: Pair, filled: EmbeddedClient, key: str | None, status: int
) -> None:
    headers = None if key is None else {"X-API-Key": key}
    path = f"/v1/indexes/ns/idx/search/object/{_some_id(filled)}"
    assert _get_same(keyed_pair, path, headers).status_code == status


@pytest.mark.parametrize(
    "exc",
    [
        StorageError("index.sqlite is damaged", filename="/x/y/ns/idx/index.sqlite"),
        ValueError("bad"),
        RuntimeError("boom"),
    ],
)
def test_get_object_faults_alike(
    pair: Pair, monkeypatch: pytest.MonkeyPatch, exc: Exception
) -> None:
    class Search:
        def get(self, *_: Any, **__: Any) -> Any:
            raise exc

    class Index:
        search = Search()

    monkeypatch.setattr(ServerState, "index", lambda self, namespace, name: Index())
    r = _get_same(pair, "/v1/indexes/ns/idx/search/object/x")
    assert r.status_code >= 422
