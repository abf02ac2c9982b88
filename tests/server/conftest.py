"""Fixtures: the app over an in-memory store, through Starlette's TestClient."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from eigenlake.server.app import create_app
from eigenlake.server.auth import KeyEntry, KeyRing, digest

from .fake_store import FakeStore

IDX = "/v1/indexes/ns/idx"


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def http(store: FakeStore) -> Iterator[TestClient]:
    with TestClient(create_app(store, max_body_bytes=200_000), raise_server_exceptions=False) as c:
        c.post(
            "/v1/indexes/get-or-create", json={"namespace": "ns", "index": "idx", "dimensions": 3}
        )
        yield c


@pytest.fixture
def keyed(store: FakeStore) -> Iterator[TestClient]:
    keys = KeyRing([KeyEntry(digest("admin"), None), KeyEntry(digest("a-only"), frozenset({"a"}))])
    with TestClient(create_app(store, keys=keys), raise_server_exceptions=False) as c:
        yield c
