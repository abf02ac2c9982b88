"""Cookbook 3 (anomaly detection in depth), on the bundled cardiotocography benchmark:
Local Outlier Factor over the records of an index, scored against known labels.

`tests/data/cardio.npz` holds 1,831 foetal heart-rate recordings (21 standardised features)
of which 176 are pathologic: the known anomalies (ODDS/ADBench "cardio"). The labels are
stored as a property but never used by the analysis; afterwards the script measures how well
the LOF scores rank the pathologic recordings first: ROC-AUC and precision at k (k = the
number of known anomalies), computed with NumPy. It then shows `return_all` (every record
with its score), `contamination` (the share flagged) and a filtered run (`filter=`).

Usage: `python examples/cookbook_anomaly_detection.py [--limit N] [--path DIR | --url URL
--api-key KEY]` (embedded by default; a few seconds).
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
from pathlib import Path
from typing import Any

import numpy as np

import eigenlake
from eigenlake import schema as s

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data" / "cardio.npz"


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """ROC-AUC as the Mann-Whitney U statistic: the chance that a random anomaly scores
    above a random normal record (ties count half), from average ranks."""
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    ranks = ((ends - counts + 1 + ends) / 2.0)[inverse]  # 1-based, ties share their mean
    pos = labels == 1
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def precision_at_k(labels: np.ndarray, scores: np.ndarray, k: int) -> float:
    """Share of known anomalies among the ``k`` highest scores."""
    top = np.argsort(-scores, kind="stable")[:k]
    return float(labels[top].mean())


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--limit", type=int, default=None, help="a random N of the recordings (default all)"
    )
    # pathologic recordings come in groups of dozens: a neighbourhood smaller than a group
    # sees a group as "normal" (the sweep below shows it)
    ap.add_argument("--neighbors", type=int, default=100)
    ap.add_argument("--path", default=str(REPO / "out" / "anomaly-lake"))
    ap.add_argument("--url", default=None, help="a server (eigenlake serve) instead")
    ap.add_argument("--api-key", default=None)
    args = ap.parse_args(argv)

    data = np.load(DATA)
    keep = np.arange(len(data["y"]))
    if args.limit is not None:  # the file lists the anomalies last: sample, do not cut
        keep = np.sort(np.random.default_rng(0).permutation(keep)[: args.limit])
    x = data["X"][keep].astype(np.float32)
    y = data["y"][keep].astype(np.int64)
    print(f"{len(x):,} recordings x {x.shape[1]} features, {int(y.sum())} known anomalies")

    if args.url is None:
        shutil.rmtree(args.path, ignore_errors=True)
    connect = (
        eigenlake.connect(url=args.url, api_key=args.api_key)
        if args.url
        else eigenlake.connect(path=args.path)
    )
    schema, index_options = (
        s.SchemaBuilder(additional_properties=False)
        .add("recording", s.integer(required=True, filterable=True))
        .add("pathologic", s.boolean(filterable=True))  # the label, for evaluation only
        .add("variability", s.string(filterable=True))  # a segment to filter on
        .build()
    )
    # LOF on the features as they are: euclidean distances, no normalisation
    index_options["distance_metric"] = "euclidean"
    # feature 0 is the baseline heart rate; split the recordings at its median
    band = np.where(x[:, 0] >= np.median(x[:, 0]), "high-baseline", "low-baseline")
    with connect as client:
        if args.url:
            with contextlib.suppress(eigenlake.NotFoundError):
                client.indexes.delete(namespace="cookbook-03", index="cardio")
        idx = client.indexes.create_or_get(
            namespace="cookbook-03",
            index="cardio",
            dimensions=x.shape[1],
            schema=schema,
            index_options=index_options,
            record_id_property="recording",
        )
        idx.records.add_many(
            {
                "recording": np.arange(len(x)),
                "pathologic": y.astype(bool),
                "variability": band,
            },
            vectors=x,
        )

        # Every record with its LOF score: return_all, no limit
        res = idx.search.outliers(
            limit=None,
            n_neighbors=args.neighbors,
            distance_metric="euclidean",
            return_all=True,
        )
        rows = res["outliers"]
        recording = np.array([r["metadata"]["recording"] for r in rows])
        scores = np.empty(len(x), dtype=np.float64)
        scores[recording] = [r["score"] for r in rows]
        auc = roc_auc(y, scores)
        k = int(y.sum())
        p_at_k = precision_at_k(y, scores, k)
        flagged = int(sum(r["is_outlier"] for r in rows))
        print(f"\nLOF (k={args.neighbors}) over all {len(rows):,} recordings:")
        print(f"  ROC-AUC of the scores vs the labels: {auc:.3f} (0.5 = chance)")
        print(f"  precision@{k}: {p_at_k:.3f} (base rate {y.mean():.3f})")
        print(f"  flagged by contamination='auto': {flagged}")
        print("  top 5:")
        for r in rows[:5]:
            meta = r["metadata"]
            print(
                f"    recording {meta['recording']:>4}  LOF {r['score']:.2f}  "
                f"pathologic={meta['pathologic']}"
            )

        # How the neighbourhood size changes the ranking
        sweep = {}
        for nn in (20, 50, 100, 200):
            if nn >= len(x):
                continue
            r = idx.search.outliers(
                limit=None, n_neighbors=nn, distance_metric="euclidean", return_all=True
            )["outliers"]
            sc = np.empty(len(x))
            sc[[o["metadata"]["recording"] for o in r]] = [o["score"] for o in r]
            sweep[nn] = roc_auc(y, sc)
        print("  ROC-AUC by n_neighbors: " + ", ".join(f"{k}: {v:.3f}" for k, v in sweep.items()))

        # A fixed share flagged, the most unusual first
        top = idx.search.outliers(
            limit=None,
            n_neighbors=args.neighbors,
            distance_metric="euclidean",
            contamination=0.1,
        )
        hit = np.mean([o["metadata"]["pathologic"] for o in top["outliers"]])
        print(f"\ncontamination=0.1: {top['outlier_count']} flagged, {hit:.0%} of them pathologic")

        # Outliers within one segment only
        seg = idx.search.outliers(
            filter={"variability": "high-baseline"},
            limit=None,
            n_neighbors=args.neighbors,
            distance_metric="euclidean",
            return_all=True,
        )
        in_seg = band == "high-baseline"
        seg_scores = np.array([o["score"] for o in seg["outliers"]])
        seg_y = np.array([o["metadata"]["pathologic"] for o in seg["outliers"]], dtype=np.int64)
        seg_auc = roc_auc(seg_y, seg_scores) if 0 < seg_y.sum() < len(seg_y) else float("nan")
        print(f"within high-baseline recordings ({int(in_seg.sum())}): ROC-AUC {seg_auc:.3f}")
        if isinstance(res.get("usage"), dict):
            print(f"usage of the full run: {res['usage']}")
    return {
        "auc": auc,
        "precision_at_k": p_at_k,
        "k": k,
        "scores": scores,
        "x": x,
        "y": y,
        "segment_auc": seg_auc,
        "sweep": sweep,
        "flagged": flagged,
        "neighbors": args.neighbors,
    }


if __name__ == "__main__":
    main()
