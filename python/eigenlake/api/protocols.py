"""The public surface, once: what every mode's client, index and parts offer.

Embedded (``eigenlake.embedded``), remote (``eigenlake.remote``) and distributed
(``eigenlake.distributed``) implement these protocols; mypy checks each of them against
this file (``eigenlake/_conformance.py``), and the server is typed against them. A signature
changes here first. Answers are the plain JSON shapes of ``../shared/spec/API.md``
(``dict[str, Any]``); errors are the classes of ``eigenlake.errors``, the same in every mode.
"""

from __future__ import annotations

import builtins
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any, Protocol, TypeVar, cast

import numpy as np

from ..errors import EigenlakeError, ValidationError
from . import usage
from .answers import (
    AgentResult,
    ClusterResult,
    NearestResult,
    OutliersResult,
    RecordPage,
    TopicsResult,
    as_nearest,
)
from .checks import (
    DUPLICATE_MODES,
    ERROR_MODES,
    MAX_INT,
    MAX_LIMIT,
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
from .embedding import query_texts
from .export import Exported, to_arrow, to_numpy, to_pandas
from .options import check_create
from .progress import analysis_bar
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
        vector: Any = None,
        id: str | None = None,
        on_duplicate: str = "error",
    ) -> str:
        """Store one record.

        Parameters
        ----------
        properties : dict or None, default None
            The record's properties, checked against the index's schema (None: none).
            When the index has a ``record_id_property`` (default ``"document_id"``) and
            it is set here, the uuid is derived from its value (uuid5), so re-sending a
            document gives the same uuid.
        vector : array-like or None, default None
            The embedding, ``dimensions`` finite numbers (a cosine index refuses an
            all-zero vector). None: an index with an embedder
            (``index_options["embedder"]``) embeds the record's text property; any
            other index refuses the record.
        id : str or None, default None
            The record's uuid; None: derived as above, else a new uuid4.
        on_duplicate : {"error", "replace", "skip"}, default "error"
            What a stored uuid does: ``"error"`` raises ``ConflictError``, ``"replace"``
            overwrites the record, ``"skip"`` keeps the stored one (its uuid is returned).

        Returns
        -------
        str
            The record's uuid.

        Raises
        ------
        ValidationError
            A bad argument, property or vector (the message names it).
        ConflictError
            The uuid is stored and ``on_duplicate="error"``.

        Examples
        --------
        >>> uid = index.records.add(properties={"title": "a"}, vector=[0.1, 0.2, 0.3])  # doctest: +SKIP
        """
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
        """Store many records in one call.

        With ``on_error="raise"`` a failing call stores nothing; with ``"continue"`` bad
        records are reported (by position) and the others stored.

        Parameters
        ----------
        data : list of dict, or a table
            ``{"properties", "vector", "id"?}`` dicts, or a table — a pandas
            ``DataFrame``, a pyarrow ``Table``/``RecordBatch`` or a dict of equal-length
            columns — whose ``vector_column`` holds the vectors, ``id_column`` the ids and
            every other column a property (a missing value — None, NaN, ``pd.NA``,
            ``NaT``, an Arrow null — leaves the record without it).
        records : list of dict, optional
            ``data``'s earlier name; pass one of the two, not both.
        vectors : 2-D array, optional
            The vectors of a table's rows (one row each), instead of ``vector_column``.
        vector_column : str, default "vector"
            The table column holding the vectors (arrays, lists, ``FixedSizeList``).
        id_column : str or None, default None
            The table column holding the uuids (None: ids as ``add`` derives them).
        progress : bool or None, default None
            Show a tqdm bar on stderr (None: when stderr is a terminal).
        on_duplicate : {"error", "replace", "skip"}, default "error"
            What a stored uuid does (see ``add``).
        on_error : {"raise", "continue"}, default "raise"
            ``"raise"``: the first bad record raises and nothing is stored;
            ``"continue"``: bad records go to ``failed_records``, the others are stored.
        batch_size : int, default 500
            Records per request or transaction, at least 1.
        max_workers : int, default 1
            At least 1; accepted for API parity, no mode uses it.

        Returns
        -------
        AddManyResult
            A list of the stored uuids (in input order), with ``failed_records``
            (``FailedRecord(id, error, position)``) and ``number_errors``.

        Raises
        ------
        ValidationError
            A bad argument, or (``on_error="raise"``) a bad record, naming its position.
        ConflictError
            A stored uuid with ``on_duplicate="error"`` and ``on_error="raise"``.

        Examples
        --------
        >>> res = index.records.add_many(df, on_error="continue")  # doctest: +SKIP
        >>> len(res), res.number_errors  # doctest: +SKIP
        """
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
        """Store records that are only a vector (no properties).

        Parameters
        ----------
        vectors : 2-D array, or list of vectors or dicts
            One row per record, or a list of vectors or ``{"id"?, "vector"}`` dicts (no
            other keys). A call stores all of them or none.
        batch_size : int, default 500
            Records per request or transaction, at least 1.
        max_workers : int, default 1
            At least 1; accepted for API parity, no mode uses it.

        Returns
        -------
        AddManyResult
            The stored uuids, a list in input order.

        Raises
        ------
        ValidationError
            A 1-D array, a dict key other than ``id``/``uuid``/``vector``, or a bad vector.
        ConflictError
            A given id is already stored.

        Examples
        --------
        >>> uuids = index.records.add_vectors(np.random.rand(100, 384))  # doctest: +SKIP
        """
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
        """One record by uuid, or None when it does not exist (in every mode).

        Parameters
        ----------
        id : str
            The record's uuid.
        return_data : bool, default True
            Include ``vector``.
        return_metadata : bool, default True
            Include ``metadata`` (the record's properties).

        Returns
        -------
        dict or None
            ``{"uuid", "metadata"?, "vector"?}``; None when no such record is stored.

        Raises
        ------
        ValidationError
            ``id`` is not a uuid, or a flag is not a bool.

        Examples
        --------
        >>> index.records.get(uid, return_data=False)["metadata"]  # doctest: +SKIP
        """
        with_vector = check_bool("return_data", return_data)
        with_properties = check_bool("return_metadata", return_metadata)
        return self._read(id, with_vector, with_properties)

    def exists(self, id: str) -> bool:
        """Whether a record with this uuid is stored.

        Parameters
        ----------
        id : str
            The record's uuid.

        Returns
        -------
        bool
            True when the record is stored.

        Raises
        ------
        ValidationError
            ``id`` is not a uuid.

        Examples
        --------
        >>> index.records.exists(uid)  # doctest: +SKIP
        True
        """
        ...

    def remove(self, id: str) -> dict[str, Any]:
        """Remove one record.

        Parameters
        ----------
        id : str
            The record's uuid.

        Returns
        -------
        dict
            ``{"deleted": 1}``.

        Raises
        ------
        NotFoundError
            No record with this uuid is stored.
        ValidationError
            ``id`` is not a uuid.

        Examples
        --------
        >>> index.records.remove(uid)  # doctest: +SKIP
        {'deleted': 1}
        """
        ...

    def remove_many(
        self, *, filter: Filter, limit: int | None = None, on_missing: str = "skip"
    ) -> dict[str, Any]:
        """Remove the records matching a filter, oldest first.

        Parameters
        ----------
        filter : dict
            A filter (see the README); ``{}`` matches every record. Required: None is
            refused (``manage.delete()`` drops the whole index).
        limit : int or None, default None
            Remove at most this many (0 to ``MAX_INT``); None: every match.
        on_missing : {"skip", "error"}, default "skip"
            ``"error"``: raise ``NotFoundError`` when nothing matches.

        Returns
        -------
        dict
            ``{"deleted": n}``, the number of records removed.

        Raises
        ------
        ValidationError
            A bad filter, ``limit`` or ``on_missing``.
        NotFoundError
            Nothing matches and ``on_missing="error"`` (nothing is removed).

        Examples
        --------
        >>> index.records.remove_many(filter={"year": {"$lt": 2000}})  # doctest: +SKIP
        {'deleted': 12}
        """
        limit = check_removal(filter, limit, on_missing)
        return self._remove_many(filter, limit, on_missing)

    def count(self, filter: Filter | None = None) -> int:
        """How many stored records match a filter.

        Parameters
        ----------
        filter : dict or None, default None
            A filter (see the README); None or ``{}``: every record.

        Returns
        -------
        int
            The number of matching records.

        Raises
        ------
        ValidationError
            A bad filter (naming the property and the problem).

        Examples
        --------
        >>> index.records.count({"year": 2024})  # doctest: +SKIP
        1
        """
        check_filter_arg(filter)
        return self._count(filter)

    def update(
        self, id: str, *, properties: dict[str, Any] | None = None, vector: Any = None
    ) -> dict[str, Any]:
        """Merge properties into a stored record and optionally replace its vector.

        Parameters
        ----------
        id : str
            The record's uuid.
        properties : dict or None, default None
            Merged into the stored properties (None: no change). A property the schema
            does not declare is added to it (open schemas), typed from the value.
        vector : array-like or None, default None
            The new vector (None: keep it); the record then moves to the end of the
            index order.

        Returns
        -------
        dict
            ``{"uuid", "metadata"}``: the record's uuid and its properties now.

        Raises
        ------
        NotFoundError
            No record with this uuid is stored.
        ValidationError
            A bad id, property or vector, or a required property left missing.

        Examples
        --------
        >>> index.records.update(uid, properties={"status": "done"})  # doctest: +SKIP
        """
        return self._modify(id, properties, vector, merge=True)

    def replace(
        self, *, id: str, properties: dict[str, Any] | None = None, vector: Any = None
    ) -> dict[str, Any]:
        """Replace a stored record's properties, and its vector when given.

        Parameters
        ----------
        id : str
            The record's uuid.
        properties : dict or None, default None
            The record's new properties, replacing all the stored ones (None: none).
        vector : array-like or None, default None
            The new vector (None: keep it); the record then moves to the end of the
            index order.

        Returns
        -------
        dict
            ``{"uuid", "metadata"}``: the record's uuid and its properties now.

        Raises
        ------
        NotFoundError
            No record with this uuid is stored.
        ValidationError
            A bad id, property or vector, or a required property missing.

        Examples
        --------
        >>> index.records.replace(id=uid, properties={"title": "b"})  # doctest: +SKIP
        """
        return self._modify(id, properties, vector, merge=False)

    def to_numpy(
        self, filter: Filter | None = None, *, limit: int | None = None
    ) -> tuple[builtins.list[str], np.ndarray]:
        """The uuids and vectors of the matching records, in the index order.

        Parameters
        ----------
        filter : dict or None, default None
            A filter (see the README); None: every record.
        limit : int or None, default None
            At most this many records, the first in the index order (0 to ``MAX_INT``);
            None: all.

        Returns
        -------
        tuple of (list of str, numpy.ndarray)
            ``(uuids, vectors)``: the vectors as one float32 (n, d) array, bit-identical
            to what was stored, row i belonging to ``uuids[i]``.

        Raises
        ------
        ValidationError
            A bad filter or ``limit``.

        Examples
        --------
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
        """A ``pyarrow.Table`` of the matching records, in the index order.

        Needs ``pip install "eigenlake[arrow]"``.

        Parameters
        ----------
        filter : dict or None, default None
            A filter (see the README); None: every record.
        columns : list of str or None, default None
            The property columns to keep, in this order (None: every property).
        with_vector : bool, default True
            Include the ``vector`` column.
        limit : int or None, default None
            At most this many records, the first in the index order (0 to ``MAX_INT``);
            None: all.

        Returns
        -------
        pyarrow.Table
            ``uuid``, one typed column per property (the schema's kinds), and ``vector``
            as ``FixedSizeList<float32, d>``.

        Raises
        ------
        ValidationError
            A bad filter, ``limit`` or flag.

        Examples
        --------
        >>> table = index.records.to_arrow(columns=["title"], with_vector=False)  # doctest: +SKIP
        """
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
        """A ``pandas.DataFrame`` of the matching records, in the index order.

        Needs ``pip install "eigenlake[pandas]"``.

        Parameters
        ----------
        filter : dict or None, default None
            A filter (see the README); None: every record.
        columns : list of str or None, default None
            The property columns to keep, in this order (None: every property).
        with_vector : bool, default True
            Include the ``vector`` column.
        limit : int or None, default None
            At most this many records, the first in the index order (0 to ``MAX_INT``);
            None: all.

        Returns
        -------
        pandas.DataFrame
            The columns of ``to_arrow``: nullable dtypes where a property is missing;
            ``vector`` holds one float32 array per row.

        Raises
        ------
        ValidationError
            A bad filter, ``limit`` or flag.

        Examples
        --------
        >>> df = index.records.to_pandas({"year": 2024}, with_vector=False)  # doctest: +SKIP
        """
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
    ) -> RecordPage:
        """One page of the matching records, oldest first, with a cursor to the next.

        Parameters
        ----------
        filter : dict or None, default None
            A filter (see the README); None: every record.
        limit : int, default 100
            Records per page, 1 to ``MAX_LIMIT`` (100,000); page on with ``after`` for
            more.
        after : str or None, default None
            The ``next_after`` of the previous page (None or ``""``: the first page).
        with_vector : bool, default False
            Include each record's ``vector``.
        with_properties : bool, default True
            Include each record's ``metadata`` (its properties).

        Returns
        -------
        RecordPage
            A dict ``{"objects": [{"uuid", "metadata"?, "vector"?}], "next_after"}``;
            ``next_after`` is None on the last page. ``.to_pandas()`` gives a table.

        Raises
        ------
        ValidationError
            A bad filter, ``limit``, flag, or a string that is not a cursor.

        Examples
        --------
        >>> page = index.records.list(filter={"tags": {"$contains": "ml"}}, limit=100)  # doctest: +SKIP
        >>> more = index.records.list(filter={"tags": {"$contains": "ml"}}, after=page["next_after"])  # doctest: +SKIP
        """
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

    @property
    def _records(self) -> Records:
        """This index's ``records`` (``progress=None`` counts the records an analysis
        covers with its ``count``)."""
        ...

    def _progress(
        self, progress: bool | None, kind: str, filter: Filter | None, limit: int | None
    ) -> AbstractContextManager[None]:
        """The progress bar of an analysis (``api/progress.py``): ``progress=None`` shows it
        on a terminal when the analysis covers more than ``SHOW_ABOVE`` records."""
        if progress is not None:
            progress = check_bool("progress", progress)
        records = None
        if progress is None and sys.stderr.isatty():
            try:
                records = self._records.count(filter)
            except EigenlakeError:  # a bad filter: the analysis refuses it with its words
                records = None
            if records is not None and type(limit) is int:
                records = min(records, limit)
        return analysis_bar(progress, kind, records)

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
        progress: bool | None = None,
    ) -> ClusterResult:
        """Cluster the matching records: k-means (spherical for cosine) or DBSCAN.

        See ``docs/ANALYSIS.md`` for every choice it makes.

        Parameters
        ----------
        filter : dict or None, default None
            Analyse only the records matching this filter (None: every record).
        limit : int or None, default 1000
            Analyse at most this many matching records (at least 1); None: all of them.
            ``parameters["num_matched"]`` says how many matched.
        algorithm : {"kmeans", "dbscan"}, default "kmeans"
            The clustering algorithm.
        num_clusters : int or None, default None
            k for k-means, 1 to ``MAX_NUM_CLUSTERS`` (10,000), capped at the number of
            records; None: 8, or the auto-tuned k with ``auto_tune``.
        distance_metric : {"cosine", "euclidean"}, default "cosine"
            The analysis metric (a cosine index holds unit vectors, so euclidean there
            is the chord distance).
        text_fields : list of str or None, default None
            Text properties whose c-TF-IDF words give each cluster's ``keywords`` and
            ``summary`` (None: none).
        max_iterations : int, default 50
            k-means iterations at most, at least 1.
        representatives_per_cluster : int, default 3
            Records nearest each centre to list, at least 0.
        auto_tune : bool, default False
            k-means: try every k in [``min_clusters``, ``max_clusters``] (capped at n-1)
            and keep the best silhouette (``parameters["scores"]``).
        min_clusters : int, default 2
            The smallest k ``auto_tune`` tries, 2 to ``MAX_AUTO_TUNE_CLUSTERS`` (256).
        max_clusters : int, default 8
            The largest k ``auto_tune`` tries, ``min_clusters`` to 256 (checked with or
            without ``auto_tune``).
        dbscan_eps : float or None, default None
            DBSCAN's neighbourhood radius, > 0; None: chosen from the k-distance curve
            (``parameters["dbscan_eps"]``).
        dbscan_min_samples : int, default 5
            DBSCAN's core-point count (the record itself counted), at least 1.
        seed : int, default 0
            Fixes the k-means++ start (and any sampling), at least 0: the same seed, the
            same answer.
        progress : bool or None, default None
            A tqdm bar on stderr that advances at each step the analysis takes (each k an
            auto-tune tries, each restart or eps candidate); None: shown on a terminal when
            the analysis covers more than 50,000 records. Embedded and sharded only: a
            server's analysis cannot report to its client.

        Returns
        -------
        ClusterResult
            A dict ``{"clusters", "noise_count", "silhouette", "parameters",
            "projection"}``. ``clusters`` are largest first, each ``{"cluster_id" (its
            rank), "count", "keywords"?, "summary"?, "representatives", "members"}``;
            ``parameters`` holds ``num_clusters``, ``num_records`` and the settings
            used; ``usage`` is ``{"records_scanned", "compute_ms", "search_units"}``
            (``api/usage.py``). ``.to_pandas()`` and ``.plot()`` view it.

        Raises
        ------
        ValidationError
            A bad filter or setting (the message names it).
        QuotaExceededError
            Remote: the API key has used its search units for the day (HTTP 429).

        Examples
        --------
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
        started = time.perf_counter()
        with self._progress(progress, "cluster", filter, limit):
            answer = self._analyse("cluster", filter, limit, settings)
        return ClusterResult(usage.complete(answer, "cluster", started))

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
        progress: bool | None = None,
    ) -> OutliersResult:
        """Rank the matching records by local outlier factor (LOF).

        Parameters
        ----------
        filter : dict or None, default None
            Analyse only the records matching this filter (None: every record).
        limit : int or None, default 1000
            Analyse at most this many matching records (at least 1); None: all of them.
        n_neighbors : int, default 20
            LOF's neighbourhood size, at least 1 (capped at n-1).
        contamination : "auto" or float, default "auto"
            ``"auto"`` flags scores above 1.5; a share in (0, 0.5] flags that quantile.
        distance_metric : {"cosine", "euclidean"}, default "cosine"
            The analysis metric.
        return_all : bool, default False
            List every analysed record with its score, not only the flagged ones.
        max_results : int or None, default None
            List at most this many (at least 0); ``outlier_count`` still counts every
            flagged record.
        progress : bool or None, default None
            A tqdm bar on stderr that advances at each step the analysis takes (each k an
            auto-tune tries, each restart or eps candidate); None: shown on a terminal when
            the analysis covers more than 50,000 records. Embedded and sharded only: a
            server's analysis cannot report to its client.

        Returns
        -------
        OutliersResult
            A dict ``{"outliers", "outlier_count", "parameters"}``: ``outliers`` most
            outlying first, each ``{"uuid", "metadata", "score" (LOF, about 1 for
            inliers), "is_outlier"}``; ``usage`` is ``{"records_scanned", "compute_ms",
            "search_units"}``. ``.to_pandas()`` and ``.plot()`` view it.

        Raises
        ------
        ValidationError
            A bad filter or setting (the message names it).
        QuotaExceededError
            Remote: the API key has used its search units for the day (HTTP 429).

        Examples
        --------
        >>> out = index.search.outliers(filter={"phylum": "Mollusca"}, n_neighbors=20)  # doctest: +SKIP
        >>> [(o["uuid"], o["score"]) for o in out["outliers"][:5]]  # doctest: +SKIP
        """
        settings = {
            "n_neighbors": n_neighbors,
            "contamination": contamination,
            "distance_metric": distance_metric,
            "return_all": return_all,
            "max_results": max_results,
        }
        started = time.perf_counter()
        with self._progress(progress, "outliers", filter, limit):
            answer = self._analyse("outliers", filter, limit, settings)
        return OutliersResult(usage.complete(answer, "outliers", started))

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
        progress: bool | None = None,
    ) -> TopicsResult:
        """Topics: spherical k-means over the vectors, keywords by c-TF-IDF of the texts.

        Parameters
        ----------
        text_fields : list of str
            The text properties the keywords come from (at least one).
        num_topics : int or None, default None
            The number of topics, 1 to ``MAX_NUM_CLUSTERS`` (10,000); None: auto-tuned,
            or 8 without ``auto_tune``.
        auto_tune : bool, default True
            Without ``num_topics``: pick the k in [2, 12] whose keywords score best on
            topic quality (coherence x diversity).
        filter : dict or None, default None
            Analyse only the records matching this filter (None: every record).
        limit : int or None, default 1000
            Analyse at most this many matching records (at least 1); None: all of them.
        top_words : int, default 10
            Keywords per topic, at least 1.
        vectorizer : dict or None, default None
            Shapes the keywords: ``{"stop_words": "english" | "french" | "german" |
            "spanish" | "none" | [words], "extra_stop_words": [words], "ngram_range":
            [1, n] (n at most 3), "min_df": int | share, "max_df": share}`` (see
            ``docs/ANALYSIS.md``).
        labeller : callable or None, default None
            ``labeller(keywords, representatives) -> str`` names each topic (e.g. a call
            to a language model); it runs here, in the caller's process, on the answer.
            Default label: the top three keywords joined by ``_``.
        progress : bool or None, default None
            A tqdm bar on stderr that advances at each step the analysis takes (each k an
            auto-tune tries, each restart or eps candidate); None: shown on a terminal when
            the analysis covers more than 50,000 records. Embedded and sharded only: a
            server's analysis cannot report to its client.

        Returns
        -------
        TopicsResult
            A dict ``{"topics", "silhouette", "parameters"}``: ``topics`` largest first,
            each ``{"topic_id", "count", "keywords" ([{"word", "weight"}]), "label",
            "summary", "representatives", "members"}``; ``usage`` is
            ``{"records_scanned", "compute_ms", "search_units"}``. ``.to_pandas()`` and
            ``.plot()`` view it.

        Raises
        ------
        ValidationError
            No ``text_fields``, a bad setting or vectorizer key, a ``labeller`` that is
            not callable or returns something other than a str.
        QuotaExceededError
            Remote: the API key has used its search units for the day (HTTP 429).

        Examples
        --------
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
        started = time.perf_counter()
        with self._progress(progress, "topics", filter, limit):
            answer = self._analyse("topics", filter, limit, settings)
        answer = usage.complete(answer, "topics", started)
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

    def _nearest_first(self, vector: Any, limit: int, started: float) -> NearestResult:
        """The finished answer (usage complete) of the common query: one vector, a
        checked ``limit``, no filter, cursor or vectors; the call began at ``started``
        (``time.perf_counter``). A mode may answer it in fewer steps (the embedded one
        does); the answer must be what ``_nearest`` gives."""
        answer = self._nearest(vector, limit, None, None, False)
        return NearestResult(usage.complete(answer, "nearest", started))

    def _nearest_filtered(
        self, vector: Any, limit: int, filter: dict[str, Any], started: float
    ) -> NearestResult:
        """``_nearest_first`` with a filter (a dict; what is inside is the mode's to
        check): the finished answer of a first page without vectors. The answer must be
        what ``_nearest`` gives (the embedded mode answers it in fewer steps)."""
        answer = self._nearest(vector, limit, filter, None, False)
        return NearestResult(usage.complete(answer, "nearest", started))

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
        vector: Any = None,
        limit: int = 10,
        filter: Filter | None = None,
        after: str | None = None,
        with_vector: bool = False,
        text: str | builtins.list[str] | None = None,
    ) -> dict[str, Any]:
        """The records nearest a query vector, nearest first, with a cursor to page on.

        The cursor holds the (distance, uuid) of the last hit: the next page starts strictly
        after it, so pages never repeat a record even when the graph search is approximate.

        Parameters
        ----------
        vector : array-like or None, default None
            The query, ``dimensions`` finite numbers (None: pass ``text``, exactly one
            of the two). A 2-D ``vector`` (q, d) is a batch
            of queries: the answer is a list of q answers, each exactly what that row
            alone returns (no cursor).
        limit : int, default 10
            Hits per page, 1 to ``MAX_LIMIT`` (100,000; ``top_k`` on the wire, checked
            before sending, so the error names the Python argument); page on with
            ``after`` for more.
        filter : dict or None, default None
            Only records matching this filter (see the README).
        after : str or None, default None
            The ``next_after`` of the previous page, with the same query and filter
            (None or ``""``: the first page). Not with a batch of queries.
        with_vector : bool, default False
            Include each hit's ``vector``.
        text : str, list of str or None, default None
            The query as text instead of ``vector`` (exactly one of the two): embedded
            by the index's embedder (``index_options["embedder"]``; over HTTP the server
            embeds it). A list of texts is a batch, as a 2-D ``vector`` is.

        Returns
        -------
        NearestResult or list of NearestResult
            A dict ``{"results": [{"uuid", "metadata", "distance", "vector"?}],
            "next_after"}`` (``distance``: ``1 - cos`` or euclidean, by the index's
            metric; ``next_after`` None on the last page); a list of them for a 2-D
            ``vector`` or a list of texts. ``usage`` is ``{"records_scanned",
            "compute_ms", "search_units"}`` (``api/usage.py``). ``.to_pandas()`` gives a
            table.

        Raises
        ------
        ValidationError
            A bad query (wrong length, NaN, all zeros on a cosine index), filter,
            ``limit`` or cursor, or ``after`` with a batch of queries; ``text`` on an
            index without an embedder, or both or neither of ``vector`` and ``text``.
        QuotaExceededError
            Remote: the API key has used its search units for the day (HTTP 429).

        Examples
        --------
        >>> hits = index.search.nearest(vector=q, limit=5, filter={"year": 2024})  # doctest: +SKIP
        >>> [h["uuid"] for h in hits["results"]]  # doctest: +SKIP
        """
        if (
            type(limit) is int
            and 0 < limit <= MAX_LIMIT
            and after is None
            and with_vector is False
            and text is None
            and type(vector) is np.ndarray
            and vector.ndim == 1
        ):
            # The common query (one vector, no cursor), told by exact types: the checks
            # below pass these arguments through unchanged, so they are skipped; the
            # mode's `_nearest` checks the vector (and a filter's contents) itself
            # (tests/unit/test_nearest_fast_path.py)
            if filter is None:
                return self._nearest_first(vector, limit, time.perf_counter())
            if type(filter) is dict:
                return self._nearest_filtered(vector, limit, filter, time.perf_counter())
        limit = check_limit(limit)
        check_filter_arg(filter)
        after = cursor_text(after, "nearest")
        with_vector = check_bool("with_vector", with_vector)
        if text is not None or vector is None:
            if text is None:
                raise ValidationError(
                    "pass vector=... (the query vector) or text=... (embedded by the index's"
                    " embedder)"
                )
            if vector is not None:
                raise ValidationError("pass vector or text, not both")
            texts = query_texts(text)
            if not isinstance(text, str) and after is not None:
                raise ValidationError("after pages one query; a batch of texts takes none")
            single = isinstance(text, str)
            found = self._nearest_text(texts, single, limit, filter, after, with_vector)
            return cast(Any, found)
        if is_query_batch(vector):
            if after is not None:
                raise ValidationError(
                    "after pages one query; a batch of queries (a 2-D vector) takes none"
                )
            started = time.perf_counter()
            answers = self._nearest_many(vector, limit, filter, with_vector)
            share = 1.0 / max(len(answers), 1)  # the batch's time, split over its queries
            answers = [usage.complete(a, "nearest", started, share) for a in answers]
            return cast(Any, as_nearest(answers))  # one answer per row of the batch
        started = time.perf_counter()
        answer = self._nearest(vector, limit, filter, after, with_vector)
        return as_nearest(usage.complete(answer, "nearest", started))

    def _nearest_text(
        self,
        texts: builtins.list[str],
        single: bool,
        limit: int,
        filter: Filter | None,
        after: str | None,
        with_vector: bool,
    ) -> Any:
        """``nearest(text=...)``, the arguments checked (``single``: one str was given, one
        answer; else a batch, a list of answers). This default embeds the texts with the
        mode's ``_embed_queries`` and searches by vector; remote sends them as they are
        (the server embeds them)."""
        vectors = self._embed_queries(texts)
        query = vectors[0] if single else vectors
        return self.nearest(
            vector=query, limit=limit, filter=filter, after=after, with_vector=with_vector
        )

    def _embed_queries(self, texts: builtins.list[str]) -> np.ndarray:
        """The index's embedder over ``texts``: a (q, d) float32 block
        (``api.embedding.embed_queries``; ``ValidationError`` for an index without one)."""
        ...

    def _nearest_many(
        self, vectors: Any, limit: int, filter: Filter | None, with_vector: bool
    ) -> builtins.list[dict[str, Any]]:
        """``nearest`` of a batch (a 2-D array or a list of vectors): each row's answer,
        exactly what the single query returns. This default asks ``_nearest`` row by row;
        a mode with a batched kernel overrides it (one core call for the batch)."""
        return [self._nearest(row, limit, filter, None, with_vector) for row in vectors]

    def prepare(self) -> dict[str, Any]:
        """Block until ``nearest`` searches through a graph covering every stored record.

        See API.md "Readiness". Searches never wait for a build themselves (they scan
        exactly meanwhile); call this after a bulk load to make the next searches fast.

        Returns
        -------
        dict
            ``{"ready": True, "method": "hnsw" | "exact", "rows", "graph_rows"}``:
            ``"exact"`` when the index scans exactly anyway (at or below
            ``exact_threshold`` rows, or ``index_options["ann_index"]`` False).

        Examples
        --------
        >>> index.search.prepare()["method"]  # doctest: +SKIP
        'hnsw'
        """
        return self._prepare()

    def _prepare(self) -> dict[str, Any]:
        """The mode's ``prepare``: wait here, or ask the server or every shard to."""
        ...

    def get(self, id: str, *, with_vector: bool = False) -> dict[str, Any] | None:
        """One record by uuid (the wire's ``GET …/search/object/{id}``).

        Parameters
        ----------
        id : str
            The record's uuid.
        with_vector : bool, default False
            Include the record's ``vector``.

        Returns
        -------
        dict or None
            ``{"uuid", "metadata", "vector"?}``. Embedded and distributed: None when it
            does not exist (``records.get`` returns None in every mode).

        Raises
        ------
        NotFoundError
            Remote only: the server answers 404 for a missing record and the remote
            client raises, as the PyPI client does (API.md, "Additions").
        ValidationError
            ``id`` is not a uuid, or ``with_vector`` is not a bool.

        Examples
        --------
        >>> index.search.get(uid, with_vector=True)["vector"]  # doctest: +SKIP
        """
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
        """One page of the records by position in the index order.

        Parameters
        ----------
        limit : int, default 100
            Records per page, 1 to ``MAX_LIMIT`` (100,000).
        offset : int, default 0
            Records to skip, 0 to ``MAX_INT``.
        with_vector : bool, default False
            Include each record's ``vector``.
        with_properties : bool, default True
            Include each record's ``metadata``.
        newest_first : bool, default True
            Newest records first; False: oldest first.

        Returns
        -------
        dict
            ``{"objects": [{"uuid", "metadata"?, "vector"?}], "next_offset"}``:
            ``next_offset`` is always ``offset + len(objects)``.

        Raises
        ------
        ValidationError
            A bad ``limit``, ``offset`` or flag.

        Examples
        --------
        >>> page = index.search.list(limit=50, offset=100)  # doctest: +SKIP
        """
        limit = check_limit(limit)
        offset = check_offset(offset)
        with_vector = check_bool("with_vector", with_vector)
        with_properties = check_bool("with_properties", with_properties)
        newest_first = check_bool("newest_first", newest_first)
        return self._list(limit, offset, with_vector, with_properties, newest_first)

    def iterate(
        self, *, page_size: int = 500, with_vector: bool = False, with_properties: bool = True
    ) -> Iterator[dict[str, Any]]:
        """Every record once, oldest first.

        Pages through ``records.list`` with its cursor, so concurrent appends are seen.
        A record whose vector is updated meanwhile moves to a new sequence number; the
        uuids seen so far keep it from being yielded twice.

        Parameters
        ----------
        page_size : int, default 500
            Records fetched per page, 1 to ``MAX_LIMIT`` (100,000).
        with_vector : bool, default False
            Include each record's ``vector``.
        with_properties : bool, default True
            Include each record's ``metadata``.

        Returns
        -------
        Iterator of dict
            The records ``{"uuid", "metadata"?, "vector"?}``.

        Raises
        ------
        ValidationError
            A bad ``page_size`` or flag: checked when called, not at the first
            ``next()``.

        Examples
        --------
        >>> n = sum(1 for _ in index.search.iterate(page_size=1000))  # doctest: +SKIP
        """
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
            objects: builtins.list[dict[str, Any]] = page.get("objects") or []
            for obj in objects:
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
        """The vectors' length.

        Returns
        -------
        int
            The ``dimensions`` the index was created with.

        Examples
        --------
        >>> index.settings.dimensions()  # doctest: +SKIP
        384
        """
        ...

    def schema(self) -> dict[str, Any]:
        """The schema as declared, with the properties an open schema gained since.

        Returns
        -------
        dict
            The JSON-Schema dict (``{}`` when the index has none).

        Examples
        --------
        >>> index.settings.schema()["properties"]  # doctest: +SKIP
        """
        ...

    def shards(self) -> dict[str, Any]:
        """How the index's records are split over shards.

        Returns
        -------
        dict
            ``{"shard_count", "shards": [{"id", "records"}]}``.

        Examples
        --------
        >>> index.settings.shards()  # doctest: +SKIP
        {'shard_count': 1, 'shards': [{'id': 0, 'records': 1000}]}
        """
        ...

    def metric(self) -> str:
        """The index's distance metric.

        Returns
        -------
        str
            ``"cosine"`` or ``"euclidean"``.

        Examples
        --------
        >>> index.settings.metric()  # doctest: +SKIP
        'cosine'
        """
        ...

    def all(self) -> dict[str, Any]:
        """The wire protocol's settings answer, in one dict.

        Returns
        -------
        dict
            ``{"dims", "schema", "shards"}``: ``dimensions()``, ``schema()`` and
            ``shards()``.

        Examples
        --------
        >>> index.settings.all()["dims"]  # doctest: +SKIP
        384
        """
        return {"dims": self.dimensions(), "schema": self.schema(), "shards": self.shards()}


class Manage(Protocol):
    """``index.manage``: drop the index, remove records by filter (written once here over
    the mode's ``_records``)."""

    @property
    def _records(self) -> Records:
        """This index's ``records``: ``remove_by_filter`` is its ``remove_many``."""
        ...

    def delete(self) -> dict[str, Any]:
        """Drop the index and its records.

        Returns
        -------
        dict
            ``{"deleted": True}``.

        Raises
        ------
        NotFoundError
            The index does not exist; later use of a dropped index raises it too.

        Examples
        --------
        >>> index.manage.delete()  # doctest: +SKIP
        {'deleted': True}
        """
        ...

    def remove_by_filter(
        self, *, filter: Filter, limit: int | None = None, on_missing: str = "skip"
    ) -> dict[str, Any]:
        """Remove the records matching a filter: ``records.remove_many`` by the name of the
        wire's delete-by-filter.

        Parameters
        ----------
        filter : dict
            A filter; ``{}`` matches every record (None is refused).
        limit : int or None, default None
            Remove at most this many, oldest first (0 to ``MAX_INT``); None: every match.
        on_missing : {"skip", "error"}, default "skip"
            ``"error"``: raise ``NotFoundError`` when nothing matches.

        Returns
        -------
        dict
            ``{"deleted": n}``.

        Raises
        ------
        ValidationError
            A bad filter, ``limit`` or ``on_missing``.
        NotFoundError
            Nothing matches and ``on_missing="error"`` (nothing is removed).

        Examples
        --------
        >>> index.manage.remove_by_filter(filter={"status": "stale"})  # doctest: +SKIP
        {'deleted': 3}
        """
        return self._records.remove_many(filter=filter, limit=limit, on_missing=on_missing)


class BatchWriter(Protocol):
    """A context manager that buffers ``add`` calls and stores them in batches."""

    failed_records: list[FailedRecord]

    @property
    def number_errors(self) -> int:
        """How many records were refused so far (``len(failed_records)``)."""
        ...

    def add(
        self, *, properties: dict[str, Any] | None = None, vector: Any = None, id: Any = None
    ) -> str:
        """Buffer one record; a full buffer (``batch_size`` records) is stored at once.

        Parameters
        ----------
        properties : dict or None, default None
            The record's properties (None: none).
        vector : array-like or None, default None
            The embedding, ``dimensions`` numbers (checked when the batch is stored).
            None: an index with an embedder (``index_options["embedder"]``) embeds the
            record's text property; any other index refuses the record.
        id : str or None, default None
            The record's uuid; None: a new uuid4.

        Returns
        -------
        str
            The record's uuid.

        Raises
        ------
        ValidationError
            ``id`` is not a uuid; with ``on_error="raise"``, a bad record of a batch
            stored by this call.

        Examples
        --------
        >>> with index.batch.with_size(batch_size=500) as batch:  # doctest: +SKIP
        ...     uid = batch.add(properties={"title": "a"}, vector=[0.1, 0.2, 0.3])
        """
        ...

    def flush(self) -> None:
        """Store what is buffered now (leaving the ``with`` block does it too).

        Raises
        ------
        ValidationError
            With ``on_error="raise"``: a bad buffered record (none of the buffered
            records is stored).

        Examples
        --------
        >>> batch.flush()  # doctest: +SKIP
        """
        ...

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
    ) -> BatchWriter:
        """A context manager whose ``add`` buffers records and stores them in batches.

        Leaving the block stores the rest; an exception inside it drops them.

        Parameters
        ----------
        batch_size : int, default 200
            Records per stored batch, at least 1.
        max_workers : int, default 1
            At least 1; accepted for API parity, no mode uses it.
        on_error : {"continue", "raise"}, default "continue"
            ``"continue"``: bad records go to ``failed_records``, the others are stored;
            ``"raise"``: a bad record fails its whole batch.

        Returns
        -------
        BatchWriter
            The writer: ``add``, ``flush``, ``failed_records``, ``number_errors``.

        Raises
        ------
        ValidationError
            A bad setting (checked now, not at the first flush).

        Examples
        --------
        >>> with index.batch.with_size(batch_size=500) as batch:  # doctest: +SKIP
        ...     for row in rows:
        ...         batch.add(properties=row["props"], vector=row["vec"])
        >>> batch.number_errors  # doctest: +SKIP
        0
        """
        ...


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
    ) -> AgentResult:
        """Turn a plain-English request into a filter and an action, and run it.

        The planner is offline and rule-based over the index's schema and values (see
        ``eigenlake.agent.set_default_planner`` to plug in another). A request with parts
        it cannot turn into a filter is answered with action ``"none"``, saying which
        parts, rather than run on a guess.

        Parameters
        ----------
        query : str
            The request, e.g. ``"group human proteins longer than 300 residues"``
            (non-empty).
        filter : dict or None, default None
            ANDed with the filter the planner infers.
        limit : int or None, default 1000
            Run over at most this many matching records (1 to ``MAX_INT``); None: all.
        mode : {"auto", "cluster", "filter", "outliers", "topics"}, default "auto"
            ``"auto"``: the planner picks the action; any other forces it (the filter is
            still inferred).
        algorithm : {"kmeans", "dbscan"}, default "kmeans"
            Clustering algorithm (action ``"cluster"``).
        num_clusters : int or None, default None
            k for clustering, or the number of topics (at least 1); None: the default.
        text_fields : list of str or None, default None
            Text properties for keywords (None: the string properties that describe
            groups).
        auto_tune : bool, default False
            Pick k by silhouette within [``min_clusters``, ``max_clusters``].
        min_clusters : int, default 2
            The smallest k ``auto_tune`` tries (at least 2).
        max_clusters : int, default 8
            The largest k ``auto_tune`` tries (at least 2).
        dbscan_eps : float or None, default None
            DBSCAN's radius, > 0 (None: chosen from the k-distance curve).
        dbscan_min_samples : int, default 5
            DBSCAN's core-point count, at least 1.
        time_field : str, default "created_at"
            The date property that words like "recent" or "last 3 days" filter on.
        failure_field : str, default "status"
            The property that words like "failed" filter on.
        failure_values : list of str or None, default None
            The values of ``failure_field`` that count as failures (None:
            ``["failure", "failed", "error"]``).
        recent_days : int, default 7
            How far "recent" reaches back, 1 to 36,525 days.

        Returns
        -------
        AgentResult
            A dict ``{"query", "action", "filter", "explanation", "count"?, ...}``
            (``filter`` is ``{}`` when none) plus the answer of the action it ran:
            ``objects`` (filter), or the keys of ``cluster``, ``outliers`` or
            ``topics``; ``usage`` is ``{"records_scanned", "compute_ms",
            "search_units"}``.

        Raises
        ------
        ValidationError
            An empty query, a bad filter or setting, or topics without any text
            property.
        QuotaExceededError
            Remote: the API key has used its search units for the day (HTTP 429).

        Examples
        --------
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
        started = time.perf_counter()
        answer = self._query(query, settings)
        return AgentResult(usage.complete(answer, str(answer.get("action")), started))


class Index(Protocol):
    """One named index: its records, searches and analyses, settings and management."""

    @property
    def records(self) -> Records:
        """Write, read and remove records (``Records``)."""
        ...

    @property
    def search(self) -> Search:
        """Nearest neighbours, reads by position and the analyses (``Search``)."""
        ...

    @property
    def settings(self) -> Settings:
        """What the index was created with (``Settings``)."""
        ...

    @property
    def manage(self) -> Manage:
        """Drop the index, remove records by filter (``Manage``)."""
        ...

    @property
    def batch(self) -> Batch:
        """Buffered writes: ``batch.with_size(...)`` (``Batch``)."""
        ...

    @property
    def agent(self) -> Agent:
        """Plain-English requests: ``agent.query(...)`` (``Agent``)."""
        ...


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
        """The index, created when missing.

        Parameters
        ----------
        namespace : str
            The namespace: 1 to 128 characters of ``A-Z a-z 0-9 _ . -``.
        index : str
            The index name, under the same rule.
        dimensions : int
            The vectors' length, 1 to ``MAX_DIMENSIONS`` (65,536).
        schema : dict or None, default None
            A JSON-Schema of the properties (e.g. from ``eigenlake.schema.SchemaBuilder``);
            None: any properties.
        index_options : dict or None, default None
            ``distance_metric`` (``"cosine"``, the default, or ``"euclidean"``),
            ``exact_threshold``, ``ann_index``, ``quantized_scan`` (exact scans read int8
            codes of the rows, same answers; default True), ``hnsw`` (``m`` 2..256,
            ``ef_construction``/``ef_search`` 1..4,096), ``metadataConfiguration``.
        shard_count : int, default 1
            1 to 1,024; a distributed client takes 1 or its ``num_shards``.
        record_id_property : str or None, default "document_id"
            A property whose value derives a record's uuid (uuid5), so re-sending a
            document gives the same uuid (see ``on_duplicate``); None: none.

        Returns
        -------
        Index
            The mode's index (``records``, ``search``, ``settings``, ``manage``,
            ``batch``, ``agent``).

        Raises
        ------
        ValidationError
            A bad name or setting.
        ConflictError
            The index exists with other settings (dimensions, metric or schema).

        Examples
        --------
        >>> idx = client.indexes.create_or_get(namespace="demo", index="papers", dimensions=384)  # doctest: +SKIP
        """
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
        """An existing index.

        Parameters
        ----------
        namespace : str
            The index's namespace.
        index : str
            The index's name.

        Returns
        -------
        Index
            The mode's index.

        Raises
        ------
        NotFoundError
            No such index.
        StorageError
            Embedded: the index's files are damaged.

        Examples
        --------
        >>> idx = client.indexes.open(namespace="demo", index="papers")  # doctest: +SKIP
        """
        ...

    def ref(self, *, namespace: str, index: str) -> IndexT:
        """A handle to an index without a round trip (errors surface on first use).

        Parameters
        ----------
        namespace : str
            The index's namespace.
        index : str
            The index's name.

        Returns
        -------
        Index
            The mode's index; a missing one raises ``NotFoundError`` when first used.

        Examples
        --------
        >>> idx = client.indexes.ref(namespace="demo", index="papers")  # doctest: +SKIP
        """
        ...

    def list(self) -> builtins.list[dict[str, str]]:
        """Every index.

        Returns
        -------
        list of dict
            ``[{"namespace", "index"}]``.

        Examples
        --------
        >>> client.indexes.list()  # doctest: +SKIP
        [{'namespace': 'demo', 'index': 'papers'}]
        """
        ...

    def delete(self, *, namespace: str, index: str) -> dict[str, Any]:
        """Drop an index and its records (also a damaged one).

        Parameters
        ----------
        namespace : str
            The index's namespace.
        index : str
            The index's name.

        Returns
        -------
        dict
            ``{"deleted": True}``.

        Raises
        ------
        NotFoundError
            No such index.

        Examples
        --------
        >>> client.indexes.delete(namespace="demo", index="papers")  # doctest: +SKIP
        {'deleted': True}
        """
        ...


class Client(Protocol):
    """What ``eigenlake.connect(...)`` returns, in every mode (a context manager that closes
    the client on leaving: ``api.closing.Closing``)."""

    @property
    def indexes(self) -> Indexes[Index]:
        """Create, open, reference and list indexes (``Indexes``)."""
        ...

    def ready(self) -> bool:
        """Whether the client can serve requests.

        Returns
        -------
        bool
            Embedded: not closed and the data directory exists; remote: the server
            answers ready (False when it cannot be reached).

        Examples
        --------
        >>> client.ready()  # doctest: +SKIP
        True
        """
        ...

    def close(self) -> None:
        """Close the client (leaving the ``with`` block does it).

        Embedded: closes the open indexes; remote: closes the connection pool;
        distributed: stops the shard actors (and the Ray it started).

        Examples
        --------
        >>> client.close()  # doctest: +SKIP
        """
        ...

    def __enter__(self) -> Client: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
