"""Index names (API.md "Names"): checked when an index is created; indexes made before the
rule still open, get, list and drop; a dropped index's tomb can never hide a valid name."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import eigenlake
from eigenlake.embedded import indexes as indexes_mod
from eigenlake.errors import NotFoundError, StorageError, ValidationError


def test_an_index_made_before_the_rule_still_opens_and_drops(tmp_path, monkeypatch) -> None:
    legacy = [("n", "x" * 150), ("n", "with space"), ("a/b", ".."), ("ns", "é")]
    with eigenlake.connect(path=str(tmp_path / "store")) as client:
        with monkeypatch.context() as m:  # an older release, without the rule
            m.setattr(indexes_mod, "check_name", lambda kind, name: name)
            for ns, name in legacy:
                client.indexes.create_or_get(namespace=ns, index=name, dimensions=3)
        with pytest.raises(ValidationError, match="index is too long"):
            client.indexes.create_or_get(namespace="n", index="y" * 150, dimensions=3)
        with pytest.raises(ValidationError, match="index 'other space'"):
            client.indexes.create_or_get(namespace="n", index="other space", dimensions=3)
        for ns, name in legacy:
            again = client.indexes.create_or_get(namespace=ns, index=name, dimensions=3)
            again.records.add(properties={"a": 1}, vector=[1.0, 0.0, 0.0])
            assert client.indexes.open(namespace=ns, index=name).records.list()["objects"]
            assert client.indexes.ref(namespace=ns, index=name).records.exists(
                again.records.list()["objects"][0]["uuid"]
            )
        listed = {(i["namespace"], i["index"]) for i in client.indexes.list()}
        assert listed == set(legacy)
        for ns, name in legacy:
            client.indexes.delete(namespace=ns, index=name)
        assert client.indexes.list() == []


@pytest.mark.parametrize(
    ("kind", "bad", "problem"),
    [
        ("namespace", "a/b", "contains '/'"),
        ("index", "a\\b", "contains"),
        ("index", ".x", "must not start with '.'"),
        ("namespace", "..", "must not start with '.'"),
        ("index", "", "empty"),
        ("index", "x" * 129, "too long"),
        ("index", "café", "contains 'é'"),
        ("namespace", "tab\there", "contains"),
        ("index", "a\ud800", "Unicode"),
        ("index", 7, "string"),
    ],
)
def test_names_outside_the_rule_are_refused_on_create(tmp_path, kind, bad, problem) -> None:
    names = {"namespace": "ns", "index": "ok", kind: bad}
    with eigenlake.connect(path=str(tmp_path)) as client:
        with pytest.raises(ValidationError, match=kind) as err:
            client.indexes.create_or_get(dimensions=3, **names)
        assert problem in str(err.value)
        str(err.value).encode("utf-8")  # shown escaped, never as a lone surrogate
        assert client.indexes.list() == []


def test_the_longest_and_odd_but_valid_names_work(tmp_path) -> None:
    good = ["x" * 128, "A-z_0.9", "-", "_", "a..b", "name.deleted-123-456", "v1.0-rc.1"]
    with eigenlake.connect(path=str(tmp_path)) as client:
        for name in good:
            client.indexes.create_or_get(namespace="ns", index=name, dimensions=3)
        # "name.deleted-123-456" used to look like a tomb and was hidden from listings
        assert sorted(i["index"] for i in client.indexes.list()) == sorted(good)


def test_a_drop_leaves_a_tomb_no_name_can_collide_with(tmp_path, monkeypatch) -> None:
    with eigenlake.connect(path=str(tmp_path)) as client:
        kept = client.indexes.create_or_get(namespace="ns", index="kept", dimensions=3)
        gone = client.indexes.create_or_get(namespace="ns", index="gone", dimensions=3)
        gone.records.add(properties={}, vector=[1.0, 0.0, 0.0])
        handle = client.indexes.open(namespace="ns", index="gone")
        with monkeypatch.context() as m:  # the rename happens, the removal "fails"
            m.setattr(indexes_mod.shutil, "rmtree", lambda *a, **k: None)
            client.indexes.delete(namespace="ns", index="gone")
        entries = sorted(os.listdir(tmp_path / "ns"))
        tombs = [e for e in entries if e.startswith(indexes_mod.TOMB_PREFIX)]
        assert len(tombs) == 1 and entries == sorted(["kept", *tombs])
        # a tomb name is no valid index name (leading dot) nor any percent-encoded one ("@")
        with pytest.raises(ValidationError):
            client.indexes.create_or_get(namespace="ns", index=tombs[0], dimensions=3)
        assert "@" in tombs[0] and tombs[0].startswith(".")
        assert client.indexes.list() == [{"namespace": "ns", "index": "kept"}]
        with pytest.raises(NotFoundError):  # a handle opened before the drop
            handle.records.list()
        with pytest.raises(NotFoundError):
            client.indexes.open(namespace="ns", index="gone")
        again = client.indexes.create_or_get(namespace="ns", index="gone", dimensions=3)
        assert again.records.list()["objects"] == []
        assert kept.records.list()["objects"] == []


def test_names_too_long_for_a_directory_are_not_found(tmp_path: Path) -> None:
    # found by schemathesis: such a name reached os.stat and answered ENAMETOOLONG as a 500
    with eigenlake.connect(path=str(tmp_path)) as client:
        for kwargs in (
            {"namespace": "Ω≈" * 60, "index": "x"},
            {"namespace": "a", "index": "é" * 200},
        ):
            with pytest.raises(NotFoundError, match="too long"):
                client.indexes.open(**kwargs)
            with pytest.raises(NotFoundError, match="too long"):
                client.indexes.delete(**kwargs)


def test_a_file_where_a_namespace_would_be_is_no_index(tmp_path: Path) -> None:
    # found by schemathesis: the server keeps `.usage.json` in the store's root, and a read
    # of namespace ".usage.json" reached os.stat through it (NotADirectoryError, a 500)
    (tmp_path / ".usage.json").write_text("{}")
    (tmp_path / "plain").write_text("not a directory")
    with eigenlake.connect(path=str(tmp_path)) as client:
        for ns in (".usage.json", "plain"):
            with pytest.raises(NotFoundError):
                client.indexes.open(namespace=ns, index="x")
            with pytest.raises(NotFoundError):
                client.indexes.delete(namespace=ns, index="x")
        # creating over such a file is refused with a message naming it, nothing written
        with pytest.raises(StorageError, match="plain is a file, not a directory"):
            client.indexes.create_or_get(namespace="plain", index="x", dimensions=3)
        assert (tmp_path / "plain").read_text() == "not a directory"
