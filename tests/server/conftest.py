"""Fixtures: the app over a real embedded store in a temporary directory, through
Starlette's TestClient (the server is tested against what it serves, not a stand-in)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from eigenlake.embedded.client import EmbeddedClient
from eigenlake.server.app import create_app
from eigenlake.server.auth import KeyEntry, KeyRing, digest

IDX = "/v1/indexes/ns/idx"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EmbeddedClient]:
    client = EmbeddedClient(path=str(tmp_path / "store"))
    yield client
    client.close()


@pytest.fixture
def http(store: EmbeddedClient) -> Iterator[TestClient]:
    with TestClient(create_app(store, max_body_bytes=200_000), raise_server_exceptions=False) as c:
        c.post(
            "/v1/indexes/get-or-create", json={"namespace": "ns", "index": "idx", "dimensions": 3}
        )
        yield c


@pytest.fixture
def keyed(store: EmbeddedClient) -> Iterator[TestClient]:
    keys = KeyRing([KeyEntry(digest("admin"), None), KeyEntry(digest("a-only"), frozenset({"a"}))])
    with TestClient(create_app(store, keys=keys), raise_server_exceptions=False) as c:
        yield c
