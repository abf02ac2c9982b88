"""Request bodies of the `/v1` protocol, spelled as the PyPI client sends them.

Unknown fields are rejected (422) so a typo does not silently fall back to a default.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..api.checks import MAX_INT, MAX_LIMIT
from ..api.options import MAX_DIMENSIONS

Vector = list[float]
# Vectors of writes hold numbers only: a lax float reads "1" or true as 1.0 (ints pass).
StrictVector = list[Annotated[float, Field(strict=True)]]
Filter = dict[str, Any]
OnDuplicate = Literal["error", "replace", "skip"]
OnError = Literal["raise", "continue"]
OnMissing = Literal["skip", "error"]
# Integers of the read routes are strict: in lax mode pydantic reads `true` as 1, `"5"` as 5
# and `2.0` as 2, which the embedded API refuses. Each is bounded so a huge value is a 422
# naming the field, not a 500 from a kernel (bounds: eigenlake/api/checks.py).
PageSize = Annotated[int, Field(strict=True, ge=1, le=MAX_LIMIT)]
Count = Annotated[int, Field(strict=True, ge=0, le=MAX_INT)]
Positive = Annotated[int, Field(strict=True, ge=1, le=MAX_INT)]
AtLeastTwo = Annotated[int, Field(strict=True, ge=2, le=MAX_INT)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateIndex(Body):
    namespace: str = Field(min_length=1)
    index: str = Field(min_length=1)
    # Qdrant's limit too; a larger value would make the store allocate gigabytes up front.
    # Strict: `true` is not 1 and "3" is not 3.
    dimensions: int = Field(strict=True, gt=0, le=MAX_DIMENSIONS)
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    index_options: dict[str, Any] | None = None
    shard_count: int = Field(default=1, strict=True, ge=1)
    record_id_property: str | None = "document_id"


class Insert(Body):
    properties: dict[str, Any] = Field(default_factory=dict)
    # None (or left out): an index with an embedder embeds the record's text property;
    # any other index refuses the record ("record 0: vector is missing")
    vector: StrictVector | None = None
    uuid: str | None = None
    on_duplicate: OnDuplicate = "error"
    batch_size: int = Field(default=500, ge=1)
    max_workers: int = Field(default=1, ge=1)


class NewRecord(Body):
    properties: dict[str, Any] = Field(default_factory=dict)
    vector: StrictVector | None = None  # as Insert's: None is embedded or refused by name
    uuid: str | None = None


class InsertMany(Body):
    objects: list[NewRecord]
    on_duplicate: OnDuplicate = "error"
    on_error: OnError = "raise"
    batch_size: int = Field(default=500, ge=1)
    max_workers: int = Field(default=1, ge=1)


class NewVector(Body):
    vector: StrictVector
    uuid: str | None = None


class InsertVectors(Body):
    vectors: list[NewVector]
    batch_size: int = Field(default=500, ge=1)
    max_workers: int = Field(default=1, ge=1)


class GetById(Body):
    uuid: str
    return_data: bool = Field(default=True, strict=True)
    return_metadata: bool = Field(default=True, strict=True)


class Patch(Body):
    properties: dict[str, Any] | None = None
    vector: StrictVector | None = None


class Put(Body):
    properties: dict[str, Any] = Field(default_factory=dict)
    vector: StrictVector | None = None


class DeleteMany(Body):
    where: Filter
    limit: Count | None = None
    delete_patent_rows: bool = Field(default=False, strict=True)  # spelled as the client does
    on_missing_keys: OnMissing = "skip"
    batch_size: Positive = 500
    background: bool = Field(default=False, strict=True)


class DeleteByFilter(Body):
    where: Filter
    limit_object_ids: Count | None = None
    delete_sql_metadata_rows: bool = Field(default=False, strict=True)
    on_missing_keys: OnMissing = "skip"
    batch_size: Positive = 500
    background: bool = Field(default=False, strict=True)


class CountBody(Body):
    where: Filter | None = None


class GetByFilter(Body):
    where: Filter | None = None
    limit: PageSize = 100
    after: str | None = None
    include_vector: bool = Field(default=False, strict=True)
    include_properties: bool = Field(default=True, strict=True)
    on_missing_keys: OnMissing = "skip"


class NearVector(Body):
    # as the write models: "1" or true is not a number. Exactly one of vector and text:
    # text (not sent by the PyPI client) is embedded by the index's embedder, a list of
    # texts is a batch (one answer each)
    vector: StrictVector | None = None
    text: str | list[str] | None = None
    top_k: PageSize = 10
    filter: Filter | None = None
    after: str | None = None
    include_vector: bool = Field(default=False, strict=True)


class Cluster(Body):
    filter: Filter | None = None
    limit: Positive | None = 1000  # None: every matching record (API.md, "Additions")
    algorithm: Literal["kmeans", "dbscan"] = "kmeans"
    num_clusters: Positive | None = None
    distance_metric: Literal["cosine", "euclidean"] = "cosine"
    text_fields: list[str] | None = None
    max_iterations: Positive = 50
    representatives_per_cluster: Count = 3
    auto_tune: bool = Field(default=False, strict=True)
    min_clusters: AtLeastTwo = 2
    max_clusters: AtLeastTwo = 8
    dbscan_eps: float | None = Field(default=None, gt=0, allow_inf_nan=False, strict=True)
    dbscan_min_samples: Positive = 5
    seed: Count = 0  # not sent by the PyPI client: its answers stay those of seed 0


class Outliers(Body):
    filter: Filter | None = None
    limit: Positive | None = 1000
    n_neighbors: Positive = 20
    # "auto" or a share in (0, 0.5]: the analysis checks the range and names it
    contamination: Annotated[float, Field(strict=True)] | Literal["auto"] = "auto"
    distance_metric: Literal["cosine", "euclidean"] = "cosine"
    return_all: bool = Field(default=False, strict=True)
    max_results: Count | None = None


class Topics(Body):
    text_fields: list[str]
    num_topics: Positive | None = None
    auto_tune: bool = Field(default=True, strict=True)
    filter: Filter | None = None
    limit: Positive | None = 1000
    top_words: Positive = 10
    vectorizer: dict[str, Any] | None = None  # checked by the analysis, naming the key


# The agent's modes: eigenlake.agent.runner.MODES.
AgentMode = Literal["auto", "cluster", "filter", "outliers", "topics"]


class AgentQuery(Body):
    query: str
    filter: Filter | None = None
    limit: Positive | None = 1000
    mode: AgentMode = "auto"
    algorithm: Literal["kmeans", "dbscan"] = "kmeans"
    num_clusters: Positive | None = None
    text_fields: list[str] | None = None
    auto_tune: bool = Field(default=False, strict=True)
    min_clusters: AtLeastTwo = 2
    max_clusters: AtLeastTwo = 8
    dbscan_eps: float | None = Field(default=None, gt=0, allow_inf_nan=False, strict=True)
    dbscan_min_samples: Positive = 5
    time_field: str = "created_at"
    failure_field: str = "status"
    failure_values: list[str] | None = None
    recent_days: Positive = 7


def empty_to_none(d: Filter | None) -> Filter | None:
    """The PyPI client sends `{}` for "no filter". Anything else passes as it is (an
    untyped body's `[]` or `0` is refused by the store, not read as "no filter")."""
    return None if isinstance(d, dict) and not d else d
