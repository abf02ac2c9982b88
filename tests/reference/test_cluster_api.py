"""`run_cluster` against scikit-learn and hand-checkable cases, on snapshots built in memory."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import DBSCAN, KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score

from eigenlake.analysis._params import MAX_AUTO_TUNE_CLUSTERS, MAX_NUM_CLUSTERS
from eigenlake.analysis.autotune import SILHOUETTE_SAMPLE_SIZE
from eigenlake.analysis.cluster import run_cluster
from eigenlake.analysis.snapshot import Snapshot
from eigenlake.analysis.topics import run_topics
from eigenlake.errors import ValidationError

WORDS = ["kinase", "toxin", "lectin", "protease", "lipase", "globin"]


def blobs(n_per: list[int], dim: int = 16, spread: float = 0.08, seed: int = 1):
    """Unit vectors around orthogonal directions; truth labels; metadata naming the blob."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for c, m in enumerate(n_per):
        centre = np.zeros(dim)
        centre[c] = 1.0
        xs.append(centre + spread * rng.standard_normal((m, dim)))
        ys += [c] * m
    x = np.vstack(xs).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    y = np.array(ys)
    meta = [{"name": f"r{i}", "family": f"{WORDS[c]} family"} for i, c in enumerate(y)]
    return x, y, meta


def snap(x: np.ndarray, meta: list[dict] | None = None) -> Snapshot:
    meta = meta or [{} for _ in range(len(x))]
    return Snapshot(uuids=[f"u{i}" for i in range(len(x))], vectors=x, metadata=meta)


def labels_of(result: dict, n: int) -> np.ndarray:
    out = np.full(n, -1)
    for c in result["clusters"]:
        for m in c["members"]:
            out[int(m["uuid"][1:])] = c["cluster_id"]
    return out


def test_kmeans_recovers_blobs_like_sklearn() -> None:
    x, y, meta = blobs([60, 50, 40, 30])
    res = run_cluster(snap(x, meta), num_clusters=4)
    got = labels_of(res, len(x))
    ref = KMeans(4, n_init=10, random_state=0).fit_predict(x)
    assert adjusted_rand_score(y, got) == 1.0
    assert adjusted_rand_score(ref, got) == 1.0
    assert res["parameters"]["num_clusters"] == 4 and res["noise_count"] == 0
    assert res["silhouette"] == pytest.approx(silhouette_score(x, got, metric="cosine"), abs=1e-4)


def test_clusters_sorted_by_size_and_ids_are_ranks() -> None:
    x, _, meta = blobs([10, 40, 25, 70])
    res = run_cluster(snap(x, meta), num_clusters=4)
    counts = [c["count"] for c in res["clusters"]]
    assert counts == [70, 40, 25, 10]
    assert [c["cluster_id"] for c in res["clusters"]] == [0, 1, 2, 3]
    assert sorted(m["uuid"] for c in res["clusters"] for m in c["members"]) == sorted(
        f"u{i}" for i in range(len(x))
    )


def test_representatives_are_members_nearest_the_mean() -> None:
    x, _, meta = blobs([30, 30, 30])
    res = run_cluster(snap(x, meta), num_clusters=3, representatives_per_cluster=4)
    for c in res["clusters"]:
        rows = [int(m["uuid"][1:]) for m in c["members"]]
        mean = x[rows].astype(np.float64).mean(axis=0)
        d = 1 - x[rows] @ mean / np.linalg.norm(x[rows], axis=1) / np.linalg.norm(mean)
        best = [f"u{rows[i]}" for i in np.argsort(d, kind="stable")[:4]]
        reps = c["representatives"]
        assert [r["uuid"] for r in reps] == best
        assert [r["distance"] for r in reps] == pytest.approx(np.sort(d)[:4], abs=1e-5)
        assert reps[0]["metadata"] == meta[rows[np.argmin(d)]]


def test_euclidean_metric_matches_sklearn_kmeans() -> None:
    rng = np.random.default_rng(3)
    x = np.vstack([rng.normal(c, 0.3, (40, 5)) for c in (0.0, 5.0, 10.0)]).astype(np.float32)
    res = run_cluster(snap(x), num_clusters=3, distance_metric="euclidean")
    ref = KMeans(3, n_init=10, random_state=0).fit_predict(x)
    assert adjusted_rand_score(ref, labels_of(res, len(x))) == 1.0
    assert res["parameters"]["distance_metric"] == "euclidean"


def test_auto_tune_picks_the_true_k_by_silhouette() -> None:
    x, y, meta = blobs([50, 40, 30, 30, 20])
    res = run_cluster(snap(x, meta), auto_tune=True, min_clusters=2, max_clusters=8)
    p = res["parameters"]
    assert p["num_clusters"] == 5
    assert [s["num_clusters"] for s in p["scores"]] == list(range(2, 9))
    best = max(p["scores"], key=lambda s: s["silhouette"])
    assert best["num_clusters"] == 5 and res["silhouette"] == best["silhouette"]
    assert adjusted_rand_score(y, labels_of(res, len(x))) == 1.0


def test_auto_tune_samples_the_euclidean_silhouette_for_large_n() -> None:
    x, _, _ = blobs([1200, 1000], dim=8)
    res = run_cluster(
        snap(x), auto_tune=True, min_clusters=2, max_clusters=3, distance_metric="euclidean"
    )
    assert res["parameters"]["silhouette_sample_size"] == SILHOUETTE_SAMPLE_SIZE
    assert res["parameters"]["num_clusters"] == 2


def test_auto_tune_cosine_silhouette_is_exact_for_large_n() -> None:
    """Cosine silhouettes come from cluster sums (O(n·k·d)): exact at any size, no sample
    (they used to be estimated on 2,000 sampled rows above 2,000)."""
    x, _, _ = blobs([1400, 900, 700], dim=12, spread=0.3, seed=4)
    assert len(x) > SILHOUETTE_SAMPLE_SIZE
    res = run_cluster(snap(x), auto_tune=True, min_clusters=2, max_clusters=5)
    p = res["parameters"]
    assert p["silhouette_sample_size"] is None
    got = labels_of(res, len(x))
    exact = silhouette_score(x, got, metric="cosine")
    assert res["silhouette"] == pytest.approx(exact, rel=1e-4)
    # every k's score is exact too: rerun k-means at that k and ask scikit-learn
    for s in p["scores"]:
        fixed = run_cluster(snap(x), num_clusters=s["num_clusters"])
        assert fixed["parameters"]["silhouette_sample_size"] is None
        labels = labels_of(fixed, len(x))
        assert s["silhouette"] == pytest.approx(
            silhouette_score(x, labels, metric="cosine"), rel=1e-4
        )


def test_dbscan_cosine_silhouette_is_exact_for_large_n() -> None:
    x, _, _ = blobs([1300, 1100], dim=8, spread=0.05, seed=2)
    res = run_cluster(snap(x), algorithm="dbscan", dbscan_eps=0.05, dbscan_min_samples=5)
    assert res["parameters"]["silhouette_sample_size"] is None
    got = labels_of(res, len(x))
    kept = got >= 0
    assert res["silhouette"] == pytest.approx(
        silhouette_score(x[kept], got[kept], metric="cosine"), rel=1e-4
    )


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"auto_tune": True, "max_clusters": MAX_AUTO_TUNE_CLUSTERS + 1}, "max_clusters"),
        ({"auto_tune": True, "max_clusters": 10**9}, "max_clusters"),
        ({"auto_tune": True, "min_clusters": 10**9, "max_clusters": 10**9}, "min_clusters"),
        ({"max_clusters": 10**18}, "max_clusters"),
        ({"num_clusters": MAX_NUM_CLUSTERS + 1}, "num_clusters"),
        ({"num_clusters": 2**64}, "num_clusters"),
    ],
)
def test_cluster_counts_beyond_the_caps_are_refused(kwargs: dict, name: str) -> None:
    """auto_tune with max_clusters=10**9 used to try every k up to n-1 (~n^3 time)."""
    x, _, _ = blobs([5, 5])
    with pytest.raises(ValidationError, match=rf"{name} must be <= \d+") as info:
        run_cluster(snap(x), **kwargs)
    assert "MAX_" in str(info.value)


def test_auto_tune_at_the_cap_is_accepted_and_capped_at_the_rows() -> None:
    x, y, _ = blobs([6, 6, 6])
    res = run_cluster(snap(x), auto_tune=True, max_clusters=MAX_AUTO_TUNE_CLUSTERS)
    assert [s["num_clusters"] for s in res["parameters"]["scores"]] == list(range(2, 18))
    assert res["parameters"]["num_clusters"] == 3
    assert adjusted_rand_score(y, labels_of(res, len(x))) == 1.0
    res = run_cluster(snap(x), num_clusters=MAX_NUM_CLUSTERS)
    assert res["parameters"]["num_clusters"] <= len(x)


def test_dbscan_matches_sklearn_with_given_eps() -> None:
    x, _, meta = blobs([40, 30, 20], spread=0.05)
    rng = np.random.default_rng(9)
    noise = rng.standard_normal((10, 16)).astype(np.float32)
    x = np.vstack([x, noise / np.linalg.norm(noise, axis=1, keepdims=True)])
    res = run_cluster(snap(x), algorithm="dbscan", dbscan_eps=0.1, dbscan_min_samples=5)
    ref = DBSCAN(eps=0.1, min_samples=5, metric="cosine").fit_predict(x)
    got = labels_of(res, len(x))
    assert adjusted_rand_score(ref, got) == 1.0
    assert res["noise_count"] == int((ref == -1).sum())
    assert res["parameters"]["dbscan_eps"] == 0.1
    assert res["parameters"]["dbscan_eps_source"] == "given"


def test_dbscan_auto_eps_is_the_best_k_distance_candidate() -> None:
    from sklearn.neighbors import NearestNeighbors

    x, y, _ = blobs([40, 30, 20], spread=0.05)
    res = run_cluster(snap(x), algorithm="dbscan", dbscan_min_samples=5)
    p = res["parameters"]
    kd = NearestNeighbors(n_neighbors=5, metric="cosine").fit(x).kneighbors(x)[0][:, 4]
    assert p["dbscan_eps_source"].startswith("auto")
    assert np.isclose(kd, p["dbscan_eps"], atol=1e-5).any()
    # the chosen candidate is the best scored one, and each score is silhouette x coverage
    cands = p["dbscan_eps_candidates"]
    best = max((c for c in cands if c["score"] is not None), key=lambda c: c["score"])
    assert best["eps"] == pytest.approx(p["dbscan_eps"], abs=1e-6)
    for c in cands:
        if c["score"] is not None:
            assert c["score"] == pytest.approx(
                c["silhouette"] * (1 - c["noise_fraction"]), abs=1e-3
            )
    assert p["k_distance_quantiles"]["p50"] == pytest.approx(np.median(kd), abs=1e-5)
    assert p["num_clusters"] == 3


@pytest.mark.parametrize("algorithm", ["kmeans", "dbscan"])
def test_members_are_each_clusters_rows_in_row_order(algorithm: str) -> None:
    """The members (built by the core) against NumPy: the rows the projection labels with
    each cluster (an array of the answer computed apart from them), ascending; noise in
    none. Topics list the same members for the same clustering, without a projection."""
    x, _, meta = blobs([40, 30, 20], spread=0.05)
    rng = np.random.default_rng(9)
    noise = rng.standard_normal((10, 16)).astype(np.float32)
    x = np.vstack([x, noise / np.linalg.norm(noise, axis=1, keepdims=True)])
    res = run_cluster(snap(x, meta), algorithm=algorithm, num_clusters=3, dbscan_eps=0.1)
    of_row = np.array(res["projection"]["points"]["cluster_id"])
    assert res["projection"]["sample_size"] is None and len(of_row) == len(x)
    for c in res["clusters"]:
        want = [f"u{i}" for i in np.flatnonzero(of_row == c["cluster_id"])]
        assert [m["uuid"] for m in c["members"]] == want
        assert all(list(m) == ["uuid"] for m in c["members"])
    assert res["noise_count"] == int((of_row == -1).sum())
    if algorithm == "kmeans":
        texts = [{"t": m["family"]} for m in meta] + [{"t": "noise"}] * 10
        topics = run_topics(snap(x, texts), text_fields=["t"], num_topics=3)
        assert "projection" not in topics
        assert [t["members"] for t in topics["topics"]] == [c["members"] for c in res["clusters"]]


def test_dbscan_all_noise() -> None:
    x, _, _ = blobs([10, 10], spread=0.3)
    res = run_cluster(snap(x), algorithm="dbscan", dbscan_eps=1e-6, dbscan_min_samples=3)
    assert res["clusters"] == [] and res["noise_count"] == 20 and res["silhouette"] is None


def test_dbscan_fewer_rows_than_min_samples_is_all_noise() -> None:
    x, _, _ = blobs([3])
    res = run_cluster(snap(x), algorithm="dbscan", dbscan_min_samples=5)
    assert res["clusters"] == [] and res["noise_count"] == 3


def test_empty_snapshot() -> None:
    empty = Snapshot(uuids=[], vectors=np.zeros((0, 4), np.float32), metadata=[])
    for algorithm in ("kmeans", "dbscan"):
        res = run_cluster(empty, algorithm=algorithm, auto_tune=algorithm == "kmeans")
        assert res["clusters"] == [] and res["noise_count"] == 0
        assert res["parameters"]["num_clusters"] == 0


def test_fewer_rows_than_k_caps_k() -> None:
    x, _, _ = blobs([1, 1, 1])
    res = run_cluster(snap(x))
    assert res["parameters"]["num_clusters"] == 3
    assert res["parameters"]["num_clusters_requested"] is None
    assert sorted(c["count"] for c in res["clusters"]) == [1, 1, 1]


def test_default_k_is_eight() -> None:
    x, _, _ = blobs([20] * 6)
    assert run_cluster(snap(x))["parameters"]["num_clusters"] == 8


def test_same_seed_same_result_and_limit_cuts_rows() -> None:
    x, _, meta = blobs([30, 30, 30])
    a = run_cluster(snap(x, meta), num_clusters=3, seed=4)
    b = run_cluster(snap(x, meta), num_clusters=3, seed=4)
    assert a == b
    c = run_cluster(snap(x, meta), num_clusters=3, limit=45)
    assert c["parameters"]["num_records"] == 45
    assert sum(cl["count"] for cl in c["clusters"]) == 45


def test_text_fields_give_distinguishing_summaries() -> None:
    x, y, meta = blobs([30, 20, 10])
    res = run_cluster(snap(x, meta), num_clusters=3, text_fields=["family"])
    # "family" is in every record: boilerplate, dropped.
    assert [c["summary"] for c in res["clusters"]] == ["kinase", "toxin", "lectin"]
    kw = res["clusters"][0]["keywords"]
    assert kw[0]["word"] == "kinase" and kw[0]["weight"] > 0
    assert "summary" not in run_cluster(snap(x, meta), num_clusters=3)["clusters"][0]


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"algorithm": "hdbscan"}, "algorithm"),
        ({"distance_metric": "manhattan"}, "distance_metric"),
        ({"num_clusters": 0}, "num_clusters"),
        ({"num_clusters": 2.5}, "num_clusters"),
        ({"max_iterations": 0}, "max_iterations"),
        ({"representatives_per_cluster": -1}, "representatives_per_cluster"),
        ({"min_clusters": 1}, "min_clusters"),
        ({"min_clusters": 5, "max_clusters": 3}, "max_clusters"),
        ({"dbscan_eps": 0}, "dbscan_eps"),
        ({"dbscan_eps": "big"}, "dbscan_eps"),
        ({"dbscan_min_samples": 0}, "dbscan_min_samples"),
        ({"text_fields": [1]}, "text_fields"),
        ({"auto_tune": "yes"}, "auto_tune"),
        ({"limit": 0}, "limit"),
    ],
)
def test_bad_parameters_name_the_parameter(kwargs: dict, name: str) -> None:
    x, _, _ = blobs([5, 5])
    with pytest.raises(ValidationError, match=name):
        run_cluster(snap(x), **kwargs)


def test_results_are_plain_json() -> None:
    # The server sends these unchanged: no NumPy scalars anywhere.
    import json

    from eigenlake.analysis.outliers import run_outliers
    from eigenlake.analysis.topics import run_topics

    x, _, meta = blobs([20, 20], spread=0.05)
    for res in (
        run_cluster(snap(x, meta), auto_tune=True, text_fields=["family"]),
        run_cluster(snap(x, meta), algorithm="dbscan"),
        run_outliers(snap(x, meta), return_all=True),
        run_topics(snap(x, meta), text_fields=["family"]),
    ):
        assert json.loads(json.dumps(res)) == res


def test_identical_rows_form_one_cluster() -> None:
    x = np.ones((10, 4), np.float32)
    for kwargs in ({}, {"auto_tune": True}, {"algorithm": "dbscan"}):
        res = run_cluster(snap(x), **kwargs)
        assert [c["count"] for c in res["clusters"]] == [10] and res["silhouette"] is None
