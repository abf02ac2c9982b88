"""RemoteClient against a live uvicorn (a real embedded store): surface, errors, retries."""

from __future__ import annotations

import tempfile
import threading
import time
import uuid
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
import uvicorn

import eigenlake
from eigenlake.embedded.client import EmbeddedClient
from eigenlake.errors import (
    APIError,
    AuthenticationError,
    ConflictError,
    NetworkError,
    NotFoundError,
    ValidationError,
)
from eigenlake.remote.http import Transport
from eigenlake.server.app import create_app
from eigenlake.server.auth import KeyEntry, KeyRing, digest
from eigenlake.server.process import free_port

STORE = EmbeddedClient(path=tempfile.mkdtemp(prefix="eigenlake-remote-"))


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    keys = KeyRing([KeyEntry(digest("k"), None), KeyEntry(digest("scoped"), frozenset({"other"}))])
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(STORE, keys=keys), port=port, log_level="warning")
    )
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    while not server.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    t.join(10)


def test_surface(url: str) -> None:
    with eigenlake.connect(url=url, api_key="k") as client:
        assert client.ready()
        idx = client.indexes.create_or_get(namespace="ns", index="rc", dimensions=3)
        uid = idx.records.add(properties={"a": 1}, vector=np.array([1, 0, 0], dtype=np.float64))
        assert idx.records.exists(uid) and idx.records.get(uid)["metadata"] == {"a": 1}
        ids = [str(uuid.uuid4()) for _ in range(5)]
        bad = str(uuid.uuid4())  # its vector has 2 dimensions: the server refuses it
        res = idx.records.add_many(
            [{"properties": {"i": i}, "vector": [i, 1, 0], "id": ids[i]} for i in range(5)]
            + [{"properties": {"bad": 1}, "vector": [0, 1], "id": bad}],
            on_error="continue",
            batch_size=2,
        )
        assert list(res) == ids and res.number_errors == 1
        assert res.failed_records[0].id == bad
        idx.records.update(ids[1], properties={"b": 2})
        assert idx.records.get(ids[1])["metadata"] == {"i": 1, "b": 2}
        idx.records.replace(id=ids[2], properties={"c": 3}, vector=[2, 2, 0])
        assert idx.search.get(ids[2])["metadata"] == {"c": 3}
        hits = idx.search.nearest(vector=np.array([4, 1, 0], dtype=np.float32), limit=2)
        assert [h["uuid"] for h in hits["results"]] == [ids[4], ids[3]]
        assert len(list(idx.search.iterate(page_size=2))) == 6
        with idx.batch.with_size(batch_size=2) as batch:
            for i in range(3):
                batch.add(properties={"j": i}, vector=[0, i, 1])
            batch.add(properties={"bad": 1}, vector=[0, 1])
        assert batch.number_errors == 1
        assert len(list(idx.search.iterate(page_size=2))) == 9
        assert idx.records.remove_many(filter={"i": {"$gte": 3}}) == {"deleted": 2}
        job = idx.records.remove_many(filter={"i": 0}, background=True)
        assert job["status"] == "completed" and job["deleted"] == 1
        assert idx.settings.dimensions() == 3
        agent = idx.agent.query("show records", filter={"i": 1})
        assert agent["action"] == "filter" and agent["filter"] == {"i": 1}
        assert [o["uuid"] for o in agent["objects"]] == [ids[1]]
        idx.records.remove(ids[1])
        with pytest.raises(NotFoundError):
            idx.records.remove(ids[1])
        with pytest.raises(ConflictError):
            idx.records.add(properties={}, vector=[1, 1, 1], id=ids[2])
        with pytest.raises(ValidationError):
            idx.records.add(properties={}, vector=[1, 1])
        with pytest.raises(ConflictError):
            client.indexes.create_or_get(namespace="ns", index="rc", dimensions=4)
        assert idx.manage.delete() == {"deleted": True}
        with pytest.raises(NotFoundError):
            client.indexes.open(namespace="ns", index="rc")


def test_auth_errors(url: str) -> None:
    with pytest.raises(AuthenticationError):
        eigenlake.connect(url=url).indexes.open(namespace="ns", index="x")
    with pytest.raises(AuthenticationError) as exc:
        eigenlake.connect(url=url, api_key="scoped").indexes.open(namespace="ns", index="x")
    assert exc.value.status_code == 403


def _flaky(fails: int, status: int = 503) -> tuple[httpx.MockTransport, list[str]]:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if len(calls) <= fails:
            return httpx.Response(status, json={"detail": "busy"})
        return httpx.Response(200, json={"ok": True})

    return httpx.MockTransport(handler), calls


def test_retries_idempotent_only() -> None:
    mock, calls = _flaky(2)
    t = Transport("http://x", retries=2, backoff=0.001, transport=mock)
    assert t.get("/a") == {"ok": True} and len(calls) == 3
    mock, calls = _flaky(1)
    t = Transport("http://x", retries=2, backoff=0.001, transport=mock)
    with pytest.raises(APIError) as exc:
        t.post("/insert", json={})
    assert len(calls) == 1 and exc.value.status_code == 503
    mock, calls = _flaky(5)
    t = Transport("http://x", retries=2, backoff=0.001, transport=mock)
    with pytest.raises(APIError):
        t.post("/search", json={}, idempotent=True)
    assert len(calls) == 3
    mock, calls = _flaky(5, status=409)
    t = Transport("http://x", retries=2, backoff=0.001, transport=mock)
    with pytest.raises(ConflictError):
        t.get("/a")
    assert len(calls) == 1  # 4xx is final


def test_connection_refused_is_network_error() -> None:
    client = eigenlake.connect(url=f"http://127.0.0.1:{free_port()}", retries=1, timeout=1.0)
    assert client.ready() is False
    with pytest.raises(NetworkError):
        client.indexes.open(namespace="a", index="b")


def test_timeout_is_network_error() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    t = Transport("http://x", retries=1, backoff=0.001, transport=httpx.MockTransport(slow))
    with pytest.raises(NetworkError, match="timed out"):
        t.get("/a")


def test_numpy_and_uuid_arguments_are_encoded() -> None:
    import uuid as uuidlib

    seen: list[bytes] = []

    def echo(request: httpx.Request) -> httpx.Response:
        seen.append(request.content)
        return httpx.Response(200, json={})

    t = Transport("http://x", transport=httpx.MockTransport(echo))
    uid = uuidlib.UUID(int=1)
    t.post("/c", json={"k": np.int64(3), "v": np.arange(2, dtype=np.float32), "id": uid})
    assert seen[0] == b'{"k":3,"v":[0.0,1.0],"id":"00000000-0000-0000-0000-000000000001"}'


def test_store_fault_is_answered_in_the_route(url: str, caplog: pytest.LogCaptureFixture) -> None:
    """A 500 that reached uvicorn would drop the keep-alive connection of a busy client."""
    with eigenlake.connect(url=url, api_key="k", retries=0) as client:
        idx = client.indexes.create_or_get(namespace="ns", index="fault", dimensions=3)

        def boom(**_: object) -> None:
            raise RuntimeError("Already mutably borrowed")

        # the server caches opened indexes: its routes get this very object
        search = STORE.indexes.open(namespace="ns", index="fault").search
        search.nearest = boom  # type: ignore[method-assign]
        with pytest.raises(APIError) as exc:
            idx.search.nearest(vector=[1, 0, 0])
        assert exc.value.status_code == 500 and "internal" in str(exc.value)
        assert client.ready()
    assert not [r for r in caplog.records if "Exception in ASGI application" in r.getMessage()]


def test_retried_delete_that_finds_nothing_succeeded_before() -> None:
    # first attempt: the server deleted the record but its answer was lost (503 here);
    # the retry then finds nothing, which means the delete happened
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if len(calls) == 1:
            return httpx.Response(503, json={"detail": "lost"})
        return httpx.Response(404, json={"detail": "record does not exist"})

    t = Transport("http://x", retries=2, backoff=0.001, transport=httpx.MockTransport(handler))
    assert t.delete("/r/1", gone={"deleted": 1}) == {"deleted": 1} and len(calls) == 2
    # without a failed attempt before it, a 404 is still an error
    t2 = Transport(
        "http://x",
        retries=2,
        backoff=0.001,
        transport=httpx.MockTransport(lambda r: httpx.Response(404, json={"detail": "no"})),
    )
    with pytest.raises(NotFoundError):
        t2.delete("/r/1", gone={"deleted": 1})


def test_search_get_of_a_missing_record_raises_not_found(url: str) -> None:
    """The wire answers 404 (API.md, "Additions"); records.get keeps answering None."""
    with eigenlake.connect(url=url, api_key="k") as client:
        idx = client.indexes.create_or_get(namespace="ns", index="missing", dimensions=3)
        missing = str(uuid.uuid4())
        with pytest.raises(NotFoundError):
            idx.search.get(missing)
        assert idx.records.get(missing) is None


def _recording() -> tuple[Transport, list[httpx.Request]]:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"action": "none", "filter": None, "query": "q"})

    return Transport("http://x", transport=httpx.MockTransport(handler)), sent


def test_bad_read_arguments_are_refused_before_sending() -> None:
    """Refused here with the Python argument's name (``top_k`` on the wire); a filter too
    deep to encode is a ValidationError, not a RecursionError from json.dumps."""
    from eigenlake.remote.index import RemoteIndex

    t, sent = _recording()
    idx = RemoteIndex(t, "ns", "i")
    deep: dict = {"a": 1}
    for _ in range(10_000):
        deep = {"$not": deep}
    cases = [
        ("limit", lambda: idx.search.nearest(vector=[1, 0, 0], limit=True)),
        ("limit", lambda: idx.search.nearest(vector=[1, 0, 0], limit=2**64)),
        ("after", lambda: idx.search.nearest(vector=[1, 0, 0], after=1.5)),
        ("filter", lambda: idx.search.nearest(vector=[1, 0, 0], filter=deep)),
        ("limit", lambda: idx.records.list(limit="5")),
        ("after", lambda: idx.records.list(after=7)),
        ("filter", lambda: idx.records.list(filter=deep)),
        ("offset", lambda: idx.search.list(offset=-1)),
        ("page_size", lambda: idx.search.iterate(page_size=0)),
        ("limit", lambda: idx.records.remove_many(filter={"a": 1}, limit=-1)),
        ("on_missing", lambda: idx.records.remove_many(filter={"a": 1}, on_missing="x")),
        ("limit", lambda: idx.manage.remove_by_filter(filter={"a": 1}, limit=True)),
        ("filter", lambda: idx.search.cluster(filter=deep)),
        ("filter", lambda: idx.agent.query("q", filter=deep)),
    ]
    for name, call in cases:
        with pytest.raises(ValidationError, match=name):
            call()
    assert sent == []


def test_agent_filter_null_from_a_server_becomes_a_dict() -> None:
    from eigenlake.remote.index import RemoteIndex

    t, sent = _recording()
    assert RemoteIndex(t, "ns", "i").agent.query("q")["filter"] == {}
    assert len(sent) == 1


def test_bad_write_input_is_refused_before_sending() -> None:
    """What the client would convert (booleans read as 1/0, ``properties=0`` sent as {},
    ``int(True)``) or fail to encode (a 10,000-deep value) is refused here, as in
    embedded mode, with a ValidationError naming the argument or property."""
    from eigenlake.remote.client import RemoteIndexes
    from eigenlake.remote.index import RemoteIndex

    t, sent = _recording()
    idx = RemoteIndex(t, "ns", "i")
    deep: object = 1
    for i in range(10_000):
        deep = [deep] if i % 2 else {"k": deep}
    ok = "00000000-0000-4000-8000-000000000001"
    cases = [
        ("vector", lambda: idx.records.add(properties={}, vector=[True, False, 0.0])),
        ("vector", lambda: idx.records.add(properties={}, vector=np.array(["1", "0", "0"]))),
        ("vector", lambda: idx.records.add(properties={}, vector=[10**400, 0, 0])),
        ("vector", lambda: idx.records.update(ok, vector=np.ones(3, dtype=bool))),
        ("vector", lambda: idx.search.nearest(vector=[1, True, 0])),
        ("vector", lambda: idx.records.add_vectors(np.ones((2, 3), dtype=bool))),
        ("vectors", lambda: idx.records.add_vectors(None)),
        ("vectors", lambda: idx.records.add_vectors(5)),
        ("vectors", lambda: idx.records.add_vectors(np.ones(3))),
        ("records", lambda: idx.records.add_many(None)),
        ("records", lambda: idx.records.add_many("abc")),
        ("records", lambda: idx.records.add_many({"properties": {}, "vector": [1, 0, 0]})),
        ("records", lambda: idx.records.add_many([5])),
        ("batch_size", lambda: idx.records.add_many([], batch_size="5")),
        ("on_error", lambda: idx.records.add_many([], on_error="ignore")),
        ("properties", lambda: idx.records.replace(id=ok, properties=0)),
        ("properties", lambda: idx.records.add(properties=[], vector=[1, 0, 0])),
        ("'d'", lambda: idx.records.add(properties={"d": deep}, vector=[1, 0, 0])),
        ("'d'", lambda: idx.records.update(ok, properties={"d": deep})),
        ("'s'", lambda: idx.records.add(properties={"s": {1, 2}}, vector=[1, 0, 0])),
        ("'o'", lambda: idx.records.add(properties={"o": {1: "x"}}, vector=[1, 0, 0])),
        ("names", lambda: idx.records.add(properties={1: "x"}, vector=[1, 0, 0])),
        ("id", lambda: idx.records.remove("a\ud800")),
        ("id", lambda: idx.records.exists(5)),
        ("id", lambda: idx.search.get("a\ud800")),
        ("namespace", lambda: RemoteIndexes(t).open(namespace="a\ud800", index="i")),
        ("namespace", lambda: RemoteIndexes(t).delete(namespace=5, index="i")),
        ("index", lambda: RemoteIndexes(t).ref(namespace="ns", index="")),
        ("batch_size", lambda: idx.batch.with_size(batch_size=0)),
        ("batch_size", lambda: idx.batch.with_size(batch_size="10")),
        ("max_workers", lambda: idx.batch.with_size(max_workers=True)),
        ("on_error", lambda: idx.batch.with_size(on_error="ignore")),
    ]
    indexes = RemoteIndexes(t)
    for dims in (True, "3", 3.0, 0, np.int64(3)):
        cases.append(
            (
                "dimensions",
                lambda d=dims: indexes.create_or_get(namespace="a", index="b", dimensions=d),
            )
        )
    for shards in (True, 0, "2"):
        cases.append(
            (
                "shard_count",
                lambda s=shards: indexes.create_or_get(
                    namespace="a", index="b", dimensions=3, shard_count=s
                ),
            )
        )
    cases.append(
        (
            "schema",
            lambda: indexes.create_or_get(namespace="a", index="b", dimensions=3, schema=deep),
        )
    )
    for name, call in cases:
        with pytest.raises(ValidationError, match=name):
            call()
    assert sent == []


def test_a_body_json_cannot_carry_is_a_validation_error() -> None:
    t, sent = _recording()
    deep: object = 1
    for _ in range(10_000):
        deep = [deep]
    loop: list[object] = []
    loop.append(loop)
    for body, words in (
        (deep, "nests too deeply"),
        ({"x": object()}, "not valid JSON"),
        (loop, "JSON"),
    ):
        with pytest.raises(ValidationError, match=words):
            t.post("/x", json=body)
    assert sent == []


def test_add_many_continue_keeps_positions_of_records_refused_before_sending() -> None:
    """Refused here or by the server, each failed record is reported at its position in
    the caller's list, and the server's "record n" is renumbered to it."""
    from eigenlake.remote.index import RemoteIndex

    bodies: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        import json

        body = json.loads(request.content)
        bodies.append(body)
        failed = [{"uuid": None, "error": "record 1: property 'n': not finite", "position": 1}]
        return httpx.Response(200, json={"uuids": ["u0", "u2"], "failed_objects": failed})

    idx = RemoteIndex(Transport("http://x", transport=httpx.MockTransport(handler)), "ns", "i")
    good = {"properties": {}, "vector": [1, 0, 0]}
    result = idx.records.add_many(
        [good, "x", {"properties": {"n": 1}, "vector": [1, 0, 0]}, {"vector": [True, 0, 0]}, good],
        on_error="continue",
    )
    assert len(bodies) == 1 and len(bodies[0]["objects"]) == 3
    assert list(result) == ["u0", "u2"]
    got = [(f.position, f.error.split(":")[0]) for f in result.failed_records]
    assert got == [(1, "record 1"), (2, "record 2"), (3, "record 3")]
    with pytest.raises(ValidationError, match="record 1"):
        idx.records.add_many([good, "x"])
    assert len(bodies) == 1
