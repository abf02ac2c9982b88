"""Topics on Reuters R8 (MiniLM embeddings): time, NMI against the labels, keywords per topic.

NMI here is plain NumPy (arithmetic normalisation, scikit-learn's default); the reference
test `tests/reference/test_topics_news.py` checks it with scikit-learn.
Usage: `.venv/bin/python benches/bench_topics_news.py [--data ../shared/data]`.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import time
from pathlib import Path

import numpy as np

from eigenlake.analysis.snapshot import Snapshot
from eigenlake.analysis.topics import run_topics

REPO = Path(__file__).resolve().parents[1]


def nmi(a: list[str], b: list[int]) -> float:
    _, ia = np.unique(a, return_inverse=True)
    _, ib = np.unique(b, return_inverse=True)
    joint = np.zeros((ia.max() + 1, ib.max() + 1))
    np.add.at(joint, (ia, ib), 1)
    p = joint / joint.sum()
    pa, pb = p.sum(axis=1), p.sum(axis=0)
    nz = p > 0
    mi = float((p[nz] * np.log(p[nz] / np.outer(pa, pb)[nz])).sum())

    def h(q: np.ndarray) -> float:
        return float(-(q[q > 0] * np.log(q[q > 0])).sum())

    return mi / ((h(pa) + h(pb)) / 2)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data"))
    args = ap.parse_args()
    d = Path(args.data)
    with gzip.open(d / "news.tsv.gz", "rt", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    snap = Snapshot(
        uuids=[r["id"] for r in rows], vectors=np.load(d / "news_minilm384.npy"), metadata=rows
    )
    # Seed sensitivity of the auto-tuned run: k-means starts and the k chosen move with it.
    per_seed = []
    for seed in range(5):
        res = run_topics(snap, text_fields=["text"], max_topics=12, seed=seed)
        topic = {m["uuid"]: tp["topic_id"] for tp in res["topics"] for m in tp["members"]}
        score = nmi([r["label"] for r in rows], [topic[u] for u in snap.uuids])
        per_seed.append((seed, res["parameters"]["num_topics"], score))
    print("\n| seed | k chosen | NMI |\n| ---: | ---: | ---: |")
    for seed, k, score in per_seed:
        print(f"| {seed} | {k} | {score:.3f} |")
    scores = [s for _, _, s in per_seed]
    print(
        f"\nNMI over seeds: mean {np.mean(scores):.3f}, min {min(scores):.3f}, max {max(scores):.3f}"
    )
    for kw in ({"max_topics": 12}, {"num_topics": 8}):
        t = time.perf_counter()
        res = run_topics(snap, text_fields=["text"], **kw)  # type: ignore[arg-type]
        secs = time.perf_counter() - t
        topic = {m["uuid"]: tp["topic_id"] for tp in res["topics"] for m in tp["members"]}
        score = nmi([r["label"] for r in rows], [topic[u] for u in snap.uuids])
        print(f"\n### {kw}: k={res['parameters']['num_topics']}, NMI {score:.3f}, {secs:.2f} s\n")
        print("| topic | count | majority label | keywords |\n| ---: | ---: | --- | --- |")
        for tp in res["topics"]:
            labels = [r["label"] for r in rows if topic[r["id"]] == tp["topic_id"]]
            major = max(set(labels), key=labels.count)
            share = labels.count(major) / len(labels)
            words = ", ".join(k["word"] for k in tp["keywords"])
            print(f"| {tp['topic_id']} | {tp['count']} | {major} ({share:.0%}) | {words} |")


if __name__ == "__main__":
    main()
