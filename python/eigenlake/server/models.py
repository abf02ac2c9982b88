"""Request bodies of the `/v1` protocol, spelled as the PyPI client sends them.

Unknown fields are rejected (422) so a typo does not silently fall back to a default.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_DIMENSIONS = 65_536
Vector = list[float]
Filter = dict[str, Any]
OnDuplicate = Literal["error", "replace", "skip"]
OnError = Literal["raise", "continue"]
OnMissing = Literal["skip", "error"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateIndex(Body):
    namespace: str = Field(min_length=1)
    index: str = Field(min_length=1)
    # Qdrant's limit too; a larger value would make the store allocate gigabytes up front.
    dimensions: int = Field(gt=0, le=MAX_DIMENSIONS)
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    index_options: dict[str, Any] | None = None
    shard_count: int = Field(default=1, ge=1)
    record_id_property: str = "document_id"


class Insert(Body):
    properties: dict[str, Any] = Field(default_factory=dict)
    vector: Vector
    uuid: str | None = None
    on_duplicate: OnDuplicate = "error"
    batch_size: int = Field(default=500, ge=1)
    max_workers: int = Field(default=1, ge=1)


class NewRecord(Body):
    properties: dict[str, Any] = Field(default_factory=dict)
    vector: Vector
    uuid: str | None = None


class InsertMany(Body):
    objects: list[NewRecord]
    on_duplicate: OnDuplicate = "error"
    on_error: OnError = "raise"
    batch_size: int = Field(default=500, ge=1)
    max_workers: int = Field(default=1, ge=1)


class NewVector(Body):
    vector: Vector
    uuid: str | None = None


class InsertVectors(Body):
    vectors: list[NewVector]
    batch_size: int = Field(default=500, ge=1)
    max_workers: int = Field(default=1, ge=1)


class GetById(Body):
    uuid: str
    return_data: bool = True
    return_metadata: bool = True


class Patch(Body):
    properties: dict[str, Any] | None = None
    vector: Vector | None = None


class Put(Body):
    properties: dict[str, Any] = Field(default_factory=dict)
    vector: Vector | None = None


class DeleteMany(Body):
    where: Filter
    limit: int | None = Field(default=None, ge=0)
    delete_patent_rows: bool = False  # spelled as the PyPI client sends it
    on_missing_keys: OnMissing = "skip"
    batch_size: int = Field(default=500, ge=1)
    background: bool = False


class DeleteByFilter(Body):
    where: Filter
    limit_object_ids: int | None = Field(default=None, ge=0)
    delete_sql_metadata_rows: bool = False
    on_missing_keys: OnMissing = "skip"
    batch_size: int = Field(default=500, ge=1)
    background: bool = False


class GetByFilter(Body):
    where: Filter | None = None
    limit: int = Field(default=100, ge=0)
    after: str | None = None
    include_vector: bool = False
    include_properties: bool = True
    on_missing_keys: OnMissing = "skip"


class NearVector(Body):
    vector: Vector
    top_k: int = Field(default=10, ge=0)
    filter: Filter | None = None
    after: str | None = None
    include_vector: bool = False


class Cluster(Body):
    filter: Filter | None = None
    limit: int = Field(default=1000, ge=1)
    algorithm: Literal["kmeans", "dbscan"] = "kmeans"
    num_clusters: int | None = Field(default=None, ge=1)
    distance_metric: Literal["cosine", "euclidean"] = "cosine"
    text_fields: list[str] | None = None
    max_iterations: int = Field(default=50, ge=1)
    representatives_per_cluster: int = Field(default=3, ge=0)
    auto_tune: bool = False
    min_clusters: int = Field(default=2, ge=1)
    max_clusters: int = Field(default=8, ge=1)
    dbscan_eps: float | None = Field(default=None, gt=0)
    dbscan_min_samples: int = Field(default=5, ge=1)


class AgentQuery(Body):
    query: str
    filter: Filter | None = None
    limit: int = Field(default=1000, ge=1)
    mode: Literal["auto", "cluster", "filter"] = "auto"
    algorithm: Literal["kmeans", "dbscan"] = "kmeans"
    num_clusters: int | None = Field(default=None, ge=1)
    text_fields: list[str] | None = None
    auto_tune: bool = False
    min_clusters: int = Field(default=2, ge=1)
    max_clusters: int = Field(default=8, ge=1)
    dbscan_eps: float | None = Field(default=None, gt=0)
    dbscan_min_samples: int = Field(default=5, ge=1)
    time_field: str = "created_at"
    failure_field: str = "status"
    failure_values: list[str] | None = None
    recent_days: int = Field(default=7, ge=0)


def empty_to_none(d: Filter | None) -> Filter | None:
    """The PyPI client sends `{}` for "no filter"."""
    return d or None
