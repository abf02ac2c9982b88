"""The answer classes (``eigenlake.api.answers``) over real answers of an embedded index:
plain dicts to ``==``, JSON and pickle; ``to_pandas`` row for row against the dict;
``_repr_html_`` a table with every value escaped; a short ``repr`` for the analyses."""

from __future__ import annotations

import csv
import gzip
import json
import pickle
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import eigenlake
from eigenlake.api.answers import (
    AgentResult,
    ClusterResult,
    NearestResult,
    OutliersResult,
    RecordPage,
    TopicsResult,
    as_nearest,
)
from tests_paths import news_embeddings

pd = pytest.importorskip("pandas")

N_NEWS = 600
SCRIPT = "<script>alert('x')</script>"


def news_rows(test_data: Path, n: int) -> list[dict[str, str]]:
    with gzip.open(test_data / "news.tsv.gz", "rt", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))[:n]


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory, test_data: Path) -> Iterator[Any]:
    rows = news_rows(test_data, N_NEWS)
    x = news_embeddings()[:N_NEWS]
    with eigenlake.connect(path=tmp_path_factory.mktemp("lake")) as client:
        idx = client.indexes.create_or_get(namespace="t", index="news", dimensions=x.shape[1])
        idx.records.add_many(
            [
                {
                    "properties": {
                        "document_id": r["id"],
                        "desk": r["label"],
                        "text": r["text"],
                        # one record carries markup, to be shown escaped
                        "note": SCRIPT if i == 0 else "plain",
                    },
                    "vector": v,
                }
                for i, (r, v) in enumerate(zip(rows, x, strict=True))
            ]
        )
        yield idx


@pytest.fixture(scope="module")
def answers(index: Any) -> dict[str, Any]:
    q = news_embeddings()[0]
    return {
        "nearest": index.search.nearest(vector=q, limit=7),
        "list": RecordPage(index.records.list(limit=25, with_vector=True)),
        "kmeans": index.search.cluster(num_clusters=5, text_fields=["text"]),
        "tuned": index.search.cluster(auto_tune=True, min_clusters=2, max_clusters=5),
        "dbscan": index.search.cluster(algorithm="dbscan", text_fields=["text"]),
        "outliers": index.search.outliers(return_all=True),
        "flagged": index.search.outliers(),
        "topics": index.search.topics(text_fields=["text"], num_topics=4),
    }


def test_the_search_methods_return_the_answer_classes(answers: dict[str, Any]) -> None:
    assert type(answers["nearest"]) is NearestResult
    for name in ("kmeans", "tuned", "dbscan"):
        assert type(answers[name]) is ClusterResult
    assert type(answers["outliers"]) is OutliersResult
    assert type(answers["topics"]) is TopicsResult


def test_equal_to_the_plain_dicts_through_json_and_pickle(answers: dict[str, Any]) -> None:
    for name, ans in answers.items():
        plain = json.loads(json.dumps(ans))
        assert isinstance(ans, dict)
        assert ans == plain and plain == ans, name
        assert json.dumps(ans, sort_keys=True) == json.dumps(dict(ans), sort_keys=True)
        back = pickle.loads(pickle.dumps(ans))
        assert type(back) is type(ans) and back == ans, name
        assert not hasattr(ans, "__dict__")  # nothing private rides along


def test_nearest_to_pandas_row_per_hit(answers: dict[str, Any]) -> None:
    ans = answers["nearest"]
    df = ans.to_pandas()
    hits = ans["results"]
    assert len(df) == len(hits) == 7
    assert list(df.columns) == ["uuid", "distance", "document_id", "desk", "text", "note"]
    assert df["uuid"].tolist() == [h["uuid"] for h in hits]
    assert df["distance"].tolist() == [h["distance"] for h in hits]
    assert df["desk"].tolist() == [h["metadata"]["desk"] for h in hits]


def test_record_page_to_pandas_keeps_vectors(answers: dict[str, Any]) -> None:
    page = answers["list"]
    df = page.to_pandas()
    assert len(df) == len(page["objects"]) == 25
    assert df.columns[0] == "uuid" and df.columns[-1] == "vector"
    got = np.vstack(df["vector"].to_numpy())
    want = np.array([o["vector"] for o in page["objects"]])
    assert np.array_equal(got, want)


def test_cluster_to_pandas_row_per_cluster_and_per_member(answers: dict[str, Any]) -> None:
    for name in ("kmeans", "dbscan"):
        ans = answers[name]
        clusters = ans["clusters"]
        df = ans.to_pandas()
        assert list(df.columns) == [
            "cluster_id",
            "count",
            "fraction",
            "summary",
            "keywords",
            "representatives",
        ]
        assert len(df) == len(clusters)
        assert df["cluster_id"].tolist() == [c["cluster_id"] for c in clusters]
        assert df["count"].tolist() == [c["count"] for c in clusters]
        n = ans["parameters"]["num_records"]
        assert df["fraction"].sum() == pytest.approx((n - ans["noise_count"]) / n)
        assert df["keywords"].tolist() == [[k["word"] for k in c["keywords"]] for c in clusters]
        assert df["representatives"].tolist() == [
            [r["uuid"] for r in c["representatives"]] for c in clusters
        ]
        members = ans.to_pandas(per="member")
        assert len(members) == sum(c["count"] for c in clusters)
        want = {m["uuid"]: c["cluster_id"] for c in clusters for m in c["members"]}
        assert dict(zip(members["uuid"], members["cluster_id"], strict=True)) == want
    with pytest.raises(ValueError, match="per"):
        answers["kmeans"].to_pandas(per="topic")


def test_topics_and_outliers_to_pandas(answers: dict[str, Any]) -> None:
    topics = answers["topics"]
    df = topics.to_pandas()
    assert len(df) == len(topics["topics"]) == 4
    assert df["label"].tolist() == [t["label"] for t in topics["topics"]]
    assert df["topic_id"].tolist() == [0, 1, 2, 3]
    assert len(topics.to_pandas(per="member")) == N_NEWS

    out = answers["outliers"]
    df = out.to_pandas()
    assert len(df) == len(out["outliers"]) == N_NEWS  # return_all: every record
    assert list(df.columns[:3]) == ["uuid", "score", "is_outlier"]
    assert df["score"].tolist() == [o["score"] for o in out["outliers"]]
    assert int(df["is_outlier"].sum()) == out["outlier_count"]


def test_a_property_named_like_a_column_is_prefixed() -> None:
    ans = NearestResult(
        results=[{"uuid": "u1", "metadata": {"distance": "far", "uuid": "x"}, "distance": 0.5}],
        next_after=None,
    )
    df = ans.to_pandas()
    assert list(df.columns) == ["uuid", "distance", "metadata.distance", "metadata.uuid"]
    assert df.iloc[0].tolist() == ["u1", 0.5, "far", "x"]


def test_to_pandas_without_pandas_names_the_extra(
    answers: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now raises ImportError
    with pytest.raises(ImportError, match=r'pip install "eigenlake\[pandas\]"'):
        answers["kmeans"].to_pandas()
    assert "<table" in answers["kmeans"]._repr_html_()  # HTML needs no pandas


def test_html_is_a_table_with_values_escaped(
    answers: dict[str, Any], index: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = RecordPage(index.records.list(filter={"note": SCRIPT}, limit=5))
    assert len(page["objects"]) == 1
    html = page._repr_html_()
    assert "<table" in html and "</table>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html

    ans = ClusterResult(json.loads(json.dumps(answers["kmeans"])))
    ans["clusters"][0]["representatives"][0]["metadata"] = {"note": SCRIPT}
    ans["clusters"][0]["summary"] = '"quoted" & <b>bold</b>'
    html = ans._repr_html_()
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html and "&amp;" in html
    assert html.count("<tr>") == 1 + len(ans["clusters"])  # the header and one per cluster
    for name in ("nearest", "dbscan", "outliers", "topics"):
        assert "<table" in answers[name]._repr_html_()


def test_html_rows_are_capped() -> None:
    hits = [{"uuid": f"u{i}", "metadata": {"t": "x" * 500}, "distance": i} for i in range(30)]
    html = NearestResult(results=hits, next_after="c")._repr_html_()
    assert html.count("<tr>") == 1 + 20 + 1  # header, 20 rows, "… 10 more"
    assert "10 more" in html
    # long cells are cut to 60 characters; the tooltip holds up to 500
    assert ">" + "x" * 59 + "…</td>" in html and "x" * 501 not in html


def test_analysis_reprs_are_one_short_line(answers: dict[str, Any]) -> None:
    km = answers["kmeans"]
    text = repr(km)
    assert text == (
        f"ClusterResult(5 clusters over {N_NEWS:,} records, silhouette {km['silhouette']:.3g})"
    )
    tuned = answers["tuned"]
    assert f"{tuned['parameters']['num_clusters']} clusters" in repr(tuned)
    assert "k chosen from 2-5" in repr(tuned)
    db = answers["dbscan"]
    assert f"{db['noise_count']:,} noise" in repr(db) and repr(db).startswith(
        "ClusterResult(DBSCAN"
    )
    flagged = answers["flagged"]
    assert repr(flagged).startswith(f"OutliersResult({flagged['outlier_count']:,} outlier")
    assert "LOF > 1.50" in repr(flagged)
    topics = answers["topics"]
    assert repr(topics).startswith(f"TopicsResult(4 topics over {N_NEWS:,} records: ")
    assert topics["topics"][0]["label"] in repr(topics)
    for ans in (km, tuned, db, flagged, topics):
        assert len(repr(ans)) < 200 and "\n" not in repr(ans)
        assert str(ans) == repr(ans)


def test_as_nearest_wraps_one_answer_or_a_batch(answers: dict[str, Any]) -> None:
    one = dict(answers["nearest"])
    assert type(as_nearest(one)) is NearestResult
    batch = as_nearest([one, one])
    assert [type(a) for a in batch] == [NearestResult, NearestResult] and batch[0] == one


def test_agent_result_views_the_action(index: Any) -> None:
    ans = AgentResult(index.agent.query("cluster the news", mode="cluster", num_clusters=3))
    assert ans["action"] == "cluster"
    assert len(ans.to_pandas()) == len(ans["clusters"]) == 3
    assert repr(ans).startswith("AgentResult(action='cluster'")
    assert "<table" in ans._repr_html_()
    filtered = AgentResult(index.agent.query("show the news", mode="filter"))
    assert len(filtered.to_pandas()) == len(filtered["objects"])
