"""search.cluster/outliers/topics and agent.query hand a filtered snapshot to their modules."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import eigenlake


@pytest.fixture
def idx(tmp_path: Path) -> Any:
    client = eigenlake.connect(path=str(tmp_path))
    index = client.indexes.create_or_get(namespace="a", index="b", dimensions=4)
    rng = np.random.default_rng(0)
    index.records.add_many(
        [{"properties": {"i": i}, "vector": rng.standard_normal(4) + 0.1} for i in range(10)]
    )
    yield index
    client.close()


def _stub(monkeypatch: pytest.MonkeyPatch, module: str, func: str, calls: list) -> None:
    mod = types.ModuleType(module)

    def run(*args: Any, **kw: Any) -> dict[str, Any]:
        calls.append((args, kw))
        return {"ok": True}

    setattr(mod, func, run)
    monkeypatch.setitem(sys.modules, module, mod)


def test_cluster_gets_filtered_limited_snapshot(idx: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list = []
    _stub(monkeypatch, "eigenlake.analysis.cluster", "run_cluster", calls)
    out = idx.search.cluster(filter={"i": {"$gte": 3}}, limit=4, algorithm="dbscan")
    assert out["ok"] is True and out["usage"]["records_scanned"] == 4  # the stub's answer
    (snap,), kw = calls[0]
    assert [m["i"] for m in snap.metadata] == [3, 4, 5, 6]
    assert snap.vectors.shape == (4, 4) and snap.vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(snap.vectors, axis=1), 1.0, rtol=1e-6)
    assert kw["algorithm"] == "dbscan" and kw["dbscan_min_samples"] == 5


def test_outliers_topics_and_agent(idx: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list = []
    _stub(monkeypatch, "eigenlake.analysis.outliers", "run_outliers", calls)
    _stub(monkeypatch, "eigenlake.analysis.topics", "run_topics", calls)
    _stub(monkeypatch, "eigenlake.agent", "run_query", calls)
    idx.search.outliers(limit=3)
    idx.search.topics(text_fields=["t"], filter={"i": 1})
    idx.agent.query("cluster things", mode="cluster")
    assert len(calls[0][0][0]) == 3
    assert [m["i"] for m in calls[1][0][0].metadata] == [1]
    assert calls[1][1]["text_fields"] == ["t"]
    assert calls[2][0] == (idx, "cluster things") and calls[2][1]["mode"] == "cluster"
