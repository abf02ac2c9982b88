"""Cookbook 4 (topic modelling in depth), on the bundled Reuters news: topics by spherical
k-means over MiniLM vectors, keywords by c-TF-IDF, a custom vectorizer and a labeller hook.

The news arrive with their precomputed MiniLM vectors (`tests/data/news_minilm384_f16.npy`)
and their desk label (earn, acq, crude, ...), which the analysis never sees: afterwards the
script measures how well the topics match the desks (purity, ARI). The vectorizer drops
wire-service filler ("said", "mln", "dlrs", ...) and counts two-word phrases; the
`labeller=` hook names each topic from its keywords and representatives; that function is
where a call to a language model would go. The topic plot is written to out/.

Usage: `python examples/cookbook_topic_modelling.py [--limit N] [--topics K] [--out DIR]
[--url URL --api-key KEY]` (embedded by default; seconds on the bundled data).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import gzip
import shutil
from pathlib import Path
from typing import Any

import numpy as np

import eigenlake
from _metrics import adjusted_rand_index, purity
from eigenlake import schema as s

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
# Reuters wire filler: frequent in every desk's stories, so no topic's keyword
FILLER = ["said", "mln", "dlrs", "pct", "vs", "cts", "reuter", "billion", "year", "would"]
VECTORIZER = {"extra_stop_words": FILLER, "ngram_range": [1, 2], "min_df": 2}


def labeller(keywords: list[str], representatives: list[dict[str, Any]]) -> str:
    """A topic's name from its keywords (and, if wanted, its representative records).

    With a language model, this is where the call goes, e.g.::

        prompt = f"Name this news topic in three words. Keywords: {keywords[:10]}. " \\
                 f"Headlines: {[r['metadata']['text'][:80] for r in representatives]}"
        return llm.complete(prompt).strip()

    Here: the two best keywords, a phrase first if one made the list.
    """
    phrases = [k for k in keywords if " " in k]
    words = [k for k in keywords if " " not in k]
    picked = (phrases[:1] + words)[:2]
    return " / ".join(picked) if picked else "misc"


def load_news(limit: int | None) -> tuple[list[dict[str, str]], np.ndarray]:
    with gzip.open(DATA / "news.tsv.gz", "rt", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))[:limit]
    vectors = np.load(DATA / "news_minilm384_f16.npy")[: len(rows)].astype(np.float32)
    return rows, vectors


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=None, help="first N news texts (default all)")
    ap.add_argument("--topics", type=int, default=8, help="number of topics (R8 has 8 desks)")
    ap.add_argument("--out", default=str(REPO / "out"))
    ap.add_argument("--url", default=None, help="a server (eigenlake serve) instead")
    ap.add_argument("--api-key", default=None)
    args = ap.parse_args(argv)

    rows, vectors = load_news(args.limit)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "topics-lake"
    if args.url is None:
        shutil.rmtree(path, ignore_errors=True)
    connect = (
        eigenlake.connect(url=args.url, api_key=args.api_key)
        if args.url
        else eigenlake.connect(path=str(path))
    )
    schema, index_options = (
        s.SchemaBuilder(additional_properties=False)
        .add("doc_id", s.string(required=True, filterable=True))
        .add("desk", s.string(filterable=True))  # the known label, for evaluation only
        .add("text", s.string(filterable=False))
        .build()
    )
    with connect as client:
        if args.url:
            with contextlib.suppress(eigenlake.NotFoundError):
                client.indexes.delete(namespace="cookbook-04", index="news")
        idx = client.indexes.create_or_get(
            namespace="cookbook-04",
            index="news",
            dimensions=vectors.shape[1],
            schema=schema,
            index_options=index_options,
            record_id_property="doc_id",
        )
        idx.records.add_many(
            {
                "doc_id": [r["id"] for r in rows],
                "desk": [r["label"] for r in rows],
                "text": [r["text"] for r in rows],
            },
            vectors=vectors,
        )
        print(f"{idx.records.count():,} news stories stored")

        plain = idx.search.topics(text_fields=["text"], num_topics=args.topics, limit=None)
        res = idx.search.topics(
            text_fields=["text"],
            num_topics=args.topics,
            limit=None,
            vectorizer=VECTORIZER,
            labeller=labeller,
        )
        print("\ndefault keywords of the largest topic:", _words(plain["topics"][0]))
        print(f"with the vectorizer {VECTORIZER}:")
        # members are uuids: their desk from one pass over the records
        desk_of = {o["uuid"]: o["metadata"]["desk"] for o in idx.search.iterate()}
        truth: list[str] = []
        pred: list[int] = []
        for t in res["topics"]:
            desks = [desk_of[m["uuid"]] for m in t["members"]]
            top = max(set(desks), key=desks.count)
            print(
                f"  topic {t['topic_id']}: {t['count']:>5} stories  {t['label']!r:28}"
                f" mostly {top} ({desks.count(top) / len(desks):.0%})  {_words(t)[:5]}"
            )
            truth += desks
            pred += [t["topic_id"]] * len(desks)
        ari, pur = adjusted_rand_index(truth, pred), purity(truth, pred)
        print(f"\nagreement with the 8 desks: purity {pur:.3f}, ARI {ari:.3f}")

        # Topics of one slice only: the filter narrows the records analysed
        crude = idx.search.topics(
            text_fields=["text"],
            num_topics=3,
            filter={"desk": "crude"},
            limit=None,
            vectorizer=VECTORIZER,
            labeller=labeller,
        )
        print("topics inside the crude desk:", [t["label"] for t in crude["topics"]])
        if isinstance(res.get("usage"), dict):
            print(f"usage: {res['usage']}")

        figure = out_dir / "cookbook_topics.png"
        try:
            res.plot().savefig(figure, dpi=110, bbox_inches="tight")
            print(f"plot: {figure}")
        except ImportError as e:  # matplotlib is the [plot] extra
            print(f"no plot ({e})")
    return {
        "topics": res["topics"],
        "plain": plain["topics"],
        "purity": pur,
        "ari": ari,
        "desk_of": desk_of,
        "figure": figure,
    }


def _words(topic: dict[str, Any]) -> list[str]:
    return [k["word"] for k in topic["keywords"]]


if __name__ == "__main__":
    main()
