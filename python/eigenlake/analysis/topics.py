"""``search.topics``: spherical k-means over the embeddings + c-TF-IDF keywords per topic.

A topic is a k-means cluster (cosine) described by the words that distinguish its records'
``text_fields`` from the other topics' (see ``ctfidf``). Without ``num_topics`` and with
``auto_tune`` (the default) the number of topics is the one in [min_topics, max_topics] whose
keywords score best on topic quality (coherence x diversity, see ``topic_quality``); each k
keeps the best of ``TUNE_RESTARTS`` seeded k-means runs (lowest inertia), because one run's
local optimum moves the score more than the gap between neighbouring ks. Without either,
k is 8. Topics are sorted by size, largest first.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _core
from ..api.checks import check_bool, check_int
from ..errors import ValidationError
from ._params import MAX_AUTO_TUNE_CLUSTERS, MAX_NUM_CLUSTERS, check_text_fields
from .autotune import silhouette
from .cancel import check as check_cancelled
from .cluster import DEFAULT_NUM_CLUSTERS, run_cluster
from .snapshot import Snapshot
from .topic_quality import Corpus
from .vectorizer import Vectorizer, make_vectorizer

TUNE_RESTARTS = 3


def run_topics(
    snapshot: Snapshot,
    *,
    text_fields: list[str] | str,
    num_topics: int | None = None,
    auto_tune: bool = True,
    min_topics: int = 2,
    max_topics: int = 12,
    top_words: int = 10,
    representatives_per_topic: int = 3,
    max_iterations: int = 50,
    bigrams: bool = False,
    vectorizer: Any = None,
    seed: int = 0,
    filter: dict[str, Any] | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """Topics of the snapshot: ``{"topics": [...], "parameters": {...}, "silhouette": ...}``."""
    fields = check_text_fields(text_fields)
    if not fields:
        raise ValidationError("text_fields must name at least one text property")
    k = check_int("num_topics", num_topics, minimum=1, maximum=MAX_NUM_CLUSTERS, optional=True)
    auto_tune = check_bool("auto_tune", auto_tune) and k is None
    min_k = _renamed("min_topics", min_topics)
    max_k = _renamed("max_topics", max_topics)
    if max_k < min_k:
        raise ValidationError(f"max_topics ({max_k}) must be >= min_topics ({min_k})")
    max_iterations = check_int("max_iterations", max_iterations, minimum=1) or 1
    seed = check_int("seed", seed, minimum=0) or 0
    limit = check_int("limit", limit, minimum=1, optional=True)
    vec = make_vectorizer(vectorizer, bigrams=check_bool("bigrams", bigrams))
    top_words = check_int("top_words", top_words, minimum=1) or 1
    representatives_per_topic = (
        check_int("representatives_per_topic", representatives_per_topic, minimum=0) or 0
    )
    scores: list[dict[str, Any]] = []
    run_seed = seed
    requested = k
    selection = None
    n = len(snapshot) if limit is None else min(limit, len(snapshot))
    if auto_tune and n >= 3:
        k, run_seed, scores, selection = _pick_num_topics(
            snapshot,
            n,
            fields,
            range(min(min_k, n - 1), min(max_k, n - 1) + 1),
            max_iterations,
            seed,
            vec,
            top_words,
        )
        check_cancelled()  # before the final clustering and its keywords
    result = run_cluster(
        snapshot,
        algorithm="kmeans",
        num_clusters=k if k is not None else (min_k if auto_tune else DEFAULT_NUM_CLUSTERS),
        distance_metric="cosine",
        text_fields=fields,
        max_iterations=max_iterations,
        representatives_per_cluster=representatives_per_topic,
        min_clusters=min_k,
        max_clusters=max_k,
        limit=limit,
        seed=run_seed,
        top_words=top_words,
        vectorizer=vec,
        with_projection=False,  # a topics answer carries none
    )
    params = dict(result["parameters"])
    params["num_topics"] = params.pop("num_clusters")
    for old, new in (("min_clusters", "min_topics"), ("max_clusters", "max_topics")):
        params[new] = params.pop(old)
    params.pop("num_clusters_requested", None)
    params.update(num_topics_requested=requested, auto_tune=auto_tune, seed=seed)
    params["top_words"] = top_words
    if vectorizer is not None:
        params["vectorizer"] = vectorizer if isinstance(vectorizer, dict) else None
    if auto_tune:
        params.update(scores=scores, selection=selection, kmeans_seed=run_seed)
    topics = [
        {
            "topic_id": c["cluster_id"],
            "count": c["count"],
            "keywords": c["keywords"],
            "label": "_".join(w["word"] for w in c["keywords"][:3]),
            "summary": c["summary"],
            "representatives": c["representatives"],
            "members": c["members"],
        }
        for c in result["clusters"]
    ]
    return {"topics": topics, "silhouette": result["silhouette"], "parameters": params}


def _renamed(name: str, value: Any) -> int:
    """Check a topics-named bound here so the error names it, not the clustering one."""
    return check_int(name, value, minimum=2, maximum=MAX_AUTO_TUNE_CLUSTERS) or 2


def _pick_num_topics(
    snapshot: Snapshot,
    n: int,
    fields: list[str],
    ks: range,
    max_iterations: int,
    seed: int,
    vec: Vectorizer,
    top_words: int,
) -> tuple[int, int, list[dict[str, Any]], str]:
    """(k, the k-means seed that produced its partition, the scores of every k tried, the
    criterion used). Topic quality decides; without any words to score (empty or missing
    text) it cannot, and silhouette does. Ties keep the smaller k. Stops with
    ``cancel.Cancelled`` before the next k-means run once the caller's token is set."""
    x = np.ascontiguousarray(np.asarray(snapshot.vectors, dtype=np.float32)[:n])
    texts = snapshot.texts(fields)  # kept by the snapshot for the final clustering
    corpus = Corpus(texts if len(texts) == n else texts[:n], vectorizer=vec, seed=seed)
    scores: list[dict[str, Any]] = []
    seeds: dict[int, int] = {}
    for k in ks:
        runs = []
        for s in range(seed, seed + TUNE_RESTARTS):
            check_cancelled()  # a safe point between restarts (and so between ks)
            labels, _c, inertia, _it = _core.kmeans(x, k, max_iter=max_iterations, seed=s)
            runs.append((float(inertia), s, np.asarray(labels, dtype=np.int64)))
        inertia, seeds[k], labels = min(runs, key=lambda r: (r[0], r[1]))
        q = corpus.quality(labels, k, top_words)
        sil, _ = silhouette(x, labels, "cosine", seed)
        scores.append({"num_topics": k, **q, "silhouette": sil, "inertia": round(inertia, 6)})
    criterion = "topic_quality" if any(s["topic_quality"] > 0 for s in scores) else "silhouette"
    defined = [s for s in scores if s[criterion] is not None]
    if not defined:  # no k had a defined score (e.g. every row identical)
        return ks[0], seeds[ks[0]], scores, criterion
    best = max(defined, key=lambda s: (s[criterion], -s["num_topics"]))
    return best["num_topics"], seeds[best["num_topics"]], scores, criterion
