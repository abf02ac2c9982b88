"""The pictures of the analyses (``answer.plot()``), drawn from the bundled data.

Writes five PNGs (default: docs/img/) from an embedded index in a temporary directory:

- ``cluster.png``: k-means (k = 8) over the first 2,000 of the 7,674 Reuters news texts
  (MiniLM embeddings from tests/data), keywords from the texts;
- ``cluster_autotune.png``: auto-tuned k-means (k in 8..15) over the bundled toxin proteins
  (k-mer embeddings, as in examples/cookbook_clustering.py), with silhouette by k;
- ``dbscan.png``: DBSCAN with automatic eps over the same proteins (length >= 100), with the
  k-distance curve: many clusters and the noise;
- ``outliers.png``: LOF over the cardiotocography benchmark (tests/data/cardio.npz);
- ``topics.png``: topics of all the news texts (auto-tuned number of topics).

Usage: ``python examples/plots_tour.py [--out DIR]``. Needs matplotlib (``eigenlake[plot]``).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

import eigenlake
from eigenlake.embed import ProteinEmbedder, load_proteins

REPO = Path(__file__).resolve().parents[1]
TEST_DATA = REPO / "tests" / "data"
NEWS_CLUSTERED = 2000  # cluster.png: a map with fewer points reads better


def news(client: Any) -> Any:
    """An index of the news texts with their MiniLM embeddings."""
    with gzip.open(TEST_DATA / "news.tsv.gz", "rt", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    x = np.load(TEST_DATA / "news_minilm384_f16.npy").astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    idx = client.indexes.create_or_get(namespace="tour", index="news", dimensions=x.shape[1])
    idx.records.add_many(
        [
            {
                "properties": {"document_id": r["id"], "desk": r["label"], "text": r["text"]},
                "vector": v,
            }
            for r, v in zip(rows, x, strict=True)
        ]
    )
    return idx


def proteins(client: Any) -> Any:
    """The bundled toxin proteins, embedded by the shipped k-mer embedder."""
    rows = load_proteins(REPO / "data" / "proteins.tsv.gz")
    embed = ProteinEmbedder(320)
    idx = client.indexes.create_or_get(namespace="tour", index="proteins", dimensions=320)
    idx.records.add_many(
        [
            {
                "properties": {
                    "accession": r["accession"],
                    "family": r["family"],
                    "length": int(r["length"]),
                },
                "vector": embed(r["sequence"]),
            }
            for r in rows
        ]
    )
    return idx


def cardio(client: Any) -> Any:
    """The cardiotocography records (21 features; a euclidean index: magnitudes matter)."""
    data = np.load(TEST_DATA / "cardio.npz")
    x, y = data["X"].astype(np.float32), data["y"]
    idx = client.indexes.create_or_get(
        namespace="tour",
        index="cardio",
        dimensions=x.shape[1],
        index_options={"distance_metric": "euclidean"},
    )
    idx.records.add_many(
        [
            {
                "properties": {
                    "record": f"CTG {i}",
                    "diagnosis": "pathologic" if label else "normal",
                },
                "vector": v,
            }
            for i, (v, label) in enumerate(zip(x, y, strict=True))
        ]
    )
    return idx


def save(answer: Any, path: Path) -> None:
    t = time.perf_counter()
    fig = answer.plot()
    fig.savefig(path)
    print(f"{path.name}: {answer!r} ({time.perf_counter() - t:.1f} s to draw)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "img")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as lake, eigenlake.connect(path=lake) as client:
        nidx = news(client)
        # the first NEWS_CLUSTERED texts (the log says so: a limit that leaves rows out)
        km = nidx.search.cluster(num_clusters=8, text_fields=["text"], limit=NEWS_CLUSTERED)
        save(km, args.out / "cluster.png")
        save(nidx.search.topics(text_fields=["text"], limit=None), args.out / "topics.png")

        pidx = proteins(client)
        long = {"length": {"$gte": 100}}
        tuned = pidx.search.cluster(
            filter=long, limit=None, auto_tune=True, min_clusters=8, max_clusters=15,
            text_fields=["family"],
        )  # fmt: skip
        save(tuned, args.out / "cluster_autotune.png")
        db = pidx.search.cluster(
            filter=long, limit=None, algorithm="dbscan", dbscan_min_samples=5,
            text_fields=["family"],
        )  # fmt: skip
        save(db, args.out / "dbscan.png")

        cidx = cardio(client)
        out = cidx.search.outliers(limit=None, distance_metric="euclidean", return_all=True)
        save(out, args.out / "outliers.png")


if __name__ == "__main__":
    main()
