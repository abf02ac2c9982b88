"""The internal API of an embedded ``Index``: what its facades (and a shard) may use.

Not for users: ``index.records``, ``index.search``, ... are the public surface
(``eigenlake.api.protocols``). The facades (``records``, ``search``, ``settings``,
``manage``, ``ingest``) are typed against the protocols here, never against ``Index``
itself, so they import nothing of ``index.py`` and ``index.py`` builds them with plain
module-level imports: ``embedded/`` imports form a DAG (``tests/unit/test_embedded_layering.py``).

The rules the API keeps for its callers:

- Every read or write runs inside one *span*: ``with index.reading() as view`` or
  ``with index.writing() as w``. A span holds the index lock (the server calls from
  threads) and starts with a sync: a change another process or client committed is seen
  (SQLite's ``data_version`` moved: the cache is rebuilt from the store). Spans nest on one
  thread; an inner span shares the outer one's sync, so one call sees one state. A call
  opens one span and hands its view to its helpers (a span costs about a microsecond).
- A view is only valid inside its span; it reads the index's current cache, schema and
  config on every access (a transaction may rebuild them), so keep the view, not them.
- A write validates every record of the call on ``w`` first, then runs exactly one
  ``w.transaction()`` (the store's write transaction, on a cache made fresh under the
  write lock), and changes the cache only after it commits (still inside the span). A
  failed transaction leaves no trace: the settings and schema are restored from the store.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Protocol

import numpy as np

from .. import filters
from ..analysis.snapshot import Snapshot
from ..api import protocols
from .cache import Cache
from .store import Store
from .validate import CompiledSchema, PropSpec


class ReadView(Protocol):
    """The index as a read span sees it (``Index.reading()``): reads only, no
    ``transaction()`` or ``declare()`` (those are the write view's)."""

    @property
    def cache(self) -> Cache:
        """The NumPy cache: one row per stored record (dead rows are tombstones); row ids
        are what the kernels see. Read it; change it only in a write span, after commit."""
        ...

    @property
    def schema(self) -> CompiledSchema:
        """The compiled schema (properties, required names, validation)."""
        ...

    @property
    def config(self) -> dict[str, Any]:
        """The settings the index was created with (``meta.settings``)."""
        ...

    @property
    def dimensions(self) -> int: ...

    @property
    def metric(self) -> str:
        """``"cosine"`` or ``"euclidean"``."""
        ...

    @property
    def next_seq(self) -> int:
        """The sequence number the next stored record gets (``meta.next_seq``: records are
        ordered by it), read from the store; inside ``transaction()``, the value that
        transaction sees. Set it there with ``store.set_meta("next_seq", n)``."""
        ...

    def parse_filter(self, flt: Any) -> filters.Node | None:
        """A filter dict checked against the schema (``ValidationError``); None for none."""
        ...

    def filter_mask(self, node: filters.Node | None) -> np.ndarray:
        """Bool mask over the cache rows: alive and matching ``node`` (no copy when
        ``node`` is None: a read-only view of the alive rows)."""
        ...

    def records_by_rows(
        self,
        rows: list[int],
        *,
        with_vector: bool,
        with_properties: bool = True,
        uuids: list[str] | None = None,
    ) -> list[dict[str, Any]]:
        """``{"uuid", "metadata"?, "vector"?}`` of cache rows in the given order: properties
        from memory, vectors (as sent) from the store; a record another process removed
        since the sync is left out. ``uuids``: the rows' uuids, when the caller has them."""
        ...

    def stored_vectors(self, rows: np.ndarray) -> np.ndarray:
        """The vectors of cache rows exactly as stored, one (len(rows), d) float32 block
        (a cosine index's cache holds them normalised: those are read from the store)."""
        ...

    def graph_search(
        self, q: np.ndarray, k: int, mask: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Top ``k`` (row ids, kernel scores) through the HNSW graph, which is created on
        first use and caught up in the background with rows added since; None while a
        build holds the graph's pool (the caller then scans)."""
        ...

    def graph_first_page(
        self, vector: np.ndarray, limit: int
    ) -> tuple[list[dict[str, Any]], str | None] | None:
        """An unfiltered query's first ``limit`` hits through the graph alone, for the
        caller's 1-D query array (checked and made unit length by the core), with the
        cursor after them when more follow: (hits, cursor or None; the hits' metadata are
        new dicts, the caller's); None when the graph does
        not cover every row, does not follow this cache yet, a build holds it, or the
        vector is not a valid float query (the general path then answers or raises)."""
        ...

    def graph_building(self) -> bool:
        """Whether a build or catch-up of the graph runs (it holds the compute pool)."""
        ...


class WriteView(ReadView, Protocol):
    """The index as a write span sees it (``Index.writing()``): validate on it first."""

    def transaction(self) -> AbstractContextManager[Store]:
        """The call's one store transaction, on a cache made fresh under the write lock
        (look rows up again inside it); commits on exit. Change the cache after it."""
        ...

    def declare(self, store: Store, specs: dict[str, PropSpec]) -> None:
        """Add properties to the schema and save the settings (inside ``transaction()``)."""
        ...


class IndexAccess(Protocol):
    """What the facades need of their ``Index``."""

    namespace: str
    name: str

    @property
    def records(self) -> protocols.Records: ...

    def reading(self) -> AbstractContextManager[ReadView]:
        """A read span: lock, sync, and the view."""
        ...

    def writing(self) -> AbstractContextManager[WriteView]:
        """A write span: lock, sync, and the view to validate on and write through."""
        ...

    def snapshot(self, filter: Any = None, limit: int | None = None) -> Snapshot:
        """The filtered live rows in insertion order (first ``limit``), for the analyses."""
        ...

    def drop(self) -> None:
        """Remove the index and its files; this handle then raises ``NotFoundError``."""
        ...
