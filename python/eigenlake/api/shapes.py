"""The shapes of the answers, as TypedDicts: for reading code and IDE completion.

Nothing checks an answer against them at run time; they describe what the API contract
(``shared/spec/API.md``) and ``docs/ANALYSIS.md`` promise. Keys that only some answers carry
(``vector`` when asked for, ``summary`` with ``text_fields``, DBSCAN's eps fields …) are
``NotRequired``. ``typing.cast(ClusterAnswer, index.search.cluster(...))`` gives an editor the
keys; the answer objects themselves (``eigenlake.api.answers``) are dicts of these shapes.
"""

from __future__ import annotations

import sys
from typing import Any, TypedDict

if sys.version_info >= (3, 11):
    from typing import NotRequired
else:  # pragma: no cover - Python 3.10 (typing_extensions comes with pydantic)
    from typing_extensions import NotRequired


class Usage(TypedDict):
    records_scanned: int
    compute_ms: float
    search_units: float


class Record(TypedDict):
    """A record wherever one is returned."""

    uuid: str
    metadata: NotRequired[dict[str, Any]]
    vector: NotRequired[list[float]]


class Hit(Record):
    """A ``nearest`` hit: ``distance`` is ``1 - cos`` (cosine) or euclidean; smaller is nearer."""

    distance: float


class NearestAnswer(TypedDict):
    results: list[Hit]
    next_after: str | None
    usage: NotRequired[Usage]


class RecordPageAnswer(TypedDict):
    """``records.list``: pass ``next_after`` back as ``after`` (None on the last page)."""

    objects: list[Record]
    next_after: str | None


class Member(TypedDict):
    uuid: str


class Representative(TypedDict):
    uuid: str
    metadata: dict[str, Any]
    distance: float


class Keyword(TypedDict):
    word: str
    weight: float


class Cluster(TypedDict):
    cluster_id: int
    count: int
    representatives: list[Representative]
    members: list[Member]
    keywords: NotRequired[list[Keyword]]
    summary: NotRequired[str]


class KScore(TypedDict):
    num_clusters: int
    silhouette: float | None


class EpsCandidate(TypedDict):
    eps: float
    num_clusters: int
    noise_fraction: float
    silhouette: float | None
    score: float | None


class KDistanceCurve(TypedDict):
    """The sorted k-distance curve (``distance[i]`` at 0-based ``rank[i]`` of
    ``num_records``), at most ``analysis.autotune.K_DISTANCE_POINTS`` points of it."""

    k: int
    num_records: int
    rank: list[int]
    distance: list[float]


class ClusterParameters(TypedDict):
    algorithm: str
    distance_metric: str
    num_records: int
    num_clusters: int
    representatives_per_cluster: int
    text_fields: list[str] | None
    seed: int
    silhouette_sample_size: int | None
    num_matched: NotRequired[int]
    # k-means
    max_iterations: NotRequired[int]
    auto_tune: NotRequired[bool]
    min_clusters: NotRequired[int]
    max_clusters: NotRequired[int]
    num_clusters_requested: NotRequired[int | None]
    scores: NotRequired[list[KScore]]
    iterations: NotRequired[int]
    # DBSCAN
    dbscan_eps: NotRequired[float | None]
    dbscan_eps_source: NotRequired[str]
    dbscan_min_samples: NotRequired[int]
    dbscan_eps_candidates: NotRequired[list[EpsCandidate]]
    k_distance_quantiles: NotRequired[dict[str, float]]
    k_distance: NotRequired[KDistanceCurve]


class Points(TypedDict):
    """Columns of 2-D points; ``cluster_id`` -1 is DBSCAN noise."""

    x: list[float]
    y: list[float]
    cluster_id: list[int]


class Projection(TypedDict):
    """A 2-D PCA of the analysed vectors (``analysis.cluster.projection``)."""

    method: str
    explained_variance_ratio: list[float]
    sample_size: int | None
    points: Points
    representatives: Points


class ClusterAnswer(TypedDict):
    clusters: list[Cluster]
    noise_count: int
    silhouette: float | None
    parameters: ClusterParameters
    projection: NotRequired[Projection | None]
    usage: NotRequired[Usage]


class Outlier(TypedDict):
    uuid: str
    metadata: dict[str, Any]
    score: float
    is_outlier: bool


class OutliersAnswer(TypedDict):
    """``parameters["offset"]`` is the threshold on minus the score (LOF > -offset flags)."""

    outliers: list[Outlier]
    outlier_count: int
    parameters: dict[str, Any]
    usage: NotRequired[Usage]


class Topic(TypedDict):
    topic_id: int
    count: int
    keywords: list[Keyword]
    label: str
    summary: str
    representatives: list[Representative]
    members: list[Member]


class TopicsAnswer(TypedDict):
    topics: list[Topic]
    silhouette: float | None
    parameters: dict[str, Any]
    usage: NotRequired[Usage]


class AgentAnswer(TypedDict):
    query: str
    action: str
    filter: dict[str, Any]
    explanation: str
    count: NotRequired[int]
    clusters: NotRequired[list[Cluster]]
    objects: NotRequired[list[Record]]
    outliers: NotRequired[list[Outlier]]
    topics: NotRequired[list[Topic]]


__all__ = [
    "AgentAnswer",
    "Cluster",
    "ClusterAnswer",
    "ClusterParameters",
    "EpsCandidate",
    "Hit",
    "KDistanceCurve",
    "KScore",
    "Keyword",
    "Member",
    "NearestAnswer",
    "Outlier",
    "OutliersAnswer",
    "Points",
    "Projection",
    "Record",
    "RecordPageAnswer",
    "Representative",
    "Topic",
    "TopicsAnswer",
    "Usage",
]
