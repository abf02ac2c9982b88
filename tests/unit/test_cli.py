"""The ``eigenlake`` command: help and version, stats, the demo, and import/export round
trips in every format (the oracle: the records written, read back through the API)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import eigenlake
from eigenlake.cli import main

NS, IDX, DIM = "ns", "docs", 6


def _store(tmp_path: Path, n: int = 30) -> tuple[str, list[str], np.ndarray]:
    path = str(tmp_path / "store")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, DIM)).astype(np.float32)
    with eigenlake.connect(path=path) as c:
        idx = c.indexes.create_or_get(namespace=NS, index=IDX, dimensions=DIM)
        recs = [
            {
                "properties": {"title": f"doc {i}", "year": 2020 + i % 3, "tags": ["a"] * (i % 2)},
                "vector": x[i],
            }
            for i in range(n)
        ]
        uuids = list(idx.records.add_many(recs))
    return path, uuids, x


def _records(path: str, index: str = IDX) -> dict[str, tuple[dict, np.ndarray]]:
    with eigenlake.connect(path=path) as c:
        idx = c.indexes.open(namespace=NS, index=index)
        page = idx.records.list(limit=10_000, with_vector=True)
    return {
        o["uuid"]: (o["metadata"], np.asarray(o["vector"], dtype=np.float32))
        for o in page["objects"]
    }


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and eigenlake.__version__ in capsys.readouterr().out
    for cmd in ("serve", "import", "export", "stats", "demo"):
        with pytest.raises(SystemExit) as e:
            main([cmd, "--help"])
        out = capsys.readouterr().out
        assert e.value.code == 0 and "example" in out, cmd
    with pytest.raises(SystemExit) as e:
        main(["nope"])
    assert e.value.code == 2


def test_stats_counts_records_and_bytes(tmp_path, capsys):
    path, uuids, _x = _store(tmp_path)
    assert main(["stats", "--path", path, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 1 and rows[0]["records"] == len(uuids) == 30
    assert rows[0]["dimensions"] == DIM and rows[0]["bytes"] > 30 * DIM * 4
    assert main(["stats", "--path", path]) == 0
    assert "docs" in capsys.readouterr().out


def test_demo_runs(capsys):
    assert main(["demo", "--records", "200"]) == 0
    out = capsys.readouterr().out
    assert "search.cluster" in out and "outliers" in out and "done" in out


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet", ".csv"])
def test_export_then_import_round_trips(tmp_path, suffix):
    path, _uuids, _x = _store(tmp_path)
    out = str(tmp_path / f"docs{suffix}")
    assert main(["export", "--path", path, "--namespace", NS, "--index", IDX, out]) == 0
    id_col = [] if suffix == ".jsonl" else ["--id-column", "uuid"]
    args = ["import", out, "--path", path, "--namespace", NS, "--index", "copy", *id_col]
    assert main(args) == 0
    before, after = _records(path), _records(path, "copy")
    assert set(before) == set(after)
    for uid, (props, vec) in before.items():
        got_props, got_vec = after[uid]
        assert np.array_equal(got_vec, vec)  # bit-identical through text formats too
        want = {k: v for k, v in props.items() if not (suffix == ".csv" and k == "tags")}
        assert {k: got_props.get(k) for k in want} == want


def test_npy_round_trip_keeps_order_and_ids(tmp_path):
    path, uuids, x = _store(tmp_path)
    out = str(tmp_path / "v.npy")
    assert main(["export", "--path", path, "--namespace", NS, "--index", IDX, out]) == 0
    assert np.array_equal(np.load(out), x)
    assert Path(out + ".ids.txt").read_text().split() == uuids
    assert (
        main(
            ["import", out, "--path", path, "--namespace", NS, "--index", "v", "--batch-size", "7"]
        )
        == 0
    )
    with eigenlake.connect(path=path) as c:
        _ids, got = c.indexes.open(namespace=NS, index="v").records.to_numpy()
    assert np.array_equal(got, x)


def test_errors_say_what_to_do(tmp_path, capsys):
    path, _uuids, _x = _store(tmp_path)
    assert (
        main(
            [
                "import",
                str(tmp_path / "missing.parquet"),
                "--path",
                path,
                "--namespace",
                NS,
                "--index",
                "x",
            ]
        )
        == 1
    )
    assert "no such file" in capsys.readouterr().err
    bad = tmp_path / "rows.txt"
    bad.write_text("x")
    assert main(["import", str(bad), "--path", path, "--namespace", NS, "--index", "x"]) == 1
    assert "unknown format" in capsys.readouterr().err
    assert (
        main(
            [
                "export",
                "--path",
                path,
                "--namespace",
                NS,
                "--index",
                "nope",
                str(tmp_path / "o.jsonl"),
            ]
        )
        == 1
    )
    assert "NotFoundError" in capsys.readouterr().err
    lines = tmp_path / "bad.jsonl"
    lines.write_text('{"properties": {}, "vector": [1, 2, 3, 4, 5, 6]}\nnot json\n')
    assert main(["import", str(lines), "--path", path, "--namespace", NS, "--index", "y"]) == 1
    assert "bad.jsonl:2: not JSON" in capsys.readouterr().err


def test_the_same_commands_against_a_server(tmp_path, capsys):
    from eigenlake.server.process import ServerProcess

    path, uuids, x = _store(tmp_path)
    dump = str(tmp_path / "docs.jsonl")
    assert main(["export", "--path", path, "--namespace", NS, "--index", IDX, dump]) == 0
    with ServerProcess(tmp_path / "served", api_key="k", log_file=tmp_path / "log") as srv:
        remote = ["--url", srv.url, "--api-key", "k", "--namespace", NS]
        assert main(["import", dump, *remote, "--index", IDX]) == 0
        assert main(["stats", "--url", srv.url, "--api-key", "k", "--json"]) == 0
        rows = json.loads(capsys.readouterr().out)
        assert rows == [{"namespace": NS, "index": IDX, "records": 30, "dimensions": DIM}]
        out = str(tmp_path / "back.npy")
        assert main(["export", *remote, "--index", IDX, out]) == 0
    assert np.array_equal(np.load(out), x)
    assert Path(out + ".ids.txt").read_text().split() == uuids
