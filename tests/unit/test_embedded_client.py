"""Embedded client basics: default path, listing indexes, name encoding."""

from __future__ import annotations

from pathlib import Path

import pytest

import eigenlake
from eigenlake.embedded import indexes as indexes_mod
from eigenlake.embedded.client import default_path


def test_default_path_honours_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EIGENLAKE_PATH", str(tmp_path / "env-store"))
    assert default_path() == str(tmp_path / "env-store")
    with eigenlake.connect() as client:
        assert client.path == str(tmp_path / "env-store")
        assert client.ready()
    monkeypatch.delenv("EIGENLAKE_PATH")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_path() == str(tmp_path / "xdg" / "eigenlake")


def test_list_indexes_with_awkward_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # names the rule now refuses, as an index made before the rule may still have them
    monkeypatch.setattr(indexes_mod, "check_name", lambda kind, name: name)
    with eigenlake.connect(path=str(tmp_path)) as client:
        client.indexes.create_or_get(namespace="a/b", index="..", dimensions=3)
        client.indexes.create_or_get(namespace="ns", index="x y", dimensions=3)
        assert client.indexes.list() == [
            {"namespace": "a/b", "index": ".."},
            {"namespace": "ns", "index": "x y"},
        ]
        client.indexes.delete(namespace="ns", index="x y")
        assert client.indexes.list() == [{"namespace": "a/b", "index": ".."}]
        monkeypatch.undo()
        assert client.indexes.open(namespace="a/b", index="..") is not None
        with pytest.raises(eigenlake.ValidationError):
            client.indexes.create_or_get(namespace="", index="x", dimensions=3)
