"""One embedded index: settings, the SQLite store, the NumPy cache, and the facades.

The facades (``records``, ``search``, ``settings``, ``manage``) use the internal API below
(``reading``/``writing`` spans and their views, ``snapshot``, ``drop``; the protocols and
their rules are in ``internal.py``), never this class's private state. A span takes
``_lock`` (the server calls from threads), then ``_sync()`` so a change committed by
another process or client is seen: SQLite's ``data_version`` moves, and the cache is
rebuilt from the store.

The shards of ``eigenlake.distributed`` use the same internal API.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import Any, Generic, TypeVar

import numpy as np

from .. import filters
from ..analysis.snapshot import Properties, Snapshot
from ..api.batch import Batch
from ..api.protocols import Agent as AgentSurface
from ..api.reprs import index_repr
from ..errors import NotFoundError, StorageError
from . import ann
from . import watch as watch_mod
from .cache import Cache
from .manage import Manage
from .records import Records
from .search import Search
from .settings import Settings
from .store import RowBlock, Store, check_no_leftovers, drop_index_dir
from .validate import CompiledSchema, PropSpec

DB_FILE = "index.sqlite"
_LOAD_CHUNK = 8192
# Deleted rows stay in the cache (and the graph, as tombstones) until this many are dead
# and they make up this share of the rows; then reads compact (see `_maybe_compact`), so
# deletes do not leave memory and scan time behind for good, and the graph is not left
# routing through a large dead share. The old graph answers until the new one is built.
COMPACT_MIN_DEAD = 4096
COMPACT_DEAD_SHARE = 0.25


class Index:
    def __init__(self, directory: str, namespace: str, name: str) -> None:
        self.namespace = namespace
        self.name = name
        self._dir = directory
        self._db_path = os.path.join(directory, DB_FILE)
        self._lock = threading.RLock()
        self._store: Store | None = None
        self._uid = ""  # the index's random id (meta.index_uid): its saved graphs carry it
        self._dv = -1
        self._inode = -1
        # the commit watch of the open store (see `_sync`), and the store it was tried for
        self._watch: watch_mod.Watch | None = None
        self._watch_tried: Store | None = None
        self._closed = False
        self.config: dict[str, Any] = {}
        self._schema = CompiledSchema(None, [])
        self._cache = Cache(1, False, {})
        self._ann: Any = None  # ann.AnnState, created on first graph search
        self._compaction: ann.Compaction | None = None  # a graph being rebuilt without dead rows
        self._spans = 0  # reading()/writing() spans open (on the thread holding _lock)
        # the spans keep no state (the count above is ours): one of each serves every span
        self._read_span = Span(self, View(self))
        self._write_span = Span(self, Writer(self))

    def __repr__(self) -> str:
        return index_repr("Index", "embedded", self)

    @property
    def directory(self) -> str:
        """The folder holding this index's files (``eigenlake stats`` sums their sizes)."""
        return self._dir

    # ---- facades ------------------------------------------------------------------------

    @cached_property
    def records(self) -> Records:
        return Records(self)

    @cached_property
    def search(self) -> Search:
        return Search(self)

    @cached_property
    def settings(self) -> Settings:
        return Settings(self)

    @cached_property
    def manage(self) -> Manage:
        return Manage(self)

    @cached_property
    def batch(self) -> Batch:
        return Batch(lambda: self.records)

    @cached_property
    def agent(self) -> Agent:
        return Agent(self)

    # ---- internal API: for the facades and shards, not for users (see internal.py) ------

    def reading(self) -> Span[View]:
        """A read span: holds the lock, syncs with the store (other processes' commits),
        gives the read view. Internal (facades, shards). A span nested in another on this
        thread shares its sync: one call sees one state of the store."""
        return self._read_span

    def writing(self) -> Span[Writer]:
        """A write span: as ``reading``, with the write view; validate the call on it, then
        write in one ``view.transaction()`` and change the cache after it commits. Internal."""
        return self._write_span

    def snapshot(self, filter: Any = None, limit: int | None = None) -> Snapshot:
        """Filtered live rows in insertion order (first ``limit``), vectors as the cache
        holds them: what the analyses and the agent run over. Internal.

        Arrays, not records: the vectors are the cache's rows themselves (a read-only view)
        when the rows taken are the first ones in order, else one copy; the properties are
        the rows' stored texts as they are now, parsed into dicts only when read
        (``Snapshot.properties``, ``metadata[i]``).
        """
        with self.reading() as view:
            cache = view.cache
            rows = np.flatnonzero(view.filter_mask(view.parse_filter(filter)))
            seqs = cache.seq[rows]
            if not bool((seqs[1:] >= seqs[:-1]).all()):  # rows are appended in seq order
                rows = rows[np.argsort(seqs, kind="stable")]
            matched = len(rows)
            if limit is not None:
                rows = rows[: max(int(limit), 0)]
            got = cache.gather(rows)
            lock = self._lock

            def strings(name: str) -> tuple[list[str | None], np.ndarray] | None:
                """The string column ``name`` at the snapshot's rows, read when asked
                (the texts of the keywords), under the lock writes take."""
                found = got.strings.get(name)
                if found is None:
                    return None
                col, codes, present = found
                with lock:
                    return col.decode(codes, present)

            return Snapshot.of_ids(
                got.ids,
                vectors=got.vectors.reshape(len(rows), view.dimensions),
                metadata=Properties(got.props, strings),
                metric=view.metric,
                schema=dict(view.schema.source),
                matched=matched,
            )

    def drop(self) -> None:
        """Remove the index and its files (``manage.delete``); this handle, and any use of
        the index after, raises ``NotFoundError``. Internal."""
        with self._lock:
            # NotFoundError when there is nothing to drop; a damaged index can still be
            # dropped, which is what its StorageError advises
            with contextlib.suppress(StorageError):
                self._ensure_open()
            self._drop_handles()
            drop_index_dir(self._dir)
            self._closed = True

    @property
    def dropped(self) -> bool:
        """True once ``drop()`` ran on this handle (a fresh one is needed). Internal."""
        return self._closed

    # ---- state --------------------------------------------------------------------------

    @property
    def dimensions(self) -> int:
        return int(self.config["dimensions"])

    @property
    def metric(self) -> str:
        return str(self.config.get("distance_metric", "cosine"))

    def _missing(self) -> NotFoundError:
        return NotFoundError(f"index {self.namespace}/{self.name} does not exist")

    def _ensure_open(self) -> Store:
        if self._closed:
            raise self._missing()
        if self._store is not None:
            try:
                same_file = os.stat(self._db_path).st_ino == self._inode
            except (FileNotFoundError, NotADirectoryError):
                same_file = False
            if not same_file:  # deleted (and maybe re-created) by another client or process
                self._drop_handles()
        if self._store is None:
            try:
                inode = os.stat(self._db_path).st_ino
                store = Store(self._db_path)  # StorageError when the file is not a whole index
            except (FileNotFoundError, NotADirectoryError):
                # NotADirectory: a file where a directory of the path would be (the
                # server's `.usage.json` under a namespace of that name): no index either
                check_no_leftovers(self._dir, self._db_path)
                raise self._missing() from None
            try:
                self._uid = store.index_uid()
            except BaseException:
                store.close()
                raise
            self._inode = inode
            self._store = store
            ann.bind_index(self._dir, self._uid)
        return self._store

    def _sync(self) -> Store:
        """Open if needed and reload when another connection committed since we looked:
        the full check (``_check``) unless the wal-index header says nothing changed
        since the last one (``watch.Watch``)."""
        watch = self._watch
        # _dv -1: a failed write left the store unwell (see `_restore_settings`): check
        if watch is not None and self._dv != -1 and watch.unchanged():
            store = self._store
            assert store is not None  # the watch lives and dies with the open store
        else:
            store = self._check()
        cache = self._cache
        # `_maybe_compact` has nothing to do below COMPACT_MIN_DEAD dead rows and no job
        if self._compaction is not None or cache.n - cache.live_count >= COMPACT_MIN_DEAD:
            self._maybe_compact(store)
        return store

    def _check(self) -> Store:
        """The full check: the file is still ours (``_ensure_open``), reloaded when
        ``data_version`` moved; then the watch records the header read before it."""
        drops = watch_mod.drops()
        store = self._ensure_open()
        w = self._watch
        if w is None and self._watch_tried is not store:
            self._watch_tried = store  # once per open store: a missing -shm stays missing
            with contextlib.suppress(OSError, ValueError):
                w = self._watch = watch_mod.Watch(self._db_path)
        header = None if w is None else w.header()
        dv = store.data_version()
        if dv != self._dv:
            self._reload(store)
            self._dv = dv
        if w is not None and header is not None:
            w.checked(header, drops)
        return store

    def _maybe_compact(self, store: Store) -> None:
        job = self._compaction
        if job is not None:
            # swap when done, but not under a running catch-up of the old graph (it would
            # save the old links over the new ones when it finishes)
            if job.done and not (self._ann is not None and self._ann.building):
                self._compaction = None
                self._finish_compaction(store, job)
            return
        cache = self._cache
        dead = cache.n - cache.live_count
        if dead < max(COMPACT_MIN_DEAD, COMPACT_DEAD_SHARE * cache.n):
            return
        state = self._ann
        if state is not None and state.building:
            return  # the build holds these row ids; compact once it is done
        if state is None or state.covered == 0:  # no graph to keep serving: reload now
            self._reload_live_rows(store)
            return
        live = np.flatnonzero(cache.alive_mask())
        self._compaction = ann.Compaction(
            np.ascontiguousarray(cache.matrix()[live]),  # a copy: the old rows keep serving
            cache.seq[live].copy(),
            _kernel_metric(self.metric),
            ann.hnsw_params(self.config.get("index_options")),
        )

    def _reload_live_rows(self, store: Store) -> None:
        """The cache rebuilt from the store without dead rows; no graph (it is rebuilt)."""
        ann.drop_graph(self._dir)
        self._ann = None
        fresh = self._load(store, None)
        assert fresh is not None  # without a graph layout the load cannot refuse
        self._cache = fresh

    def _finish_compaction(self, store: Store, job: ann.Compaction) -> None:
        """Swap in the compacted graph: the cache is laid out by its rows' seqs (records
        deleted since become dead placeholders, records added since follow)."""
        if job.error is not None:  # e.g. out of memory: drop the graph, keep the live rows
            self._reload_live_rows(store)
            return
        # unsaved (0): the links are written now, and again on close if they grow
        if self._adopt_graph(store, job.graph, job.seqs, saved_rows=0):
            self._save_graph()
        # else many more deletes since: the next read compacts again

    def _adopt_graph(self, store: Store, graph: Any, seqs: np.ndarray, *, saved_rows: int) -> bool:
        """Lay the cache out by the rows ``graph`` covers (``seqs``) and search through it;
        False (nothing changed) when the store's rows no longer fit that layout."""
        cache = self._load(store, seqs)
        if cache is None:
            return False
        for row in np.flatnonzero(~cache.alive[: len(seqs)]).tolist():
            graph.mark_deleted(row)
        params = ann.hnsw_params(self.config.get("index_options"))
        self._cache = cache
        self._ann = ann.AnnState(
            self.dimensions, _kernel_metric(self.metric), graph, saved_rows, params
        )
        return True

    @contextmanager
    def _writing(self) -> Iterator[Store]:
        """A write transaction on a fresh cache; the caller applies cache changes after it."""
        store = self._ensure_open()
        try:
            with store.transaction():
                dv = store.data_version()
                if dv != self._dv:
                    self._reload(store)
                    self._dv = dv
                yield store
        except BaseException:
            self._restore_settings(store)
            raise

    def _restore_settings(self, store: Store) -> None:
        """Settings and schema as stored, after a failed write: properties it declared in
        memory went away with its rollback (the cache itself changes only after a commit)."""
        try:
            config = store.get_meta("settings")
        except sqlite3.Error:
            self._dv = -1  # the store is unwell: rebuild everything on the next access
            return
        if config is not None:
            self.config = config
            self._schema = self._compile_schema(config)

    def _reload(self, store: Store) -> None:
        try:
            store.verify()  # cheap; another process may have damaged it since we opened
            self._reload_rows(store)
        except sqlite3.DatabaseError as e:
            if not isinstance(e, sqlite3.OperationalError):  # malformed pages met in a scan
                raise store.damaged(f"cannot be read ({e})") from e
            raise

    def _reload_rows(self, store: Store) -> None:
        self.config = store.get_meta("settings")
        self._schema = self._compile_schema(self.config)
        self._save_graph()  # keep the links built so far; the reload may pick them up
        self._ann = None
        saved = ann.load_graph(
            self._dir, self.dimensions, index_uid=self._uid, next_seq=store.get_meta("next_seq")
        )
        if saved is not None:
            graph, seqs = saved
            if self._adopt_graph(store, graph, seqs, saved_rows=len(seqs)):
                return
        cache = self._load(store, None)
        assert cache is not None
        self._cache = cache

    def _compile_schema(self, config: dict[str, Any]) -> CompiledSchema:
        """The stored schema, compiled on every reload: what an earlier version accepted
        and stored is read by its rule (with a warning), not refused, or the index would
        not open at all (``CompiledSchema``'s ``origin``)."""
        return CompiledSchema(
            config.get("schema"),
            _non_filterable(config.get("index_options")),
            origin=f"index {self.namespace}/{self.name}: stored schema",
        )

    def _load(self, store: Store, graph_seqs: np.ndarray | None) -> Cache | None:
        """Cache rows from the store in sequence order. With ``graph_seqs`` (rows a saved
        graph covers), row ``i`` is laid out as ``graph_seqs[i]`` (a dead placeholder if
        that record is gone); None when the layout cannot match or is mostly dead."""
        cache = Cache(self.dimensions, self.metric == "cosine", self._schema.props)
        wanted = graph_seqs.tolist() if graph_seqs is not None else []
        cache.reserve(store.count() + len(wanted))  # upper bound: no growth copies
        loader = _ChunkLoader(cache, store)
        j, dead = 0, 0
        if not wanted:
            for chunk in store.scan_blocks(_LOAD_CHUNK):
                if isinstance(chunk, RowBlock):
                    loader.add_block(chunk)
                else:
                    loader.add_chunk(chunk)
            self._check_unique(store, cache)
            return cache
        for row in (r for chunk in store.scan(_LOAD_CHUNK) for r in chunk):
            seq = row[0]
            while j < len(wanted) and wanted[j] < seq:
                loader.placeholder(wanted[j])
                j, dead = j + 1, dead + 1
            if j < len(wanted):
                if wanted[j] != seq:
                    return None  # a record the graph never saw sits among its rows
                j += 1
            loader.add(row)
        while j < len(wanted):
            loader.placeholder(wanted[j])
            j, dead = j + 1, dead + 1
        loader.flush()
        self._check_unique(store, cache)
        if wanted and dead > 0.2 * len(wanted):
            return None  # too many holes: rebuild the graph instead
        return cache

    @staticmethod
    def _check_unique(store: Store, cache: Cache) -> None:
        """Writers keep uuids unique (under the write lock), so a uuid stored twice is
        damage; cheap to see: the uuid map then holds fewer entries than live rows."""
        if cache.live_count == int(np.count_nonzero(cache.alive_mask())):
            return
        dups = cache.duplicate_uuids()
        shown = ", ".join(repr(u) for u in dups[:3]) + (" ..." if len(dups) > 3 else "")
        raise store.damaged(f"{len(dups)} uuid(s) stored in more than one record: {shown}")

    def _save_config(self, store: Store) -> None:
        self.config["schema"] = self._schema.source or None
        store.set_meta("settings", self.config)

    def _drop_handles(self) -> None:
        if self._watch is not None:
            self._watch.close()
            self._watch = None
        if self._store is not None:
            self._store.close()
            self._store = None
        self._dv = -1
        self._ann = None
        self._compaction = None

    def close(self) -> None:
        with self._lock:
            if self._ann is not None and self._store is not None:
                self._save_graph()
            self._drop_handles()

    def _save_graph(self) -> None:
        state = self._ann
        if state is None or state.building:
            return  # a running build saves its links itself when it finishes
        if state.covered > state.saved_rows:
            ann.save_graph(
                self._dir, state.graph, self._cache.seq[: state.covered], index_uid=self._uid
            )
            state.saved_rows = state.covered

    # ---- rows -> records ----------------------------------------------------------------

    def _parse_filter(self, flt: Any) -> filters.Node | None:
        return filters.parse(flt, self._schema.props)

    def _filter_mask(self, node: filters.Node | None) -> np.ndarray:
        cache = self._cache
        if node is None:  # the common case: a read-only view of the alive rows, no copy
            view = cache.alive_mask()
            view.flags.writeable = False
            return view
        return filters.mask(node, cache, cache.n) & cache.alive_mask()

    def _records(
        self,
        rows: list[int],
        *,
        with_vector: bool,
        with_properties: bool = True,
        uuids: list[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Record dicts of cache rows, in the given order; vectors are read from the store
        (the cache holds normalised ones for cosine indexes), properties from memory.
        ``uuids``: the rows' uuids when the caller has them (a get by id), else made here."""
        assert self._store is not None
        if not with_vector:
            cache = self._cache
            out = []
            texts = cache.uuid_texts(rows) if uuids is None else uuids
            for row, uid in zip(rows, texts, strict=True):
                item: dict[str, Any] = {"uuid": uid}
                if with_properties:
                    item["metadata"] = cache.props.dict_of(row)
                out.append(item)
            return out
        seqs = [int(s) for s in self._cache.seq[rows]] if rows else []
        found = self._store.fetch(seqs, with_vector)
        out = []
        for seq in seqs:
            if seq not in found:
                continue  # removed by another process since our last look
            uid, props, blob = found[seq]
            rec: dict[str, Any] = {"uuid": uid}
            if with_properties:
                rec["metadata"] = json.loads(props)
            if with_vector and blob is not None:
                rec["vector"] = np.frombuffer(blob, dtype=np.float32).tolist()
            out.append(rec)
        return out


ViewT = TypeVar("ViewT", bound="View")


class Span(Generic[ViewT]):
    """``with index.reading() as view`` / ``with index.writing() as w``: take the index
    lock; the outermost span on this thread syncs with the store; give the view. A plain
    class, not a generator context manager: every call runs one, and this one costs
    ~0.3 us besides the sync, two ``contextmanager`` layers ~2 us. It holds no state of
    its own (the count of open spans is the index's), so one per index and kind serves
    nested spans and every thread."""

    __slots__ = ("_index", "_view")

    def __init__(self, index: Index, view: ViewT) -> None:
        self._index = index
        self._view = view

    def __enter__(self) -> ViewT:
        index = self._index
        index._lock.acquire()
        if index._spans == 0:  # the outermost span of this call syncs
            try:
                index._sync()
            except BaseException:
                index._lock.release()
                raise
        index._spans += 1
        return self._view

    def __exit__(self, *exc: object) -> None:
        index = self._index
        index._spans -= 1
        index._lock.release()


class Agent(AgentSurface):
    """``index.agent``: natural-language analyses (the planner lives in ``eigenlake.agent``;
    ``query`` is written once in ``api.protocols.Agent``)."""

    def __init__(self, index: Index) -> None:
        self._index = index

    def _query(self, query: str, settings: dict[str, Any]) -> dict[str, Any]:
        from ..agent import run_query  # type: ignore[attr-defined,unused-ignore]

        return dict(run_query(self._index, query, **settings))


class View:
    """The read side of a span (``Index.reading()``): implements ``internal.ReadView``.
    Stateless: every access reads the index's current state, so it stays right when a
    transaction rebuilds the cache. Internal (facades, shards), valid inside a span."""

    __slots__ = ("_index",)

    def __init__(self, index: Index) -> None:
        self._index = index

    @property
    def cache(self) -> Cache:
        return self._index._cache

    @property
    def schema(self) -> CompiledSchema:
        return self._index._schema

    @property
    def config(self) -> dict[str, Any]:
        return self._index.config

    @property
    def dimensions(self) -> int:
        return self._index.dimensions

    @property
    def metric(self) -> str:
        return self._index.metric

    @property
    def next_seq(self) -> int:
        store = self._index._store
        assert store is not None  # the span's sync opened it
        return int(store.get_meta("next_seq") or 1)

    def parse_filter(self, flt: Any) -> filters.Node | None:
        return self._index._parse_filter(flt)

    def filter_mask(self, node: filters.Node | None) -> np.ndarray:
        return self._index._filter_mask(node)

    def records_by_rows(
        self,
        rows: list[int],
        *,
        with_vector: bool,
        with_properties: bool = True,
        uuids: list[str] | None = None,
    ) -> list[dict[str, Any]]:
        return self._index._records(
            rows, with_vector=with_vector, with_properties=with_properties, uuids=uuids
        )

    def stored_vectors(self, rows: np.ndarray) -> np.ndarray:
        index = self._index
        cache = index._cache
        if index.metric != "cosine":  # the cache holds them as sent
            return np.ascontiguousarray(cache.vectors[rows], dtype=np.float32)
        store = index._store
        assert store is not None  # the span's sync opened it
        # inside the span the cache is in step with the store: every row is there
        return store.vectors(cache.seq[rows].tolist())

    def graph_search(
        self, q: np.ndarray, k: int, mask: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray] | None:
        index = self._index
        cache = index._cache
        data = cache.matrix()
        state = index._ann
        if state is None:
            options = index.config.get("index_options")
            state = ann.AnnState(
                index.dimensions, _kernel_metric(index.metric), params=ann.hnsw_params(options)
            )
            index._ann = state
        tail = cache.n - state.covered
        if tail > max(1000, cache.n // 20):
            state.start_catch_up(data, cache.alive_mask(), cache.seq, index._dir)
        found: tuple[np.ndarray, np.ndarray] | None = state.search(data, q, k, mask)
        return found

    def graph_first_page(
        self, vector: np.ndarray, limit: int
    ) -> tuple[list[dict[str, Any]], str | None] | None:
        """An unfiltered query's first page through the graph alone (``AnnState.first_page``),
        or None when the graph cannot answer on its own (the caller takes ``graph_search``)."""
        index = self._index
        state = index._ann
        if state is None:
            return None
        cache = index._cache
        return state.first_page(cache.matrix(), vector, limit, index.metric == "cosine", cache)

    def graph_building(self) -> bool:
        state = self._index._ann
        return state is not None and state.building


class Writer(View):
    """The write side of a span (``Index.writing()``): implements ``internal.WriteView``."""

    __slots__ = ()

    def transaction(self) -> contextlib.AbstractContextManager[Store]:
        return self._index._writing()

    def declare(self, store: Store, specs: dict[str, PropSpec]) -> None:
        index = self._index
        index._schema.declare(specs)
        index._save_config(store)


def _non_filterable(options: dict[str, Any] | None) -> list[str]:
    meta = (options or {}).get("metadataConfiguration") or {}
    return list(meta.get("nonFilterableMetadataKeys") or [])


def _kernel_metric(metric: str) -> str:
    return "ip" if metric == "cosine" else "l2"


class _ChunkLoader:
    """Streams store rows into the cache in chunks (bounded memory, bulk NumPy work)."""

    def __init__(self, cache: Cache, store: Store) -> None:
        self.cache = cache
        self.store = store
        self.zero = bytes(4 * cache.dim)
        self.rows: list[tuple[int, str, bytes, str]] = []
        self.alive: list[bool] = []

    def add(self, row: tuple[int, str, bytes, str]) -> None:
        self.rows.append(row)
        self.alive.append(True)
        if len(self.rows) >= _LOAD_CHUNK:
            self.flush()

    def add_chunk(self, rows: list[tuple[int, str, bytes, str]]) -> None:
        self.flush()
        self.rows, self.alive = rows, [True] * len(rows)
        self.flush()

    def add_block(self, block: RowBlock) -> None:
        """A segment's records at once: the texts as stored, back to back."""
        self.flush()
        k = len(block)
        matrix = np.frombuffer(block.vectors, dtype=np.float32).reshape(k, self.cache.dim)
        try:
            self.cache.append(
                block.uuid_list(),
                list(range(block.first, block.first + k)),
                matrix,
                None,
                texts=block.texts,
            )
        except ValueError as e:  # a stored uuid that is no canonical uuid text
            raise self.store.damaged(f"record uuids: {e}") from None

    def placeholder(self, seq: int) -> None:
        self.rows.append((seq, "", self.zero, "{}"))
        self.alive.append(False)
        if len(self.rows) >= _LOAD_CHUNK:
            self.flush()

    def flush(self) -> None:
        rows, alive = self.rows, self.alive
        if not rows:
            return
        self.rows, self.alive = [], []
        matrix = np.frombuffer(b"".join([r[2] for r in rows]), dtype=np.float32)
        matrix = matrix.reshape(len(rows), self.cache.dim)
        try:
            # the property texts as stored: no parse (the columns read their values)
            self.cache.append(
                [r[1] for r in rows],
                [r[0] for r in rows],
                matrix,
                None,
                None if all(alive) else alive,
                texts=[r[3] for r in rows],
            )
        except ValueError as e:  # a stored uuid that is no canonical uuid text
            raise self.store.damaged(f"record uuids: {e}") from None
