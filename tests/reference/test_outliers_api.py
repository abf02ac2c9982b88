"""`run_outliers` against scikit-learn's LocalOutlierFactor."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.neighbors import LocalOutlierFactor

from eigenlake.analysis.outliers import run_outliers
from eigenlake.analysis.snapshot import Snapshot
from eigenlake.errors import ValidationError


def snap(x: np.ndarray) -> Snapshot:
    x = np.ascontiguousarray(x, dtype=np.float32)
    return Snapshot(
        uuids=[f"u{i}" for i in range(len(x))],
        vectors=x,
        metadata=[{"row": i} for i in range(len(x))],
    )


def rows_of(result: dict) -> list[int]:
    return [int(o["uuid"][1:]) for o in result["outliers"]]


@pytest.fixture(scope="module")
def cardio(test_data: Path) -> np.ndarray:
    x = np.load(test_data / "cardio.npz")["X"]
    return x.astype(np.float32)


@pytest.mark.parametrize("contamination", ["auto", 0.1])
def test_matches_sklearn_on_cardio(cardio: np.ndarray, contamination: float | str) -> None:
    ref = LocalOutlierFactor(n_neighbors=20, contamination=contamination, algorithm="brute")
    ref_flags = ref.fit_predict(cardio) == -1
    nof = ref.negative_outlier_factor_
    res = run_outliers(
        snap(cardio), distance_metric="euclidean", contamination=contamination, return_all=True
    )
    scores = np.empty(len(cardio))
    flags = np.empty(len(cardio), dtype=bool)
    for o in res["outliers"]:
        scores[int(o["uuid"][1:])] = o["score"]
        flags[int(o["uuid"][1:])] = o["is_outlier"]
    np.testing.assert_allclose(scores, -nof, rtol=1e-4)
    assert (flags != ref_flags).sum() <= 2  # float32 vs float64 at the threshold
    assert res["parameters"]["offset"] == pytest.approx(ref.offset_, rel=1e-4)
    assert res["outlier_count"] == flags.sum()


def test_flagged_only_and_ranked_by_score() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 8))
    x[:3] *= 6  # three far-away points
    res = run_outliers(snap(x), distance_metric="euclidean", n_neighbors=10)
    got = res["outliers"]
    assert set(rows_of(res)[:3]) == {0, 1, 2}
    assert all(o["is_outlier"] for o in got) and len(got) == res["outlier_count"]
    assert [o["score"] for o in got] == sorted((o["score"] for o in got), reverse=True)
    assert got[0]["metadata"] == {"row": rows_of(res)[0]}


def test_cosine_metric_matches_sklearn() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((120, 6))
    res = run_outliers(snap(x), n_neighbors=15, return_all=True, max_results=10)
    nof = (
        LocalOutlierFactor(n_neighbors=15, metric="cosine", algorithm="brute")
        .fit(x)
        .negative_outlier_factor_
    )
    assert rows_of(res) == np.argsort(nof, kind="stable")[:10].tolist()


def test_small_inputs_cap_neighbours() -> None:
    x = np.eye(4)
    res = run_outliers(snap(x), n_neighbors=20, return_all=True)
    assert res["parameters"]["n_neighbors"] == 3 and len(res["outliers"]) == 4
    assert run_outliers(snap(x[:1]))["outliers"] == []


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"n_neighbors": 0}, "n_neighbors"),
        ({"contamination": 0.9}, "contamination"),
        ({"contamination": "most"}, "contamination"),
        ({"distance_metric": "l1"}, "distance_metric"),
        ({"n_neighbors": True}, "n_neighbors"),
        ({"n_neighbors": 2**64}, "n_neighbors"),
        ({"contamination": np.array([0.1, 0.2])}, "contamination"),  # was a bare ValueError
        ({"return_all": "yes"}, "return_all"),
        ({"return_all": 1}, "return_all"),
        ({"max_results": -1}, "max_results"),
        ({"max_results": True}, "max_results"),
        ({"limit": 0}, "limit"),
    ],
)
def test_bad_parameters_name_the_parameter(kwargs: dict, name: str) -> None:
    with pytest.raises(ValidationError, match=name):
        run_outliers(snap(np.eye(5)), **kwargs)


def test_return_all_lists_every_record_ranked() -> None:
    rng = np.random.default_rng(3)
    x = np.vstack([rng.standard_normal((40, 3)) * 0.1, [[5, 5, 5], [-4, 6, 0]]])
    flagged = run_outliers(snap(x), n_neighbors=5, distance_metric="euclidean")
    every = run_outliers(snap(x), n_neighbors=5, distance_metric="euclidean", return_all=True)
    assert len(every["outliers"]) == len(x) and every["outlier_count"] == flagged["outlier_count"]
    scores = [o["score"] for o in every["outliers"]]
    assert scores == sorted(scores, reverse=True)
    n_flagged = flagged["outlier_count"]
    assert rows_of(every)[:2] == [40, 41] and rows_of(flagged) == rows_of(every)[:n_flagged]
    assert [o["is_outlier"] for o in every["outliers"]] == [True] * n_flagged + [False] * (
        len(x) - n_flagged
    )
    cut = run_outliers(
        snap(x), n_neighbors=5, distance_metric="euclidean", return_all=True, max_results=7
    )
    assert rows_of(cut) == rows_of(every)[:7] and cut["parameters"]["max_results"] == 7
    assert cut["parameters"]["return_all"] is True
