"""The public surface, once: what every mode's client, index and parts offer.

Embedded (``eigenlake.embedded``), remote (``eigenlake.remote``) and distributed
(``eigenlake.distributed``) implement these protocols; mypy checks each of them against
this file (``eigenlake/_conformance.py``), and the server is typed against them. A signature
changes here first. Answers are the plain JSON shapes of ``../shared/spec/API.md``
(``dict[str, Any]``); errors are the classes of ``eigenlake.errors``, the same in every mode.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any, Protocol, TypeVar, cast

import numpy as np

from ..errors import ValidationError
from .answers import (
    AgentResult,
    ClusterResult,
    OutliersResult,
    RecordPage,
    TopicsResult,
    as_nearest,
)
from .checks import (
    DUPLICATE_MODES,
    ERROR_MODES,
    MAX_INT,
    check_bool,
    check_choice,
    check_filter_arg,
    check_int,
    check_limit,
    check_listed,
    check_offset,
    check_removal,
    cursor_text,
    is_query_batch,
)
from .columns import Columns, is_tabular, progress_bar, to_columns
from .export import Exported, to_arrow, to_numpy, to_pandas
from .options import check_create
from .results import AddManyResult, FailedRecord

Filter = dict[str, Any]


class Records(Protocol):
    """``index.records``: write, read and remove records.

    ``add_many``, ``add_vectors`` and ``list`` are written once here, for every mode: each
    checks the arguments every mode checks alike (so one mistake gets the same
    ``ValidationError``), then hands them to the mode's primitive (``_add_many``,
    ``_add_vectors``, ``_list``), which checks the rest, stores or reads the records (or
    sends the request) and returns the answer."""

    # ---- the mode's primitives (the arguments are checked before they are called) -------

    def _add_many(
        self, records: builtins.list[Any], *, on_duplicate: str, on_error: str, batch_size: int
    ) -> AddManyResult:
        """``add_many`` with ``records`` listed (each item is the mode's to check, as are
        ``on_duplicate`` and ``on_error``) and ``batch_size`` checked (an integer >= 1;
        ``max_workers``, checked too, is accepted for API parity: no mode uses it)."""
        ...

    def _add_vectors(
        self, vectors: np.ndarray | builtins.list[dict[str, Any]], *, batch_size: int
    ) -> AddManyResult:
        """``add_vectors`` with ``vectors`` a 2-D array (one row per record) or the records as
        dicts of ``id``/``uuid``/``vector`` only (the mode checks the ids and vectors)."""
        ...

    def _list(
        self,
        filter: Filter | None,
        limit: int,
        after: str | None,
        with_vector: bool,
        with_properties: bool,
    ) -> dict[str, Any]:
        """``list`` with checked ``limit`` (an int), ``filter`` (None or a dict; what is
        inside is the mode's to check), ``after`` (a cursor's text or None; the mode reads
        it) and flags."""
        ...

    def _add(self, record: dict[str, Any], on_duplicate: str) -> str:
        """``add`` with ``on_duplicate`` checked; ``record`` is ``{"properties", "vector",
        "id"}`` as given (the mode checks them as ``add_many`` checks a record)."""
        ...

    def _read(self, id: Any, with_vector: bool, with_properties: bool) -> dict[str, Any] | None:
        """``get`` with the flags checked: the record or None."""
        ...

    def _modify(self, id: Any, properties: Any, vector: Any, *, merge: bool) -> dict[str, Any]:
        """``update`` (``merge``: properties merged into the stored ones) or ``replace``
        (``properties`` None means none); the mode checks the id, properties and vector."""
        ...

    def _remove_many(self, filter: Filter, limit: int | None, on_missing: str) -> dict[str, Any]:
        """``remove_many`` with every argument checked (``filter`` a dict; its inside is
        the mode's to check)."""
        ...

    def _count(self, filter: Filter | None) -> int:
        """``count`` with ``filter`` None or a dict (its inside is the mode's to check)."""
        ...

    def _export(
        self, filter: Filter | None, limit: int | None, with_vector: bool, with_properties: bool
    ) -> Exported:
        """The matching records in the index order (the first ``limit``; None = all) for
        ``to_numpy``/``to_arrow``/``to_pandas``: vectors as one (n, d) float32 block
        exactly as stored, the schema's kinds of the declared properties."""
        ...

    # ---- the surface ----------------------------------------------------------------------

    def add(
        self,
        *,
        properties: dict[str, Any] | None = None,
        vector: Any,
        id: str | None = None,
        on_duplicate: str = "error",
    ) -> str:
        """Store one record; returns its uuid.

        ``on_duplicate``: ``"error"`` (``ConflictError`` when the id is stored),
        ``"replace"`` or ``"skip"`` (the stored record stays; its uuid is returned)."""
        check_choice("on_duplicate", on_duplicate, DUPLICATE_MODES)
        return self._add({"properties": properties, "vector": vector, "id": id}, on_duplicate)

    def add_many(
        self,
        data: Any = None,
        *,
        records: Any = None,
        vectors: Any = None,
        vector_column: str = "vector",
        id_column: str | None = None,
        progress: bool | None = None,
        on_duplicate: str = "error",
        on_error: str = "raise",
        batch_size: int = 500,
        max_workers: int = 1,
    ) -> AddManyResult:
        """Store records; with ``on_error="raise"`` a failing call stores nothing, with
        ``"continue"`` bad records are reported (by position) and the others stored.

        ``data``: ``{"properties", "vector", "id"?}`` dicts, or a table — a pandas
        ``DataFrame``, a pyarrow ``Table``/``RecordBatch`` or a dict of equal-length columns
        — whose ``vector_column`` holds the vectors (arrays, lists, ``FixedSizeList``; or
        pass ``vectors=``, a 2-D array aligned with the rows), ``id_column`` (optional) the
        ids, and every other column a property (a missing value — None, NaN, ``pd.NA``,
        ``NaT``, an Arrow null — leaves the record without it). ``progress``: a tqdm bar on
        stderr (None: when stderr is a terminal). ``records=``: ``data``'s earlier name."""
        if records is not None:
            if data is not None:
                raise ValidationError("pass data or records (its earlier name), not both")
            data = records
        check_int("batch_size", batch_size, minimum=1)
        check_int("max_workers", max_workers, minimum=1)
        check_choice("on_duplicate", on_duplicate, DUPLICATE_MODES)
        check_choice("on_error", on_error, ERROR_MODES)
        if progress is not None:
            check_bool("progress", progress)
        if is_tabular(data) or vectors is not None:
            columns = to_columns(
                data, vectors=vectors, vector_column=vector_column, id_column=id_column
            )
            with progress_bar(progress, columns.n) as done:
                result = self._add_columns(
                    columns, on_duplicate=on_duplicate, on_error=on_error, batch_size=batch_size
                )
                done(columns.n)
            return result
        if id_column is not None or vector_column != "vector":
            raise ValidationError(
                "id_column and vector_column name columns of a table (a DataFrame, an Arrow"
                " table or a dict of columns); records as dicts carry 'id' and 'vector'"
            )
        recs = check_listed(data, "records", "record dicts with 'properties' and 'vector'")
        with progress_bar(progress, len(recs)) as done:
            result = self._add_many(
                recs,
                on_duplicate=on_duplicate,
                on_error=on_error,
                batch_size=batch_size,
            )
            done(len(recs))
        return result

    def _add_columns(
        self, columns: Columns, *, on_duplicate: str, on_error: str, batch_size: int
    ) -> AddManyResult:
        """``add_many`` of a table, as :class:`~eigenlake.api.columns.Columns` (arguments
        checked). This default hands the rows to ``_add_many`` as record dicts (positions
        and messages are the same); a mode with a columnar path overrides it."""
        return self._add_many(
            columns.to_records(),
            on_duplicate=on_duplicate,
            on_error=on_error,
            batch_size=batch_size,
        )

    def add_vectors(
        self, vectors: Any, *, batch_size: int = 500, max_workers: int = 1
    ) -> AddManyResult:
        """Store records that are only a vector (a 2-D array, or ``{"id"?, "vector"}``)."""
        check_int("batch_size", batch_size, minimum=1)
        check_int("max_workers", max_workers, minimum=1)
        if isinstance(vectors, np.ndarray):
            if vectors.ndim != 2:  # a 1-D array is one vector, not a batch of numbers
                raise ValidationError(
                    f"vectors must be a 2-D array (one row per record) or a list of vectors,"
                    f" got an array of shape {vectors.shape}"
                )
            return self._add_vectors(vectors, batch_size=batch_size)
        items = check_listed(vectors, "vectors", "vectors or {'id', 'vector'} dicts")
        recs = [v if isinstance(v, dict) else {"vector": v} for v in items]
        for i, r in enumerate(recs):
            extra = set(r) - {"id", "uuid", "vector"}
            if extra:
                raise ValidationError(
                    f"record {i}: add_vectors takes id and vector only, got {sorted(extra, key=str)!r}"
                )
        return self._add_vectors(recs, batch_size=batch_size)

    def get(
        self, id: str, *, return_data: bool = True, return_metadata: bool = True
    ) -> dict[str, Any] | None:
        """The record ``{"uuid", "metadata"?, "vector"?}``, or None when it does not exist:
        ``metadata`` (its properties) with ``return_metadata``, ``vector`` with
        ``return_data``."""
        with_vector = check_bool("return_data", return_data)
        with_properties = check_bool("return_metadata", return_metadata)
        return self._read(id, with_vector, with_properties)

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
        ``limit``; ``{"deleted": n}``. ``on_missing="error"``: NotFoundError on no match
        (nothing removed)."""
        limit = check_removal(filter, limit, on_missing)
        return self._remove_many(filter, limit, on_missing)

    def count(self, filter: Filter | None = None) -> int:
        """How many stored records match ``filter`` (None: all of them)."""
        check_filter_arg(filter)
        return self._count(filter)

    def update(
        self, id: str, *, properties: dict[str, Any] | None = None, vector: Any = None
    ) -> dict[str, Any]:
        """Merge ``properties`` into the record (a property the schema does not declare
        is added to it, typed from the value); replace its vector when given (the record
        then moves to the end of the index order). ``NotFoundError`` when missing."""
        return self._modify(id, properties, vector, merge=True)

    def replace(
        self, *, id: str, properties: dict[str, Any] | None = None, vector: Any = None
    ) -> dict[str, Any]:
        """Replace the record's properties (None: none) and its vector when given."""
        return self._modify(id, properties, vector, merge=False)

    def to_numpy(
        self, filter: Filter | None = None, *, limit: int | None = None
    ) -> tuple[builtins.list[str], np.ndarray]:
        """``(uuids, vectors)`` of the matching records in the index order: the vectors as
        one float32 (n, d) array, bit-identical to what was stored (the first ``limit``;
        None: all).

        >>> uuids, x = index.records.to_numpy({"organism": "Homo sapiens"})  # doctest: +SKIP
        """
        check_filter_arg(filter)
        limit = check_int("limit", limit, minimum=0, maximum=MAX_INT, optional=True)
        return to_numpy(self._export(filter, limit, True, False))

    def to_arrow(
        self,
        filter: Filter | None = None,
        *,
        columns: builtins.list[str] | None = None,
        with_vector: bool = True,
        limit: int | None = None,
    ) -> Any:
        """A ``pyarrow.Table`` of the matching records: ``uuid``, one typed column per
        property (``columns``: these only, in this order), ``vector`` as
        ``FixedSizeList<float32, d>``. Needs ``pip install "eigenlake[arrow]"``."""
        check_filter_arg(filter)
        limit = check_int("limit", limit, minimum=0, maximum=MAX_INT, optional=True)
        with_vector = check_bool("with_vector", with_vector)
        return to_arrow(self._export(filter, limit, with_vector, True), columns)

    def to_pandas(
        self,
        filter: Filter | None = None,
        *,
        columns: builtins.list[str] | None = None,
        with_vector: bool = True,
        limit: int | None = None,
    ) -> Any:
        """A ``pandas.DataFrame`` with the columns of ``to_arrow`` (nullable dtypes where a
        property is missing; ``vector`` holds one float32 array per row). Needs
        ``pip install "eigenlake[pandas]"``."""
        check_filter_arg(filter)
        limit = check_int("limit", limit, minimum=0, maximum=MAX_INT, optional=True)
        with_vector = check_bool("with_vector", with_vector)
        return to_pandas(self._export(filter, limit, with_vector, True), columns)

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
        back as ``after`` for the next page (None on the last). ``limit`` is at most
        ``MAX_LIMIT``; page on with ``after`` for more."""
        limit = check_limit(limit)
        check_filter_arg(filter)
        after = cursor_text(after, "list")
        with_vector = check_bool("with_vector", with_vector)
        with_properties = check_bool("with_properties", with_properties)
        return RecordPage(self._list(filter, limit, after, with_vector, with_properties))


def label_topics(
    answer: dict[str, Any],
    labeller: Callable[[builtins.list[str], builtins.list[dict[str, Any]]], str],
) -> None:
    """Each topic's ``label`` from ``labeller(keywords, representatives)``; a label that is
    not a string is refused, naming the topic."""
    for topic in answer.get("topics") or []:
        words = [k["word"] if isinstance(k, dict) else str(k) for k in topic.get("keywords") or []]
        label = labeller(words, list(topic.get("representatives") or []))
        if not isinstance(label, str):
            raise ValidationError(
                f"labeller returned {type(label).__name__} for topic {topic.get('topic_id')};"
                " it must return a str"
            )
        topic["label"] = label


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
        seed: int = 0,
    ) -> dict[str, Any]:
        """k-means (spherical for cosine) or DBSCAN over the matching records (``limit``
        None = all); see ``docs/ANALYSIS.md`` for every choice it makes. ``seed`` fixes
        the k-means++ start (and any sampling): the same seed, the same answer.

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
            "seed": seed,
        }
        return ClusterResult(self._analyse("cluster", filter, limit, settings))

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
        return OutliersResult(self._analyse("outliers", filter, limit, settings))

    def topics(
        self,
        *,
        text_fields: builtins.list[str],
        num_topics: int | None = None,
        auto_tune: bool = True,
        filter: Filter | None = None,
        limit: int | None = 1000,
        top_words: int = 10,
        vectorizer: dict[str, Any] | None = None,
        labeller: Callable[[builtins.list[str], builtins.list[dict[str, Any]]], str] | None = None,
    ) -> dict[str, Any]:
        """Topics: spherical k-means over the vectors, keywords by c-TF-IDF of the texts.

        ``vectorizer`` shapes the keywords: ``{"stop_words": "english" | "french" |
        "german" | "spanish" | "none" | [words], "extra_stop_words": [words],
        "ngram_range": [1, n], "min_df": int | share, "max_df": share}`` (see
        ``docs/ANALYSIS.md``). ``labeller(keywords, representatives) -> str`` names each
        topic (e.g. a call to a language model); it runs here, in the caller's process, on
        the answer (default label: the top three keywords joined by ``_``).

        >>> res = index.search.topics(text_fields=["title"], vectorizer={"ngram_range": [1, 2]})  # doctest: +SKIP
        >>> [t["label"] for t in res["topics"]]  # doctest: +SKIP
        """
        if labeller is not None and not callable(labeller):
            raise ValidationError("labeller must be a function (keywords, representatives) -> str")
        settings: dict[str, Any] = {
            "text_fields": text_fields,
            "num_topics": num_topics,
            "auto_tune": auto_tune,
            "top_words": top_words,
        }
        if vectorizer is not None:  # sent only when set: older servers know no such field
            settings["vectorizer"] = vectorizer
        answer = self._analyse("topics", filter, limit, settings)
        if labeller is not None:
            label_topics(answer, labeller)
        return TopicsResult(answer)


class Search(Analyses, Protocol):
    """``index.search``: nearest neighbours, reads by position, and the analyses.

    The public methods are written once here, for every mode: each checks its arguments
    the same way everywhere (so one mistake gets the same ``ValidationError``), then hands
    them to the mode's primitive (``_nearest``, ``_get``, ``_list``), which runs the search
    or read (or sends the request) and returns the answer. ``iterate`` pages through the
    mode's ``_records.list``."""

    # ---- the mode's primitives (the arguments are checked before they are called) -------

    def _nearest(
        self, vector: Any, limit: int, filter: Filter | None, after: str | None, with_vector: bool
    ) -> dict[str, Any]:
        """``nearest`` with checked ``limit`` (an int), ``filter`` (None or a dict; what is
        inside is the mode's to check), ``after`` (a cursor's text or None) and
        ``with_vector``; the mode checks ``vector`` (named "query" in its messages)."""
        ...

    def _get(self, id: str, with_vector: bool) -> dict[str, Any] | None:
        """The record by uuid (with its vector when ``with_vector``); embedded and
        distributed: None when missing, remote: ``NotFoundError`` (the server's 404)."""
        ...

    def _list(
        self, limit: int, offset: int, with_vector: bool, with_properties: bool, newest_first: bool
    ) -> dict[str, Any]:
        """The page ``{"objects", "next_offset"}`` of the live records by position (index
        order, newest first when ``newest_first``); ``next_offset`` = offset + len(objects)."""
        ...

    @property
    def _records(self) -> Records:
        """This index's ``records``: ``iterate`` pages through its ``list``."""
        ...

    # ---- the public surface -------------------------------------------------------------

    def nearest(
        self,
        *,
        vector: Any,
        limit: int = 10,
        filter: Filter | None = None,
        after: str | None = None,
        with_vector: bool = False,
    ) -> dict[str, Any]:
        """Hits ``{"uuid", "metadata", "distance"}`` nearest first; ``next_after`` pages on.

        The cursor holds the (distance, uuid) of the last hit: the next page starts strictly
        after it, so pages never repeat a record even when the graph search is approximate.
        ``limit`` is at most ``MAX_LIMIT`` (``top_k`` on the wire; checked before sending,
        so the error names the Python argument); page on with ``after`` for more.

        A 2-D ``vector`` (q, d) is a batch of queries: the answer is a list of q answers,
        each exactly what that row alone returns (no cursor).

        >>> hits = index.search.nearest(vector=q, limit=5, filter={"year": 2024})  # doctest: +SKIP
        >>> [h["uuid"] for h in hits["results"]]  # doctest: +SKIP
        """
        limit = check_limit(limit)
        check_filter_arg(filter)
        after = cursor_text(after, "nearest")
        with_vector = check_bool("with_vector", with_vector)
        if is_query_batch(vector):
            if after is not None:
                raise ValidationError(
                    "after pages one query; a batch of queries (a 2-D vector) takes none"
                )
            answers = self._nearest_many(vector, limit, filter, with_vector)
            return cast(Any, as_nearest(answers))  # one answer per row of the batch
        return as_nearest(self._nearest(vector, limit, filter, after, with_vector))

    def _nearest_many(
        self, vectors: Any, limit: int, filter: Filter | None, with_vector: bool
    ) -> builtins.list[dict[str, Any]]:
        """``nearest`` of a batch (a 2-D array or a list of vectors): each row's answer,
        exactly what the single query returns. This default asks ``_nearest`` row by row;
        a mode with a batched kernel overrides it (one core call for the batch)."""
        return [self._nearest(row, limit, filter, None, with_vector) for row in vectors]

    def prepare(self) -> dict[str, Any]:
        """Block until ``nearest`` searches through a graph covering every stored record
        (API.md "Readiness"); searches never wait for a build themselves (they scan
        exactly meanwhile). Returns ``{"ready": True, "method": "hnsw" | "exact", "rows",
        "graph_rows"}``: ``"exact"`` when the index scans exactly anyway (at or below
        ``exact_threshold`` rows, or ``index_options["ann_index"]`` False)."""
        return self._prepare()

    def _prepare(self) -> dict[str, Any]:
        """The mode's ``prepare``: wait here, or ask the server or every shard to."""
        ...

    def get(self, id: str, *, with_vector: bool = False) -> dict[str, Any] | None:
        """The record. Embedded and distributed: None when it does not exist. Over HTTP
        ``GET …/search/object/{id}`` answers 404 instead, and the remote client raises
        ``NotFoundError``, as the PyPI client does (API.md, "Additions"); ``records.get``
        returns None in every mode."""
        with_vector = check_bool("with_vector", with_vector)
        return self._get(id, with_vector)

    def list(
        self,
        *,
        limit: int = 100,
        offset: int = 0,
        with_vector: bool = False,
        with_properties: bool = True,
        newest_first: bool = True,
    ) -> dict[str, Any]:
        """A page by position ``{"objects", "next_offset"}``: ``next_offset`` is always
        ``offset + len(objects)``."""
        limit = check_limit(limit)
        offset = check_offset(offset)
        with_vector = check_bool("with_vector", with_vector)
        with_properties = check_bool("with_properties", with_properties)
        newest_first = check_bool("newest_first", newest_first)
        return self._list(limit, offset, with_vector, with_properties, newest_first)

    def iterate(
        self, *, page_size: int = 500, with_vector: bool = False, with_properties: bool = True
    ) -> Iterator[dict[str, Any]]:
        """Every record once, oldest first (``records.list`` cursor paging, so concurrent
        appends are seen).

        A record whose vector is updated meanwhile moves to a new sequence number; the
        uuids seen so far keep it from being yielded twice. The arguments are checked
        when called, not at the first ``next()``."""
        page_size = check_limit(page_size, "page_size")
        with_vector = check_bool("with_vector", with_vector)
        with_properties = check_bool("with_properties", with_properties)
        return self._iterate(page_size, with_vector, with_properties)

    def _iterate(
        self, page_size: int, with_vector: bool, with_properties: bool
    ) -> Iterator[dict[str, Any]]:
        after = None
        seen: set[str] = set()
        while True:
            page = self._records.list(
                limit=page_size,
                after=after,
                with_vector=with_vector,
                with_properties=with_properties,
            )
            for obj in page["objects"]:
                if obj["uuid"] not in seen:
                    seen.add(obj["uuid"])
                    yield obj
            after = page.get("next_after")
            if after is None:
                return


class Settings(Protocol):
    """``index.settings``: what the index was created with (plus the properties an open
    schema gained since)."""

    def dimensions(self) -> int:
        """The vectors' length."""
        ...

    def schema(self) -> dict[str, Any]:
        """The schema as declared (``{}`` when none), with the properties added since."""
        ...

    def shards(self) -> dict[str, Any]:
        """``{"shard_count", "shards": [{"id", "records"}]}``."""
        ...

    def metric(self) -> str:
        """The index's distance metric: ``"cosine"`` or ``"euclidean"``."""
        ...

    def all(self) -> dict[str, Any]:
        """The wire protocol's settings answer: ``{"dims", "schema", "shards"}``."""
        return {"dims": self.dimensions(), "schema": self.schema(), "shards": self.shards()}


class Manage(Protocol):
    """``index.manage``: drop the index, remove records by filter (written once here over
    the mode's ``_records``)."""

    @property
    def _records(self) -> Records:
        """This index's ``records``: ``remove_by_filter`` is its ``remove_many``."""
        ...

    def delete(self) -> dict[str, Any]:
        """Drop the index and its records (``{"deleted": true}``); later use of it raises
        ``NotFoundError``."""
        ...

    def remove_by_filter(
        self, *, filter: Filter, limit: int | None = None, on_missing: str = "skip"
    ) -> dict[str, Any]:
        """``records.remove_many`` by the name of the wire's delete-by-filter."""
        return self._records.remove_many(filter=filter, limit=limit, on_missing=on_missing)


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
        limit: int | None = 1000,
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
        return AgentResult(self._query(query, settings))


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


# The index class of a mode (``Indexes[IndexT]`` returns that mode's index).
IndexT = TypeVar("IndexT", bound=Index, covariant=True)


class Indexes(Protocol[IndexT]):
    """``client.indexes``: create, open, reference and list indexes.

    ``create_or_get`` is written once here, for every mode: it checks the settings
    (``api.options.check_create``, the checks the server's route runs too), then hands them
    to the mode's ``_create_or_get``, which creates or gets the index (or sends the request)."""

    # ---- the mode's primitives (the arguments are checked before they are called) -------

    def _shard_count(self, shard_count: Any) -> Any:
        """The ``shard_count`` that ``check_create`` checks and ``_create_or_get`` gets: the
        argument as given; a mode with a rule of its own (distributed) applies it here, before
        the other settings are checked."""
        return shard_count

    def _create_or_get(self, namespace: str, index: str, **settings: Any) -> IndexT:
        """``create_or_get`` with every setting but the names checked; ``settings`` are
        ``dimensions``, ``schema``, ``index_options``, ``shard_count`` (as ``_shard_count``
        gave it) and ``record_id_property``, in that order. A new index's names are the
        mode's to check (an index named before the rule can still be got)."""
        ...

    # ---- the surface ----------------------------------------------------------------------

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
    ) -> IndexT:
        """The index, created when missing (``ConflictError`` on other settings)."""
        settings = {
            "dimensions": dimensions,
            "schema": schema,
            "index_options": index_options,
            "shard_count": self._shard_count(shard_count),
            "record_id_property": record_id_property,
        }
        check_create(**settings)
        return self._create_or_get(namespace, index, **settings)

    def open(self, *, namespace: str, index: str) -> IndexT:
        """An existing index (``NotFoundError`` when missing)."""
        ...

    def ref(self, *, namespace: str, index: str) -> IndexT:
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
    def indexes(self) -> Indexes[Index]: ...

    def ready(self) -> bool: ...

    def close(self) -> None: ...

    def __enter__(self) -> Client: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
