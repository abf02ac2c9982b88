"""The companion cookbooks (examples/cookbook_semantic_search.py, _anomaly_detection.py,
_topic_modelling.py) run on a slice of the bundled data, their outputs checked against
oracles computed here without EigenLake's search code: NumPy nearest neighbours over the
stored vectors, scikit-learn's LocalOutlierFactor, the labels of the data."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import LocalOutlierFactor

import eigenlake
from tests_paths import REPO_ROOT

EXAMPLES = REPO_ROOT / "examples"


def _example(name: str) -> ModuleType:
    """An example as a module (examples/ on sys.path, as running it from there puts it:
    the topic cookbook imports its neighbour ``_metrics``)."""
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    return importlib.import_module(name)


def test_semantic_search(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _example("cookbook_semantic_search").main(["--limit", "300", "--path", str(tmp_path)])
    assert "querying stored text" in capsys.readouterr().out
    assert out["count"] == out["records"] == 300
    # a stored text as the query: its own record first (also one the index embedded)
    assert out["self_hit"]["metadata"]["doc_id"] == out["probe"]["doc_id"]
    assert out["self_hit"]["distance"] < 1e-4
    # oracle: exact cosine top 10 over the stored vectors that pass the filter, for the
    # query as the text embedder embeds it
    query = eigenlake.embed.text_embedder()([out["query"]])[0]
    with eigenlake.connect(path=str(tmp_path)) as client:
        idx = client.indexes.open(namespace="cookbook-01", index="news")
        uuids, x = idx.records.to_numpy()
        meta = {o["uuid"]: o["metadata"] for o in idx.search.iterate()}
    keep = np.array(
        [meta[u]["split"] == "train" and meta[u]["words"] >= 40 for u in uuids], dtype=bool
    )
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    dist = 1.0 - x @ (query / np.linalg.norm(query))
    dist[~keep] = np.inf
    want = [uuids[i] for i in np.argsort(dist, kind="stable")[:10]]
    got = [h["uuid"] for h in out["hits"]]
    assert got == want
    np.testing.assert_allclose(
        [h["distance"] for h in out["hits"]], np.sort(dist)[:10], rtol=0, atol=1e-5
    )
    # the pages: no repeats, and they follow the single query's order
    assert len(out["paged"]) == len(set(out["paged"])) == 15
    assert out["paged"][:10] == got
    assert out["batch"][2] == got[:3]  # the batch's third query is the query above


def test_anomaly_detection(tmp_path: Path) -> None:
    mod = _example("cookbook_anomaly_detection")
    out = mod.main(["--limit", "900", "--neighbors", "50", "--path", str(tmp_path)])
    x, y, scores = out["x"], out["y"], out["scores"]
    assert len(scores) == 900 and 0 < y.sum() < 900
    lof = LocalOutlierFactor(n_neighbors=50).fit(x.astype(np.float64))
    want = -lof.negative_outlier_factor_
    oracle_auc = roc_auc_score(y, want)
    assert out["auc"] == pytest.approx(roc_auc_score(y, scores), abs=1e-9)  # its NumPy AUC
    assert out["auc"] >= oracle_auc - 0.01
    assert out["auc"] > 0.6
    np.testing.assert_allclose(scores, want, rtol=1e-3)
    k = out["k"]
    top = np.argsort(-scores, kind="stable")[:k]
    assert out["precision_at_k"] == pytest.approx(y[top].mean())
    assert out["precision_at_k"] > y.mean()


def test_topic_modelling(tmp_path: Path) -> None:
    mod = _example("cookbook_topic_modelling")
    out: dict[str, Any] = mod.main(["--limit", "800", "--out", str(tmp_path)])
    topics = out["topics"]
    assert len(topics) == 8 and sum(t["count"] for t in topics) == 800
    words = [k["word"] for t in topics for k in t["keywords"]]
    assert not set(words) & set(mod.FILLER)  # the extra stop words are gone
    assert any(" " in w for w in words)  # ngram_range [1, 2]: phrases among the keywords
    for t in topics:  # the labeller's names, made from each topic's own keywords
        assert t["label"] == mod.labeller([k["word"] for k in t["keywords"]], [])
    # purity recomputed from the members and the known desks
    desk = out["desk_of"]
    majority = 0
    for t in topics:
        desks = [desk[m["uuid"]] for m in t["members"]]
        majority += max(desks.count(d) for d in set(desks))
    assert out["purity"] == pytest.approx(majority / 800)
    assert out["purity"] > 0.6
    assert out["figure"].exists() and out["figure"].stat().st_size > 10_000
