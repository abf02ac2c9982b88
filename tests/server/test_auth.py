"""API keys: 401 without/with a wrong key, 403 outside a key's namespaces."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from eigenlake.cli import main
from eigenlake.server.auth import KeyRing, parse_keys

CREATE = {"namespace": "a", "index": "i", "dimensions": 2}


def test_missing_and_wrong_key(keyed: TestClient) -> None:
    r = keyed.post("/v1/indexes/get-or-create", json=CREATE)
    assert r.status_code == 401 and "missing" in r.json()["detail"]
    r = keyed.post("/v1/indexes/get-or-create", json=CREATE, headers={"X-API-Key": "nope"})
    assert r.status_code == 401
    assert keyed.get("/v1/indexes/a/i", headers={"X-API-Key": "nope"}).status_code == 401
    assert keyed.get("/v1/health/ready").status_code == 200


def test_scoped_key(keyed: TestClient) -> None:
    a = {"X-API-Key": "a-only"}
    assert keyed.post("/v1/indexes/get-or-create", json=CREATE, headers=a).status_code == 200
    assert keyed.get("/v1/indexes/a/i", headers=a).status_code == 200
    r = keyed.post("/v1/indexes/get-or-create", json={**CREATE, "namespace": "b"}, headers=a)
    assert r.status_code == 403
    assert keyed.get("/v1/indexes/b/i", headers=a).status_code == 403
    admin = {"X-API-Key": "admin"}
    assert (
        keyed.post(
            "/v1/indexes/get-or-create", json={**CREATE, "namespace": "c"}, headers=admin
        ).status_code
        == 200
    )
    assert keyed.get("/v1/indexes", headers=a).json() == {
        "indexes": [{"namespace": "a", "index": "i"}]
    }
    assert len(keyed.get("/v1/indexes", headers=admin).json()["indexes"]) == 2
    assert (
        keyed.post(
            "/v1/indexes/get-or-create", json={**CREATE, "namespace": "b"}, headers=admin
        ).status_code
        == 200
    )


def test_keys_file(tmp_path: Path) -> None:
    f = tmp_path / "keys.json"
    sha = hashlib.sha256(b"hashed-key").hexdigest()
    f.write_text(
        json.dumps({"keys": [{"key": "k1", "admin": True}, {"sha256": sha, "namespaces": ["x"]}]})
    )
    ring = KeyRing.from_options(None, str(f))
    ring.check("k1", "anything")
    ring.check("hashed-key", "x")
    with pytest.raises(PermissionError):
        ring.check("hashed-key", "y")
    assert all(len(e.sha256) == 32 for e in ring.entries)  # only digests are kept
    with pytest.raises(ValueError):
        parse_keys({"keys": [{"namespaces": ["x"]}]})


def test_refuses_open_non_loopback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EIGENLAKE_API_KEY", raising=False)
    assert main(["serve", "--host", "0.0.0.0", "--port", "1"]) == 2
    assert "refusing" in capsys.readouterr().err


def test_cli_keys_file_and_body_limit_end_to_end(tmp_path: Path) -> None:
    import httpx

    from eigenlake.server.process import ServerProcess

    pytest.importorskip("eigenlake.embedded.client")
    keys = tmp_path / "keys.json"
    keys.write_text(
        json.dumps({"keys": [{"key": "root", "admin": True}, {"key": "ka", "namespaces": ["a"]}]})
    )
    args = ["--keys-file", str(keys), "--max-body-bytes", "5000"]
    with ServerProcess(tmp_path / "store", extra_args=args) as srv:
        post = lambda key, body: httpx.post(  # noqa: E731
            f"{srv.url}/v1/indexes/get-or-create", json=body, headers={"X-API-Key": key}
        )
        assert post("ka", CREATE).status_code == 200
        assert post("ka", {**CREATE, "namespace": "b"}).status_code == 403
        assert post("nope", CREATE).status_code == 401
        assert post("root", {**CREATE, "namespace": "b"}).status_code == 200
        assert post("root", {**CREATE, "schema": {"x": "y" * 6000}}).status_code == 413
        assert httpx.get(f"{srv.url}/v1/health/ready").json() == {"ready": True}


@pytest.mark.parametrize(
    "entry, problem",
    [
        ({"key": "k", "namespaces": "team-a"}, "namespaces"),  # a string is not a list
        ({"key": "k", "namespaces": ["ok", 3]}, "namespaces"),
        ({"key": "k", "admin": "false"}, "admin"),  # a truthy string must not grant admin
    ],
)
def test_keys_file_entries_are_typed(entry: dict, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_keys({"keys": [entry]})
