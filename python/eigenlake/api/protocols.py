"""The public surface, once: what every mode's client, index and parts offer.

Embedded (``eigenlake.embedded``), remote (``eigenlake.remote``) and distributed
(``eigenlake.distributed``) implement these protocols; mypy checks each of them against
this file (``eigenlake/_conformance.py``), and the server is typed against them. A signature
changes here first. Answers are the plain JSON shapes of ``../shared/spec/API.md``
(``dict[str, Any]``); errors are the classes of ``eigenlake.errors``, the same in every mode.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import Any, Protocol

from .results import AddManyResult, FailedRecord

Filter = dict[str, Any]


class Records(Protocol):
    """``index.records``: write, read and remove records."""

    def add(
        self,
        *,
        properties: dict[str, Any] | None = None,
        vector: Any,
        id: str | None = None,
        on_duplicate: str = "error",
    ) -> str:
        """Store one record; returns its uuid. ``on_duplicate``: error | replace | skip."""
        ...

    def add_many(
        self,
        records: Iterable[dict[str, Any]],
        *,
        on_duplicate: str = "error",
        on_error: str = "raise",
        batch_size: int = 500,
        max_workers: int = 1,
    ) -> AddManyResult:
        """Store ``{"properties", "vector", "id"?}`` records; with ``on_error="raise"`` a
        failing call stores nothing, with ``"continue"`` bad records are reported."""
        ...

    def add_vectors(
        self, vectors: Any, *, batch_size: int = 500, max_workers: int = 1
    ) -> AddManyResult:
        """Store records that are only a vector (a 2-D array, or ``{"id"?, "vector"}``)."""
        ...

    def get(
        self, id: str, *, return_data: bool = True, return_metadata: bool = True
    ) -> dict[str, Any] | None:
        """The record ``{"uuid", "metadata"?, "vector"?}``, or None when it does not exist."""
        ...

    def exists(self, id: str) -> bool:
        """Whether a record with this uuid is stored."""
        ...

    def remove(self, id: str) -> dict[str, Any]:
        """Remove one record (``NotFoundError`` when missing)."""
        ...

    def remove_many(
        self, *, filter: Filter, limit: int | None = None, on_missing: str = "skip"
    ) -> dict[str, Any]:
        """Remove the records matching ``filter`` (``{}`` = all), oldest first up to
        ``limit``; ``{"deleted": n}``. ``on_missing="error"``: NotFoundError on no match."""
        ...

    def update(
        self, id: str, *, properties: dict[str, Any] | None = None, vector: Any = None
    ) -> dict[str, Any]:
        """Merge ``properties`` into the record; replace its vector when given."""
        ...

    def replace(
        self, *, id: str, properties: dict[str, Any] | None = None, vector: Any = None
    ) -> dict[str, Any]:
        """Replace the record's properties (and vector when given)."""
        ...

    def list(
        self,
        *,
        filter: Filter | None = None,
        limit: int = 100,
        after: str | None = None,
        with_vector: bool = False,
        with_properties: bool = True,
    ) -> dict[str, Any]:
        """A page ``{"objects", "next_after"}`` of matching records; pass ``next_after``
        back as ``after`` for the next page (None on the last)."""
        ...


class Analyses(Protocol):
    """The analyses of ``index.search``, written once for every mode: each method names and
    orders its arguments, then hands them to the mode's ``_analyse``, which gathers the
    rows (or sends the request) and returns the answer."""

    def _analyse(
        self, kind: str, filter: Filter | None, limit: int | None, settings: dict[str, Any]
    ) -> dict[str, Any]:
        """Run analysis ``kind`` ("cluster", "outliers", "topics") over the records matching
        ``filter`` (the first ``limit``; None = all) with ``settings``."""
        ...

    def cluster(
        self,
        *,
        filter: Filter | None = None,
        limit: int | None = 1000,
        algorithm: str = "kmeans",
        num_clusters: int | None = None,
        distance_metric: str = "cosine",
        text_fields: builtins.list[str] | None = None,
        max_iterations: int = 50,
        representatives_per_cluster: int = 3,
        auto_tune: bool = False,
        min_clusters: int = 2,
        max_clusters: int = 8,
        dbscan_eps: float | None = None,
        dbscan_min_samples: int = 5,
    ) -> dict[str, Any]:
        """k-means (spherical for cosine) or DBSCAN over the matching records (``limit``
        None = all); see ``docs/ANALYSIS.md`` for every choice it makes.

        >>> res = index.search.cluster(auto_tune=True, max_clusters=6)  # doctest: +SKIP
        >>> res["parameters"]["num_clusters"], [c["count"] for c in res["clusters"]]  # doctest: +SKIP
        """
        settings = {
            "algorithm": algorithm,
            "num_clusters": num_clusters,
            "distance_metric": distance_metric,
            "text_fields": text_fields,
            "max_iterations": max_iterations,
            "representatives_per_cluster": representatives_per_cluster,
            "auto_tune": auto_tune,
            "min_clusters": min_clusters,
            "max_clusters": max_clusters,
            "dbscan_eps": dbscan_eps,
            "dbscan_min_samples": dbscan_min_samples,
        }
        return self._analyse("cluster", filter, limit, settings)

    def outliers(
        self,
        *,
        filter: Filter | None = None,
        limit: int | None = 1000,
        n_neighbors: int = 20,
        contamination: float | str = "auto",
        distance_metric: str = "cosine",
        return_all: bool = False,
        max_results: int | None = None,
    ) -> dict[str, Any]:
        """Local outlier factor of the matching records; ``outliers`` lists the flagged
        ones, most outlying first (``return_all=True``: every analysed record with its
        score; ``max_results`` cuts the list)."""
        settings = {
            "n_neighbors": n_neighbors,
            "contamination": contamination,
            "distance_metric": distance_metric,
            "return_all": return_all,
            "max_results": max_results,
        }
        return self._analyse("outliers", filter, limit, settings)

    def topics(
        self,
        *,
        text_fields: builtins.list[str],
        num_topics: int | None = None,
        auto_tune: bool = True,
        filter: Filter | None = None,
        limit: int | None = 1000,
        top_words: int = 10,
    ) -> dict[str, Any]:
        """Topics: spherical k-means over the vectors, keywords by c-TF-IDF of the texts."""
        settings = {
            "text_fields": text_fields,
            "num_topics": num_topics,
            "auto_tune": auto_tune,
            "top_words": top_words,
        }
        return self._analyse("topics", filter, limit, settings)


class Search(Analyses, Protocol):
    """``index.search``: nearest neighbours, reads by position, and the analyses."""

    def nearest(
        self,
        *,
        vector: Any,
        limit: int = 10,
        filter: Filter | None = None,
        after: str | None = None,
        with_vector: bool = False,
    ) -> dict[str, Any]:
        """Hits ``{"uuid", "metadata", "distance"}`` nearest first, and ``next_after``."""
        ...

    def get(self, id: str, *, with_vector: bool = False) -> dict[str, Any] | None:
        """The record; embedded: None when missing, remote: ``NotFoundError`` (a 404)."""
        ...

    def list(
        self,
        *,
        limit: int = 100,
        offset: int = 0,
        with_vector: bool = False,
        with_properties: bool = True,
        newest_first: bool = True,
    ) -> dict[str, Any]:
        """A page by position ``{"objects", "next_offset"}``."""
        ...

    def iterate(
        self, *, page_size: int = 500, with_vector: bool = False, with_properties: bool = True
    ) -> Iterator[dict[str, Any]]:
        """Every record once, oldest first."""
        ...


class Settings(Protocol):
    """``index.settings``: what the index was created with."""

    def dimensions(self) -> int: ...

    def schema(self) -> dict[str, Any]: ...

    def shards(self) -> dict[str, Any]: ...


class Manage(Protocol):
    """``index.manage``: drop the index, remove records by filter."""

    def delete(self) -> dict[str, Any]:
        """Drop the index and its records (``{"deleted": true}``)."""
        ...

    def remove_by_filter(
        self, *, filter: Filter, limit: int | None = None, on_missing: str = "skip"
    ) -> dict[str, Any]:
        """As ``records.remove_many``."""
        ...


class BatchWriter(Protocol):
    """A context manager that buffers ``add`` calls and stores them in batches."""

    failed_records: list[FailedRecord]

    @property
    def number_errors(self) -> int: ...

    def add(self, *, properties: dict[str, Any] | None = None, vector: Any, id: Any = None) -> str:
        """Buffer one record; returns its uuid (a new uuid4 when none is given)."""
        ...

    def flush(self) -> None: ...

    def __enter__(self) -> BatchWriter: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class Batch(Protocol):
    """``index.batch``."""

    def with_size(
        self, *, batch_size: int = 200, max_workers: int = 1, on_error: str = "continue"
    ) -> BatchWriter: ...


class Agent(Protocol):
    """``index.agent``: a plain-English request turned into a filter and an action, written
    once for every mode over the mode's ``_query``."""

    def _query(self, query: str, settings: dict[str, Any]) -> dict[str, Any]:
        """Plan and run ``query`` with ``settings`` (the arguments of ``query``)."""
        ...

    def query(
        self,
        query: str,
        *,
        filter: Filter | None = None,
        limit: int = 1000,
        mode: str = "auto",
        algorithm: str = "kmeans",
        num_clusters: int | None = None,
        text_fields: builtins.list[str] | None = None,
        auto_tune: bool = False,
        min_clusters: int = 2,
        max_clusters: int = 8,
        dbscan_eps: float | None = None,
        dbscan_min_samples: int = 5,
        time_field: str = "created_at",
        failure_field: str = "status",
        failure_values: builtins.list[str] | None = None,
        recent_days: int = 7,
    ) -> dict[str, Any]:
        """``{"action", "filter", "explanation", ...}`` (``filter`` is ``{}`` when none).

        >>> index.agent.query("group human proteins longer than 300 residues")  # doctest: +SKIP
        """
        settings = {
            "filter": filter,
            "limit": limit,
            "mode": mode,
            "algorithm": algorithm,
            "num_clusters": num_clusters,
            "text_fields": text_fields,
            "auto_tune": auto_tune,
            "min_clusters": min_clusters,
            "max_clusters": max_clusters,
            "dbscan_eps": dbscan_eps,
            "dbscan_min_samples": dbscan_min_samples,
            "time_field": time_field,
            "failure_field": failure_field,
            "failure_values": failure_values,
            "recent_days": recent_days,
        }
        return self._query(query, settings)


class Index(Protocol):
    """One named index: its records, searches and analyses, settings and management."""

    @property
    def records(self) -> Records: ...

    @property
    def search(self) -> Search: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def manage(self) -> Manage: ...

    @property
    def batch(self) -> Batch: ...

    @property
    def agent(self) -> Agent: ...


class Indexes(Protocol):
    """``client.indexes``: create, open, reference and list indexes."""

    def create_or_get(
        self,
        *,
        namespace: str,
        index: str,
        dimensions: int,
        schema: dict[str, Any] | None = None,
        index_options: dict[str, Any] | None = None,
        shard_count: int = 1,
        record_id_property: str | None = "document_id",
    ) -> Index:
        """The index, created when missing (``ConflictError`` on other settings)."""
        ...

    def open(self, *, namespace: str, index: str) -> Index:
        """An existing index (``NotFoundError`` when missing)."""
        ...

    def ref(self, *, namespace: str, index: str) -> Index:
        """A handle without a round trip (errors surface on first use)."""
        ...

    def list(self) -> builtins.list[dict[str, str]]:
        """``[{"namespace", "index"}]`` of every index."""
        ...

    def delete(self, *, namespace: str, index: str) -> dict[str, Any]:
        """Drop an index (also a damaged one)."""
        ...


class Client(Protocol):
    """What ``eigenlake.connect(...)`` returns, in every mode (a context manager that closes
    the client on leaving: ``api.closing.Closing``)."""

    @property
    def indexes(self) -> Indexes: ...

    def ready(self) -> bool: ...

    def close(self) -> None: ...

    def __enter__(self) -> Client: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
