"""The cosine silhouette is exact at every size (scikit-learn's value, whatever the seed);
the euclidean one is sampled only above SILHOUETTE_SAMPLE_SIZE rows. The members' distances
to their cluster's mean (representatives) agree with NumPy."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import silhouette_score

from eigenlake import _core
from eigenlake.analysis.autotune import SILHOUETTE_SAMPLE_SIZE
from eigenlake.analysis.cluster import run_cluster
from eigenlake.analysis.snapshot import Snapshot


def blobs(n: int, dim: int = 24, k: int = 6, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((k, dim))
    x = centres[rng.integers(0, k, n)] + 0.9 * rng.standard_normal((n, dim))
    return x.astype(np.float32)


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def snap(x: np.ndarray) -> Snapshot:
    return Snapshot([f"u{i}" for i in range(len(x))], x, [{} for _ in range(len(x))])


def labels_of(res: dict, n: int) -> np.ndarray:
    out = np.full(n, -1)
    for c in res["clusters"]:
        for m in c["members"]:
            out[int(m["uuid"][1:])] = c["cluster_id"]
    return out


def test_cosine_silhouette_of_3000_rows_is_sklearns() -> None:
    x = unit(blobs(3000))
    assert len(x) > SILHOUETTE_SAMPLE_SIZE  # past the size a sample would have been used
    res = run_cluster(snap(x), num_clusters=6)
    assert res["parameters"]["silhouette_sample_size"] is None  # exact
    want = silhouette_score(x.astype(np.float64), labels_of(res, len(x)), metric="cosine")
    assert res["silhouette"] == pytest.approx(want, abs=1e-5)


def test_rows_not_unit_length_too() -> None:
    x = blobs(2500, seed=3) * 5.0  # a euclidean index's rows, clustered by cosine
    labels = np.arange(len(x)) % 4
    want = silhouette_score(x.astype(np.float64), labels, metric="cosine")
    assert _core.silhouette(x, labels, "cosine") == pytest.approx(want, abs=1e-5)


def test_the_cosine_score_does_not_depend_on_the_seed() -> None:
    x = unit(blobs(3000, seed=1))
    labels = (np.arange(len(x)) * 7) % 5
    scores = {_core.silhouette(x, labels, "cosine", seed=s) for s in range(4)}
    assert len(scores) == 1
    # run_cluster: the seed moves k-means, not how its partition is scored
    for seed in (0, 5):
        res = run_cluster(snap(x), num_clusters=5, seed=seed)
        want = silhouette_score(x.astype(np.float64), labels_of(res, len(x)), metric="cosine")
        assert res["silhouette"] == pytest.approx(want, abs=1e-5)


def test_auto_tune_scores_every_k_exactly() -> None:
    x = unit(blobs(2600, seed=2))
    res = run_cluster(snap(x), auto_tune=True, min_clusters=2, max_clusters=5)
    params = res["parameters"]
    assert params["silhouette_sample_size"] is None
    for s in params["scores"]:
        labels, *_ = _core.kmeans(x, s["num_clusters"], max_iter=50, seed=0)
        want = silhouette_score(x.astype(np.float64), labels, metric="cosine")
        assert s["silhouette"] == pytest.approx(want, abs=1e-5)
    best = max(params["scores"], key=lambda s: s["silhouette"])
    assert params["num_clusters"] == best["num_clusters"]


def test_euclidean_is_sampled_above_the_documented_size() -> None:
    x = blobs(SILHOUETTE_SAMPLE_SIZE + 500, seed=4)
    res = run_cluster(snap(x), num_clusters=4, distance_metric="euclidean")
    assert res["parameters"]["silhouette_sample_size"] == SILHOUETTE_SAMPLE_SIZE
    small = run_cluster(snap(x[:1500]), num_clusters=4, distance_metric="euclidean")
    assert small["parameters"]["silhouette_sample_size"] is None
    want = silhouette_score(x[:1500].astype(np.float64), labels_of(small, 1500))
    assert small["silhouette"] == pytest.approx(want, abs=1e-5)


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_centre_distances_are_numpys(metric: str) -> None:
    x = blobs(1200, dim=40, seed=5)
    labels = np.where(np.arange(len(x)) % 9 == 0, -1, np.arange(len(x)) % 5 * 3)
    got = _core.centre_distances(x, labels, metric)
    for lab in np.unique(labels):
        rows = np.flatnonzero(labels == lab)
        if lab < 0:
            assert np.isnan(got[rows]).all()
            continue
        m = x[rows].astype(np.float64)
        centre = m.mean(axis=0)
        if metric == "cosine":
            want = 1 - m @ centre / np.linalg.norm(m, axis=1) / np.linalg.norm(centre)
        else:
            want = np.linalg.norm(m - centre, axis=1)
        np.testing.assert_allclose(got[rows], want, rtol=0, atol=1e-12)


def test_centre_distances_refuse_non_finite_rows() -> None:
    x = blobs(50)
    x[7, 3] = np.nan
    for labels in (np.zeros(50, np.int64), np.full(50, -1)):  # noise rows are checked too
        with pytest.raises(ValueError, match="NaN"):
            _core.centre_distances(x, labels, "cosine")
    with pytest.raises(ValueError):
        _core.centre_distances(blobs(5), np.zeros(4, np.int64))


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_silhouette_refuses_non_finite_rows_in_one_pass(metric: str) -> None:
    # the core finds them in its own pass over the rows (the binding does not scan)
    x = blobs(60).astype(np.float64)
    labels = np.arange(60) % 3
    for bad in (np.nan, np.inf, 1e300):  # 1e300: beyond float32, infinite on the way in
        y = x.copy()
        y[41, 2] = bad
        for fn, extra in (
            (_core.silhouette, {}),
            (_core.silhouette, {"sample_size": 10, "seed": 1}),
            (_core.silhouette_samples, {}),
        ):
            with pytest.raises(ValueError, match="`x`.*NaN or infinity.*float32 range"):
                fn(y, labels, metric, **extra)
    big = (x * 1e19).astype(np.float32)  # finite, though squared norms overflow: not refused
    _core.silhouette(big, labels, metric)


def test_representatives_at_scale_are_the_nearest_members() -> None:
    x = unit(blobs(4000, seed=6))
    res = run_cluster(snap(x), num_clusters=6, representatives_per_cluster=5)
    for c in res["clusters"]:
        rows = np.array([int(m["uuid"][1:]) for m in c["members"]])
        m = x[rows].astype(np.float64)
        mean = m.mean(axis=0)
        d = 1 - m @ mean / np.linalg.norm(m, axis=1) / np.linalg.norm(mean)
        best = [f"u{rows[i]}" for i in np.argsort(d, kind="stable")[:5]]
        assert [r["uuid"] for r in c["representatives"]] == best
        assert [r["distance"] for r in c["representatives"]] == pytest.approx(
            np.sort(d)[:5], abs=1e-9
        )
