"""``search.topics``: spherical k-means over the embeddings + c-TF-IDF keywords per topic.

A topic is a k-means cluster (cosine) described by the words that distinguish its records'
``text_fields`` from the other topics' (see ``ctfidf``). Without ``num_topics`` and with
``auto_tune`` (the default) the number of topics is the best silhouette in
[min_topics, max_topics]; without either it is 8. Topics are sorted by size, largest first.
"""

from __future__ import annotations

from typing import Any

from ..errors import ValidationError
from ._params import check_bool, check_int, check_text_fields
from .cluster import DEFAULT_NUM_CLUSTERS, run_cluster
from .snapshot import Snapshot


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
    seed: int = 0,
    filter: dict[str, Any] | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """Topics of the snapshot: ``{"topics": [...], "parameters": {...}, "silhouette": ...}``."""
    fields = check_text_fields(text_fields)
    if not fields:
        raise ValidationError("text_fields must name at least one text property")
    k = check_int("num_topics", num_topics, minimum=1, optional=True)
    auto_tune = check_bool("auto_tune", auto_tune) and k is None
    result = run_cluster(
        snapshot,
        algorithm="kmeans",
        num_clusters=k if k is not None or auto_tune else DEFAULT_NUM_CLUSTERS,
        distance_metric="cosine",
        text_fields=fields,
        max_iterations=max_iterations,
        representatives_per_cluster=representatives_per_topic,
        auto_tune=auto_tune,
        min_clusters=_renamed("min_topics", min_topics),
        max_clusters=_renamed("max_topics", max_topics),
        limit=limit,
        seed=seed,
        top_words=top_words,
        bigrams=bigrams,
    )
    params = dict(result["parameters"])
    params["num_topics"] = params.pop("num_clusters")
    for old, new in (("min_clusters", "min_topics"), ("max_clusters", "max_topics")):
        params[new] = params.pop(old)
    params["top_words"] = top_words
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
    return check_int(name, value, minimum=2) or 2
