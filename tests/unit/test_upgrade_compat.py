"""Indexes written by earlier versions open and keep what they saved.

- A schema stored before ``check_schema`` (a ``type`` list naming several types, a
  ``format`` that is not a string) is read by the rule of the version that stored it, with
  a warning; only new schemas are refused (it raised on every open and every call before).
- A graph header saved before graphs named their index (``{"token", "rows"}``) is adopted
  when the rest fits, and stamped with the index id and seqs checksum; every graph was
  thrown away and rebuilt on upgrade before.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import eigenlake
from eigenlake.embedded import ann
from eigenlake.errors import ValidationError

DIM = 8

# what versions before check_schema accepted and stored (`kind_of` took the first non-null
# type and compared `format` with "date"/"date-time" only)
OLD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": True,
    "properties": {
        "code": {"type": ["integer", "string"]},
        "label": {"type": ["null", "string"], "format": 5},
        "score": {"type": ["null", "number", "string"]},
        "tags": {"type": "array", "items": {"type": ["string", "integer"]}},
        "anything": {"type": ["null"]},
    },
    "required": ["code"],
}


def _set_stored_schema(db_path: str, schema: dict[str, Any]) -> None:
    """Rewrite ``meta.settings.schema`` as an earlier version would have written it."""
    con = sqlite3.connect(db_path)
    (raw,) = con.execute("SELECT value FROM meta WHERE key = 'settings'").fetchone()
    settings = json.loads(raw)
    settings["schema"] = schema
    con.execute("UPDATE meta SET value = ? WHERE key = 'settings'", (json.dumps(settings),))
    con.commit()
    con.close()


def _vectors(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)


def test_a_schema_stored_before_check_schema_opens_reads_and_searches(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = str(tmp_path / "store")
    data = _vectors(30)
    with eigenlake.connect(path=path) as client:
        idx = client.indexes.create_or_get(namespace="old", index="schema", dimensions=DIM)
        uids = idx.records.add_many(
            [
                {"properties": {"code": i, "label": f"l{i}", "tags": ["a", "b"]}, "vector": v}
                for i, v in enumerate(data)
            ]
        )
        db_path = idx._db_path
    _set_stored_schema(db_path, OLD_SCHEMA)

    caplog.set_level(logging.WARNING, logger="eigenlake")
    with eigenlake.connect(path=path) as client:
        idx = client.indexes.open(namespace="old", index="schema")
        # the old rule: the first non-null type; a format that is no string is ignored
        assert {n: p.kind for n, p in idx._schema.props.items()} == {
            "code": "integer",
            "label": "string",
            "score": "number",
            "tags": "array",
            "anything": "string",
        }
        assert idx._schema.props["tags"].item_kind == "string"
        assert "must name one type" in caplog.text and "format must be a string" in caplog.text
        assert "index old/schema" in caplog.text and "'code'" in caplog.text

        assert idx.settings.schema() == OLD_SCHEMA  # kept as stored, not rewritten
        assert idx.records.get(uids[3])["metadata"]["code"] == 3
        assert len(idx.records.list(limit=100)["objects"]) == 30
        hits = idx.search.nearest(vector=data[7], limit=3)["results"]
        assert hits[0]["uuid"] == uids[7]
        hits = idx.search.nearest(vector=data[7], limit=5, filter={"code": {"$gte": 20}})
        assert all(h["metadata"]["code"] >= 20 for h in hits["results"])
        # writes are validated by the same (old) rule
        new = idx.records.add(properties={"code": 99, "label": "x"}, vector=data[0])
        assert idx.records.get(new)["metadata"]["code"] == 99
        with pytest.raises(ValidationError, match="expected an integer"):
            idx.records.add(properties={"code": "99"}, vector=data[0])
        assert idx.search.list(limit=1)["objects"][0]["uuid"] == new

    # a schema that even the old rule refused stays an error
    _set_stored_schema(db_path, {"properties": {"obj": {"type": "object"}}})
    with eigenlake.connect(path=path) as client, pytest.raises(ValidationError, match="object"):
        client.indexes.open(namespace="old", index="schema")


def test_a_new_schema_is_still_refused_as_before(tmp_path: Path) -> None:
    with eigenlake.connect(path=str(tmp_path)) as client:
        for schema, problem in (
            ({"properties": {"code": {"type": ["integer", "string"]}}}, "must name one type"),
            ({"properties": {"d": {"type": "string", "format": 5}}}, "format must be a string"),
        ):
            with pytest.raises(ValidationError, match=problem):
                client.indexes.create_or_get(
                    namespace="new", index="refused", dimensions=DIM, schema=schema
                )


def test_compiling_a_schema_a_user_sends_refuses_what_a_stored_one_tolerates() -> None:
    from eigenlake.embedded.validate import CompiledSchema

    schema = {"properties": {"code": {"type": ["integer", "string"]}}}
    assert CompiledSchema(schema, []).props["code"].kind == "integer"
    with pytest.raises(ValidationError, match="must name one type"):
        CompiledSchema(schema, [], origin=None)


# ---- graphs saved before graphs named their index ----------------------------------------

GRAPH_N = 1500  # a graph is built once 1,000 rows are not in it


def _graph_files(directory: str) -> dict[str, int]:
    return {
        n: os.stat(os.path.join(directory, n)).st_mtime_ns
        for n in sorted(os.listdir(directory))
        if n.startswith("hnsw-")
    }


def _header(directory: str) -> dict[str, Any]:
    with open(os.path.join(directory, ann.HNSW_META)) as f:
        header: dict[str, Any] = json.load(f)
    return header


def _index_with_graph(path: str) -> tuple[Any, list[str], np.ndarray]:
    data = _vectors(GRAPH_N, seed=4)
    with eigenlake.connect(path=path) as client:
        idx = client.indexes.create_or_get(
            namespace="old", index="graph", dimensions=DIM, index_options={"exact_threshold": 100}
        )
        uids = idx.records.add_many(
            [{"properties": {"i": i}, "vector": v} for i, v in enumerate(data)]
        )
        idx.search.nearest(vector=data[0], limit=1)
        idx._ann.wait()
    return idx, uids, data


def _write_old_header(directory: str) -> None:
    """The header as the version before graph ids wrote it (see git 3a74755, ann.py)."""
    header = _header(directory)
    with open(os.path.join(directory, ann.HNSW_META), "w") as f:
        json.dump({"token": header["token"], "rows": header["rows"]}, f)


@pytest.mark.skipif(not ann.has_hnsw(), reason="the core has no HNSW graph")
def test_a_graph_saved_before_graph_ids_is_reused_and_stamped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = str(tmp_path / "store")
    idx, uids, data = _index_with_graph(path)
    directory = idx._dir
    _write_old_header(directory)
    files = _graph_files(directory)
    assert len(files) == 2  # links and seqs

    builds: list[int] = []
    start = ann.AnnState.start_catch_up
    monkeypatch.setattr(
        ann.AnnState,
        "start_catch_up",
        lambda self, d, *a: (builds.append(len(d) - self.covered), start(self, d, *a)),
    )
    caplog.set_level(logging.WARNING, logger="eigenlake")
    with eigenlake.connect(path=path) as client:
        idx = client.indexes.open(namespace="old", index="graph")
        assert idx._ann is not None and len(idx._ann.graph) == GRAPH_N  # adopted on open
        for i in (3, 77, 400):
            assert idx.search.nearest(vector=data[i], limit=1)["results"][0]["uuid"] == uids[i]
        assert not idx._ann.building and idx._ann._thread is None
        assert all(missing == 0 for missing in builds)  # nothing to catch up, nothing rebuilt
        uid = idx._uid
    assert "refused" not in caplog.text
    assert _graph_files(directory) == files  # the same links and seqs files, untouched
    header = _header(directory)
    assert header["index_uid"] == uid and header["token"] in next(iter(files))
    seqs = np.load(os.path.join(directory, f"hnsw-{header['token']}.npy"))
    assert header["seqs"] == ann.seqs_digest(seqs) and header["rows"] == GRAPH_N

    # stamped: the next open makes the full check, and passes it
    with eigenlake.connect(path=path) as client:
        idx = client.indexes.open(namespace="old", index="graph")
        assert idx._ann is not None and len(idx._ann.graph) == GRAPH_N
    assert _graph_files(directory) == files


@pytest.mark.skipif(not ann.has_hnsw(), reason="the core has no HNSW graph")
@pytest.mark.parametrize(
    "header",
    [
        {"rows": GRAPH_N - 1},  # its count does not match its files
        {"index_uid": "0" * 32},  # it names another index
        {"seqs": "0" * 32},  # its checksum does not match its seqs
    ],
)
def test_an_old_header_that_does_not_fit_is_still_refused(
    tmp_path: Path, header: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    path = str(tmp_path / "store")
    idx, _, _ = _index_with_graph(path)
    directory = idx._dir
    _write_old_header(directory)
    bad = {**_header(directory), **header}
    with open(os.path.join(directory, ann.HNSW_META), "w") as f:
        json.dump(bad, f)
    with eigenlake.connect(path=path) as client:
        idx = client.indexes.open(namespace="old", index="graph")
        assert idx._ann is None  # refused: rebuilt on the first graph search
    assert "refused" in caplog.text and _graph_files(directory) == {}
