"""``plot()`` of the analyses' answers (Agg): the figure holds what the answer says, artist
for artist, and the answer's 2-D projection and k-distance curve match NumPy / scikit-learn."""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import eigenlake
from eigenlake.analysis.cluster import PROJECTION_MAX_POINTS, run_cluster
from eigenlake.analysis.snapshot import Snapshot
from eigenlake.api.answers import ClusterResult, TopicsResult
from tests_paths import news_embeddings

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.container import BarContainer  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from eigenlake.plot import DISTINCT_COLOURS, palette  # noqa: E402

N_NEWS = 800


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory, test_data: Path) -> Iterator[dict[str, Any]]:
    with gzip.open(test_data / "news.tsv.gz", "rt", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))[:N_NEWS]
    x = news_embeddings()[:N_NEWS]
    cardio = np.load(test_data / "cardio.npz")["X"].astype(np.float32)
    with eigenlake.connect(path=tmp_path_factory.mktemp("lake")) as client:
        news = client.indexes.create_or_get(namespace="t", index="news", dimensions=x.shape[1])
        news.records.add_many(
            [
                {"properties": {"document_id": r["id"], "text": r["text"]}, "vector": v}
                for r, v in zip(rows, x, strict=True)
            ]
        )
        cidx = client.indexes.create_or_get(
            namespace="t",
            index="cardio",
            dimensions=cardio.shape[1],
            index_options={"distance_metric": "euclidean"},
        )
        cidx.records.add_many(
            [{"properties": {"record": f"CTG {i}"}, "vector": v} for i, v in enumerate(cardio)]
        )
        yield {"news": news, "cardio": cidx, "x": x, "cardio_x": cardio}


def collections(ax: Any, prefix: str) -> list[PathCollection]:
    return [
        c
        for c in ax.collections
        if isinstance(c, PathCollection) and (c.get_gid() or "").startswith(prefix)
    ]


def lines(ax: Any, gid: str) -> list[Any]:
    return [ln for ln in ax.lines if ln.get_gid() == gid]


def test_kmeans_map_one_collection_per_cluster(lake: dict[str, Any]) -> None:
    ans = lake["news"].search.cluster(num_clusters=5, text_fields=["text"])
    fig = ans.plot()
    assert isinstance(fig, Figure) and len(fig.axes) == 1  # no tuning: the map alone
    ax = fig.axes[0]
    per_cluster = collections(ax, "cluster-")
    assert [c.get_gid() for c in per_cluster] == [f"cluster-{i}" for i in range(5)]
    # every analysed record is drawn once, in its cluster's collection
    assert [len(c.get_offsets()) for c in per_cluster] == [c["count"] for c in ans["clusters"]]
    (reps,) = collections(ax, "representatives")
    assert len(reps.get_offsets()) == sum(len(c["representatives"]) for c in ans["clusters"])
    assert collections(ax, "noise") == []
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0].startswith(f"0 ({ans['clusters'][0]['count']:,}) ")
    assert ans["clusters"][0]["summary"][:10] in labels[0]
    assert ax.get_xlabel().startswith("PC1 (") and ax.get_ylabel().startswith("PC2 (")
    fig.savefig(io.BytesIO(), format="png")


def test_projection_is_the_pca_of_the_vectors(lake: dict[str, Any]) -> None:
    ans = lake["news"].search.cluster(num_clusters=4)
    proj = ans["projection"]
    assert proj["method"] == "pca" and proj["sample_size"] is None
    x = lake["x"].astype(np.float64)
    xc = x - x.mean(axis=0)
    _, s, vt = np.linalg.svd(xc, full_matrices=False)  # the oracle: exact PCA
    ratio = s[:2] ** 2 / (xc**2).sum()
    assert proj["explained_variance_ratio"] == pytest.approx(ratio, abs=2e-4)
    want = xc @ vt[:2].T
    got = np.column_stack([proj["points"]["x"], proj["points"]["y"]])
    for axis in range(2):  # the same axes up to sign, to the rounding of the answer
        corr = np.corrcoef(got[:, axis], want[:, axis])[0, 1]
        assert abs(corr) > 0.9999
    # points are in snapshot order and carry their cluster
    label = {m["uuid"]: c["cluster_id"] for c in ans["clusters"] for m in c["members"]}
    uuids = [o["uuid"] for o in lake["news"].records.list(limit=N_NEWS)["objects"]]
    assert proj["points"]["cluster_id"] == [label[u] for u in uuids]
    # representatives sit where their rows project
    where = {u: i for i, u in enumerate(uuids)}
    rows = [where[r["uuid"]] for c in ans["clusters"] for r in c["representatives"]]
    want_x = [proj["points"]["x"][r] for r in rows]
    assert proj["representatives"]["x"] == pytest.approx(want_x, abs=1.1e-3)


def test_large_answers_carry_a_sample_with_every_cluster() -> None:
    x = news_embeddings()[:3000]
    snap = Snapshot(uuids=[str(i) for i in range(len(x))], vectors=x, metadata=[{}] * len(x))
    res = run_cluster(snap, num_clusters=30)
    proj = res["projection"]
    m = proj["sample_size"]
    assert m is not None and PROJECTION_MAX_POINTS * 0.9 <= m <= PROJECTION_MAX_POINTS * 1.2
    assert len(proj["points"]["x"]) == m
    assert set(proj["points"]["cluster_id"]) == set(range(res["parameters"]["num_clusters"]))
    assert len(json.dumps(proj)) < 50_000  # the answer stays small
    again = run_cluster(snap, num_clusters=30)
    assert again["projection"] == proj  # seeded: the same picture every run


def test_auto_tune_panel_shows_silhouette_by_k(lake: dict[str, Any]) -> None:
    ans = lake["news"].search.cluster(auto_tune=True, min_clusters=2, max_clusters=7)
    fig = ans.plot()
    assert len(fig.axes) == 2
    side = fig.axes[1]
    scores = ans["parameters"]["scores"]
    (curve,) = [ln for ln in side.lines if ln.get_label() == "silhouette"]
    assert list(curve.get_xdata()) == [s["num_clusters"] for s in scores]
    assert list(curve.get_ydata()) == pytest.approx([s["silhouette"] for s in scores])
    (chosen,) = lines(side, "chosen-k")
    assert chosen.get_xdata()[0] == ans["parameters"]["num_clusters"]
    assert "silhouette" in side.get_ylabel()


def test_dbscan_noise_grey_and_k_distance_with_eps(lake: dict[str, Any]) -> None:
    from sklearn.neighbors import NearestNeighbors

    ans = lake["news"].search.cluster(algorithm="dbscan", dbscan_min_samples=5)
    p = ans["parameters"]
    assert ans["noise_count"] > 0
    fig = ans.plot()
    ax, side = fig.axes
    (noise,) = collections(ax, "noise")
    assert len(noise.get_offsets()) == ans["noise_count"]
    assert len(collections(ax, "cluster-")) == len(ans["clusters"])
    (eps,) = lines(side, "eps")
    assert eps.get_ydata()[0] == pytest.approx(p["dbscan_eps"])
    # the curve in the answer (all of it: fewer rows than K_DISTANCE_POINTS) is sklearn's
    curve = p["k_distance"]
    assert curve["k"] == 5 and curve["rank"] == list(range(N_NEWS))
    x = lake["x"]
    kd = NearestNeighbors(n_neighbors=5, metric="cosine").fit(x).kneighbors(x)[0][:, 4]
    assert curve["distance"] == pytest.approx(np.sort(kd), abs=1e-4)
    drawn = [ln for ln in side.lines if ln.get_label() == "k-distance, sorted"]
    assert list(drawn[0].get_ydata()) == curve["distance"]


def test_dbscan_with_a_given_eps_has_no_curve(lake: dict[str, Any]) -> None:
    ans = lake["news"].search.cluster(algorithm="dbscan", dbscan_eps=0.3)
    assert "k_distance" not in ans["parameters"]
    assert len(ans.plot().axes) == 1


def test_fifty_clusters_fit(lake: dict[str, Any]) -> None:
    ans = lake["news"].search.cluster(num_clusters=50)
    k = len(ans["clusters"])
    assert k >= 45  # empty k-means clusters vanish
    fig = ans.plot()
    ax = fig.axes[0]
    per_cluster = collections(ax, "cluster-")
    assert len(per_cluster) == k
    colours = {tuple(np.round(c.get_facecolor()[0][:3], 3)) for c in per_cluster}
    assert len(colours) == k  # no two clusters share a colour
    legend = ax.get_legend()
    assert f"{k} clusters" in legend.get_title().get_text()
    assert len(legend.get_texts()) == 1  # summarised: representatives only, ids on the map
    ids = [t.get_text() for t in ax.texts]
    assert ids == [str(c["cluster_id"]) for c in ans["clusters"]][: len(ids)] and len(ids) >= 40
    fig.savefig(io.BytesIO(), format="png")


def test_palette() -> None:
    assert len(set(palette(DISTINCT_COLOURS))) == DISTINCT_COLOURS
    assert all(c[:3] != (0.5, 0.5, 0.5) for c in palette(DISTINCT_COLOURS))
    assert len(palette(200)) == 200


def test_outliers_histogram_threshold_and_top(lake: dict[str, Any]) -> None:
    ans = lake["cardio"].search.outliers(distance_metric="euclidean", return_all=True, limit=None)
    fig = ans.plot()
    (ax,) = fig.axes
    (threshold,) = lines(ax, "threshold")
    assert threshold.get_xdata()[0] == pytest.approx(-ans["parameters"]["offset"]) == 1.5
    heights = [p.get_height() for c in ax.containers for p in c]
    assert sum(heights) == len(ans["outliers"]) == len(lake["cardio_x"])
    flagged = [c for c in ax.containers if c.patches[0].get_gid() == "flagged"]
    assert sum(p.get_height() for p in flagged[0]) == ans["outlier_count"]
    tops = [t for t in ax.texts if (t.get_gid() or "").startswith("top-")]
    assert [t.get_text() for t in tops if t.get_gid() != "top-names"] == list("123456")
    (names,) = [t for t in ax.texts if t.get_gid() == "top-names"]
    assert ans["outliers"][0]["metadata"]["record"] in names.get_text()
    assert "return_all" not in ax.get_title(loc="left")

    flagged_only = lake["cardio"].search.outliers(distance_metric="euclidean", limit=None)
    assert "return_all=True" in flagged_only.plot().axes[0].get_title(loc="left")


def test_topics_one_bar_axis_per_topic(lake: dict[str, Any]) -> None:
    ans = lake["news"].search.topics(text_fields=["text"], num_topics=5)
    fig = ans.plot()
    bar_axes = [a for a in fig.axes if any(isinstance(c, BarContainer) for c in a.containers)]
    assert len(bar_axes) == len(fig.axes) == 5
    for a, t in zip(bar_axes, ans["topics"], strict=True):
        widths = [p.get_width() for p in a.containers[0]]
        assert widths == [k["weight"] for k in reversed(t["keywords"])]
        assert [tl.get_text() for tl in a.get_yticklabels()] == [
            k["word"] for k in reversed(t["keywords"])
        ]


def test_plot_into_a_given_axes(lake: dict[str, Any]) -> None:
    ans = lake["news"].search.cluster(auto_tune=True, max_clusters=4)
    fig = Figure()
    left, right = fig.subplots(1, 2)
    assert ans.plot(ax=right) is fig
    assert collections(right, "cluster-") and not left.collections  # the map only
    topics = lake["news"].search.topics(text_fields=["text"], num_topics=3)
    fig = Figure()
    only = fig.subplots()
    assert topics.plot(ax=only) is fig
    assert only not in fig.axes and len(fig.axes) == 3  # the grid took its place


def test_answers_from_the_wire_plot_the_same(lake: dict[str, Any]) -> None:
    ans = lake["news"].search.cluster(num_clusters=3)
    wire = ClusterResult(json.loads(json.dumps(ans)))  # what a remote client holds
    a, b = ans.plot().axes[0], wire.plot().axes[0]
    for ca, cb in zip(collections(a, ""), collections(b, ""), strict=True):
        assert np.array_equal(ca.get_offsets(), cb.get_offsets())


def test_without_a_projection_the_sizes_are_drawn(lake: dict[str, Any]) -> None:
    ans = dict(lake["news"].search.cluster(num_clusters=4))
    del ans["projection"]  # e.g. distributed k-means answers
    ax = ClusterResult(ans).plot().axes[0]
    (bars,) = ax.containers
    assert [p.get_height() for p in bars] == [c["count"] for c in ans["clusters"]]


def test_without_matplotlib_the_message_names_the_extra(
    lake: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    ans = TopicsResult(lake["news"].search.topics(text_fields=["text"], num_topics=2))
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r'pip install "eigenlake\[plot\]"'):
        ans.plot()
