"""Damaged storage and Rust panics on the wire: JSON 500 answers, and the remote client
raises StorageError for damage, like embedded mode."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

import eigenlake
from eigenlake.embedded import index as index_mod
from eigenlake.embedded.client import EmbeddedClient
from eigenlake.errors import APIError, StorageError
from eigenlake.remote.http import Transport
from eigenlake.server.app import create_app
from eigenlake.server.errors import PanicGuard
from eigenlake.server.process import free_port


class PanicException(BaseException):
    """Stands for ``pyo3_runtime.PanicException``: a BaseException, not an Exception."""


def _damaged_store(root: Path) -> EmbeddedClient:
    """A store whose index n/i has its database truncated to 0 bytes."""
    client = EmbeddedClient(path=root)
    idx = client.indexes.create_or_get(namespace="n", index="i", dimensions=3)
    idx.records.add(properties={"a": 1}, vector=[1.0, 0.0, 0.0])
    db = idx._db_path
    client.close()
    with open(db, "wb"):
        pass
    return EmbeddedClient(path=root)


@pytest.fixture
def damaged(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(_damaged_store(tmp_path / "DATAROOT"))
    with TestClient(app, raise_server_exceptions=False) as http:
        yield http


def test_damage_is_a_json_500_naming_the_file(damaged: TestClient) -> None:
    for resp in (
        damaged.get("/v1/indexes/n/i"),
        damaged.post(
            "/v1/indexes/get-or-create", json={"namespace": "n", "index": "i", "dimensions": 3}
        ),
        damaged.get("/v1/indexes/n/i/records/exists/some-id"),
    ):
        assert resp.status_code == 500, resp.text
        detail = resp.json()["detail"]
        assert detail.startswith("damaged index storage: n/i/index.sqlite: is empty (0 bytes)")
        assert "backup" in detail and "DATAROOT" not in detail  # the server root stays hidden
        assert resp.headers["x-eigenlake-error"] == "StorageError"


def test_a_damaged_index_can_be_deleted_over_the_wire(damaged: TestClient) -> None:
    # the damage message advises deleting the index: that must work without opening it
    resp = damaged.delete("/v1/indexes/n/i")
    assert resp.status_code == 200 and resp.json() == {"deleted": True}, resp.text
    assert damaged.get("/v1/indexes/n/i").status_code == 404
    created = damaged.post(
        "/v1/indexes/get-or-create", json={"namespace": "n", "index": "i", "dimensions": 3}
    )
    assert created.status_code == 200, created.text


def test_panic_is_the_json_error_shape(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    client = EmbeddedClient(path=tmp_path / "store")
    client.indexes.create_or_get(namespace="n", index="i", dimensions=3)

    def panic(self: object) -> None:
        raise PanicException("called `Option::unwrap()` on a `None` value")

    monkeypatch.setattr(index_mod.Index, "_sync", panic)
    with TestClient(create_app(client), raise_server_exceptions=False) as http:
        resp = http.get("/v1/indexes/n/i")
        assert resp.status_code == 500
        assert resp.headers["content-type"] == "application/json"
        assert resp.json() == {"detail": "internal server error"}
        assert http.get("/v1/health/ready").json() == {"ready": True}  # still serving
    assert "unwrap" in caplog.text  # the operator sees what panicked


@pytest.mark.parametrize("stop", [KeyboardInterrupt, SystemExit, asyncio.CancelledError])
def test_stops_and_cancels_are_not_turned_into_answers(stop: type[BaseException]) -> None:
    sent: list[dict] = []

    async def app(scope: dict, receive: object, send: object) -> None:
        raise stop()

    async def send(message: dict) -> None:
        sent.append(message)

    async def receive() -> dict:
        return {"type": "http.request", "body": b""}

    with pytest.raises(stop):
        asyncio.run(PanicGuard(app)({"type": "http"}, receive, send))  # type: ignore[arg-type]
    assert sent == []


def test_remote_client_raises_storage_error_after_its_retries() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        return httpx.Response(
            500,
            json={"detail": "damaged index storage: n/i/index.sqlite: is empty (0 bytes)"},
            headers={"x-eigenlake-error": "StorageError"},
        )

    t = Transport("http://x", retries=2, backoff=0.001, transport=httpx.MockTransport(handler))
    with pytest.raises(StorageError, match="n/i/index.sqlite: is empty") as exc:
        t.get("/v1/indexes/n/i")
    assert len(calls) == 3 and exc.value.status_code == 500
    # a 500 without the header stays an APIError
    plain = httpx.MockTransport(
        lambda r: httpx.Response(500, json={"detail": "internal server error"})
    )
    with pytest.raises(APIError) as other:
        Transport("http://x", retries=0, transport=plain).get("/a")
    assert not isinstance(other.value, StorageError)


def test_remote_client_sees_damage_over_http(tmp_path: Path) -> None:
    port = free_port()
    app = create_app(_damaged_store(tmp_path / "DATAROOT"))
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        with eigenlake.connect(url=f"http://127.0.0.1:{port}", retries=1) as client:
            with pytest.raises(StorageError, match="index.sqlite: is empty") as exc:
                client.indexes.open(namespace="n", index="i")
            assert isinstance(exc.value, OSError)
            with pytest.raises(StorageError):
                client.indexes.create_or_get(namespace="n", index="i", dimensions=3)
    finally:
        server.should_exit = True
        thread.join(10)
