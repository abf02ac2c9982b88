"""Nearest-neighbour kernels for the embedded index: exact scan and the HNSW graph.

Both come from ``eigenlake._core``. The graph stores links over cache row ids; it is saved
to the index directory with the sequence numbers of the rows it covers, so a reopened cache
can lay its rows out the same way (placeholders for records deleted since) and only add
the rows that came after.

When the graph is built: above ``exact_threshold`` live rows (default 2,500) and unless
``index_options["ann_index"]`` is False (analysis-only indexes skip the build), the first
search or ``search.prepare()`` starts it in the background; from then on the index's cache
calls ``AnnState.rows_added`` after each write, which starts a catch-up of the new rows at
once (bulk writes are in the graph by the time the next search comes, without a search
having to notice them). Searches never wait: while a build holds the graph they scan
exactly; ``search.prepare()`` blocks until the graph covers every stored row.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import threading
import time
import uuid
from typing import Any

import numpy as np

from .. import _core
from ..errors import ValidationError

HNSW_META = "hnsw.json"
SAVE_GROWTH = 0.05  # save again once the graph grew by this fraction
# index_options["hnsw"]: graph degree, build-time and query-time beam widths
HNSW_DEFAULTS = {"m": 16, "ef_construction": 200, "ef_search": 64}
_HNSW_MIN = {"m": 2, "ef_construction": 1, "ef_search": 1}
DEFAULT_EXACT_THRESHOLD = 2_500
# a write starts a catch-up of the rows the graph lacks once there are this many of them
# (fewer are scanned exactly after the graph walk, until then or until a search or
# prepare() catches them up)
CATCH_UP_MIN = 256
_TOKEN = re.compile(r"[0-9a-f]{32}")  # uuid4().hex: also keeps the file names in the directory
# directory -> id of the index open there (see `bind_index`)
_INDEX_UIDS: dict[str, str] = {}
log = logging.getLogger("eigenlake")


def hnsw_params(index_options: dict[str, Any] | None) -> dict[str, int]:
    """``index_options["hnsw"]`` checked and completed with the defaults."""
    raw = (index_options or {}).get("hnsw") or {}
    if not isinstance(raw, dict):
        raise ValidationError(f"index_options.hnsw: expected an object, got {raw!r}")
    unknown = sorted(set(raw) - set(HNSW_DEFAULTS))
    if unknown:
        raise ValidationError(
            f"index_options.hnsw: unknown key(s) {unknown}; known: {sorted(HNSW_DEFAULTS)}"
        )
    out = dict(HNSW_DEFAULTS)
    for key, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < _HNSW_MIN[key]:
            raise ValidationError(
                f"index_options.hnsw.{key}: expected an integer >= {_HNSW_MIN[key]}, got {value!r}"
            )
        out[key] = value
    return out


def exact_threshold(index_options: dict[str, Any] | None) -> int:
    """Live rows up to which search scans exactly (``index_options["exact_threshold"]``)."""
    value = (index_options or {}).get("exact_threshold", DEFAULT_EXACT_THRESHOLD)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(
            f"index_options.exact_threshold: expected an integer >= 0, got {value!r}"
        )
    return value


def ann_enabled(index_options: dict[str, Any] | None) -> bool:
    """``index_options["ann_index"]`` (default True): False keeps the index on exact scans
    and never builds a graph (analysis-only indexes)."""
    value = (index_options or {}).get("ann_index", True)
    if not isinstance(value, bool):
        raise ValidationError(f"index_options.ann_index: expected true or false, got {value!r}")
    return value


class SearchContext(threading.local):
    """What the search facade hands the graph state through ``ReadView.graph_search``
    (which takes only the query): the cache the call reads, and the options read from it.
    Set for the length of one call, on the calling thread, under the index lock."""

    cache: Any = None
    threshold: int = DEFAULT_EXACT_THRESHOLD
    force: bool = False  # prepare(): catch up every row, whatever the tail
    state: Any = None  # out: the graph state the call went through


CONTEXT = SearchContext()


def has_hnsw() -> bool:
    return hasattr(_core, "Hnsw")


# one query over coded rows is scanned on the calling thread below this many (the core
# splits a filter's coded rows over the pool from the same count)
INLINE_CODED_ROWS = 32_768


def exact_topk(
    data: np.ndarray,
    queries: np.ndarray,
    k: int,
    metric: str,
    mask: np.ndarray | None,
    codes: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``_core.flat_topk``: best-first ids (-1 padded) and ip / squared-l2 scores, shaped
    (queries, min(k, rows)). With ``codes`` (``row_codes.RowCodes.covering``: int8 codes
    of every row of ``data``) the scan reads them and re-scores on ``data`` only the rows
    their error bound leaves in doubt: the same answer, a quarter of the bytes."""
    if codes is not None:
        if mask is None and len(queries) == 1 and len(data) < INLINE_CODED_ROWS:
            # one query over a small index: on the calling thread (the pool's hand-off
            # cost more than the scan: 1,000-2,400 rows took 87-148 µs, 25-40 µs inline)
            ids, scores = codes.search_rows(data, None, queries, k, metric, False)
        else:
            ids, scores = codes.search(data, queries, k, metric, mask)
    else:
        ids, scores = _core.flat_topk(data, queries, k, metric, mask)
    return np.asarray(ids), np.asarray(scores)


def kept_topk(
    data: np.ndarray,
    query: np.ndarray,
    k: int,
    metric: str,
    rows: np.ndarray,
    block: Any,
    pool: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """``exact_topk`` of one query over the listed rows (int64, ascending) only: the
    answer a mask keeping exactly them gives, without an O(len(data)) pass. Scans
    ``block`` (a copy of exactly those rows, in order: floats, or their int8 codes as a
    ``_core.QuantizedFlat``) when given; a long scan is split
    over the pool unless ``pool`` is False (a build holds it), a short one runs on the
    calling thread (``_core.kept_topk``)."""
    ids, scores = _core.kept_topk(data, query, k, metric, rows, block, pool)
    return np.asarray(ids), np.asarray(scores)


# while a build holds the compute pool, a filter's rows are scanned on the calling thread
# up to this many (longer scans are left to the NumPy fallback, on its own threads)
INLINE_SCAN_ROWS = 8192

# The core's rule (hnsw/search.rs, `use_exact`, EXACT_FALLBACK_SCALE / 2 for one query):
# a masked walk visits about ef/share nodes at memory-latency speed, a scan reads the
# kept rows at streaming speed; they cost the same near kept = C * sqrt(ef * n).
SCAN_SCALE = 6.0
# The same over int8 codes of the kept rows: at 20k rows, a filter keeping 30% / 50% took
# 127 / 227 µs scanned against 661 / 287 µs walked (API calls, load ~1.5)
CODED_SCAN_SCALE = 12.0


def scan_beats_walk(
    kept: int, n: int, k: int, index_options: dict[str, Any] | None, coded: bool = False
) -> bool:
    """Whether one query keeping ``kept`` of ``n`` rows is answered faster by an exact
    scan of those rows than by a masked graph walk (the graph's own choice, made here so
    the scan needs no pass over the mask). ``coded``: the scan reads int8 codes of the
    rows (``kept_rows.Kept.coded``), a quarter of the bytes."""
    ef = max(hnsw_params(index_options)["ef_search"], k)
    scale = CODED_SCAN_SCALE if coded else SCAN_SCALE
    return kept < scale * (ef * n) ** 0.5


def numpy_topk(
    data: np.ndarray, queries: np.ndarray, k: int, metric: str, mask: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Same contract as ``exact_topk`` on NumPy/BLAS threads: used while an HNSW build
    occupies the rayon pool, where ``flat_topk`` would queue behind it."""
    if metric == "ip":
        scores = queries @ data.T
        key = -scores
    else:
        scores = (
            np.einsum("ij,ij->i", data, data)[None, :]
            - 2 * (queries @ data.T)
            + np.einsum("ij,ij->i", queries, queries)[:, None]
        )
        key = scores
    if mask is not None:
        key = np.where(mask[None, :], key, np.inf)
    kk = min(k, key.shape[1])  # as the core: never wider than the rows
    ids = np.full((len(queries), kk), -1, dtype=np.int64)
    out = np.zeros((len(queries), kk), dtype=np.float32)
    if kk == 0:
        return ids, out
    part = np.argpartition(key, kk - 1, axis=1)[:, :kk]
    order = np.take_along_axis(part, np.argsort(np.take_along_axis(key, part, 1), 1), 1)
    for i in range(len(queries)):
        row = order[i][np.isfinite(key[i, order[i]])]
        ids[i, : len(row)] = row
        out[i, : len(row)] = scores[i, row]
    return ids, out


class AnnState:
    """An HNSW graph over the first ``len(graph)`` cache rows.

    Building is slow (minutes for 100k x 384), so it runs on a background thread (the
    kernel releases the GIL) while queries use the exact scan; once built, queries search
    the graph and scan only the rows appended since, and a new catch-up starts when that
    tail grows.
    """

    def __init__(
        self,
        dim: int,
        metric: str,
        graph: Any = None,
        saved_rows: int = 0,
        params: dict[str, int] | None = None,
    ) -> None:
        self.metric = metric
        p = params or HNSW_DEFAULTS
        self.ef_search = p["ef_search"]
        if graph is None:
            graph = _core.Hnsw(dim, metric, m=p["m"], ef_construction=p["ef_construction"])
        self.graph: Any = graph
        # rows the graph covers, readable while a build holds the graph (len() would not be)
        self.covered = len(self.graph)
        self.saved_rows = saved_rows
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self.directory: str | None = None  # known once the index started a catch-up
        self.threshold = DEFAULT_EXACT_THRESHOLD
        self.followed: Any = None  # the cache `attach` last tied this state to

    @property
    def building(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wait(self) -> None:
        """Block until a running build finishes (tests, benchmarks, close)."""
        if self._thread is not None:
            self._thread.join()

    def attach(self, cache: Any, threshold: int) -> None:
        """Follow ``cache``'s writes (``rows_added``): the index's cache, whose rows this
        graph covers. A cache follows one graph state; a reload makes both anew."""
        self.threshold = threshold
        self.followed = cache
        if getattr(cache, "on_rows_added", None) != self.rows_added:
            cache.on_rows_added = self.rows_added

    def rows_added(self, cache: Any) -> None:
        """After a write: start a catch-up of the rows the graph lacks, if there are enough
        of them (``CATCH_UP_MIN``; all of them while the graph covers none)."""
        if self.building or self.error is not None or cache.live_count <= self.threshold:
            return
        tail = cache.n - self.covered
        if tail >= CATCH_UP_MIN or (tail > 0 and self.covered == 0):
            self.start_catch_up(cache.matrix(), cache.alive_mask(), cache.seq, self.directory)

    def start_catch_up(
        self, data: np.ndarray, alive: np.ndarray, seqs: np.ndarray, directory: str | None
    ) -> None:
        """Index rows ``len(graph)..len(data)`` in the background, then save the links
        (when the directory is known; else the index saves them when it closes)."""
        if directory is not None:
            self.directory = directory
        directory = self.directory
        if self.building or self.covered >= len(data) or self.error is not None:
            return
        # the thread keeps its own references: the cache may reallocate meanwhile
        dead = np.flatnonzero(~alive).tolist()
        covered_seqs = seqs[: len(data)].copy()
        # now: the index open here when the rows were taken
        uid = None if directory is None else _INDEX_UIDS.get(directory)

        def run() -> None:
            began = time.perf_counter()
            try:
                start = len(self.graph)
                self.graph.add(data, start)
                for row in dead:
                    if row >= start:
                        self.graph.mark_deleted(row)
                rows = len(self.graph)
                self.covered = rows
                cache = self.followed
                if cache is not None and rows >= cache.n:  # the graph answers from now on
                    cache.codes.release()
            except BaseException as e:  # the graph is unusable: exact scans from now on
                self.error = e
                log.warning("hnsw graph of %s failed (searches scan exactly): %r", directory, e)
                return
            log.info(
                "hnsw graph of %s: rows %d..%d indexed in %.2f s",
                directory,
                start,
                rows,
                time.perf_counter() - began,
            )
            if directory is not None and rows - self.saved_rows > max(1, int(SAVE_GROWTH * rows)):
                try:
                    save_graph(directory, self.graph, covered_seqs[:rows], index_uid=uid)
                    self.saved_rows = rows
                except OSError:
                    pass  # e.g. the index was dropped meanwhile; the links are rebuilt

        self._thread = threading.Thread(target=run, name="eigenlake-hnsw", daemon=True)
        self._thread.start()

    def search(
        self, data: np.ndarray, query: np.ndarray, k: int, mask: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Graph search over covered rows merged with an exact scan of the tail; None
        while a build is running (the caller scans everything exactly).

        Called by the index's ``graph_search`` inside the search facade's call, which
        passed its cache in ``CONTEXT``: the state follows that cache's writes from now
        on, and a tail the index would leave to later is caught up now when
        ``CONTEXT.force`` (``prepare``)."""
        ctx = CONTEXT
        if ctx.cache is not None:
            ctx.state = self
            self.attach(ctx.cache, ctx.threshold)
            if ctx.force and not self.building:
                cache = ctx.cache
                self.start_catch_up(cache.matrix(), cache.alive_mask(), cache.seq, None)
        if self.building or self.error is not None:
            return None
        covered = min(self.covered, len(data))
        ef = max(self.ef_search, k)
        head = None if mask is None else mask[:covered]
        ids, scores = self.graph.search(data[:covered], query, k, ef, head)
        ids, scores = np.asarray(ids), np.asarray(scores)
        if covered == len(data):
            return ids, scores
        tail = None if mask is None else mask[covered:]
        t_ids, t_scores = exact_topk(data[covered:], query, k, self.metric, tail)
        t_ids = np.where(t_ids >= 0, t_ids + covered, -1)
        all_ids = np.concatenate([ids, t_ids], axis=1)
        all_scores = np.concatenate([scores, t_scores], axis=1)
        key = np.where(all_ids >= 0, -all_scores if self.metric == "ip" else all_scores, np.inf)
        order = np.argsort(key, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(all_ids, order, 1), np.take_along_axis(all_scores, order, 1)

    def first_page(
        self, data: np.ndarray, vector: np.ndarray, limit: int, cosine: bool, cache: Any
    ) -> tuple[list[dict[str, Any]], str | None] | None:
        """The first page of an unfiltered query through the graph alone, for the caller's
        query vector (checked and made unit length by the core), with the cursor after it
        (``_core.Hnsw.first_page``): (hits, cursor or None). None when the graph does not
        cover every row of ``cache``, does not follow it (``attach``) or a build holds it,
        or when the vector is not a valid float query (the general path then answers, or
        raises)."""
        if (
            self.covered != len(data)
            or self.followed is not cache
            or self.error is not None
            or self.building
        ):
            return None
        ef = max(self.ef_search, limit + 1)
        found: tuple[list[dict[str, Any]], str | None] | None = self.graph.first_page(
            data, vector, limit, ef, cache.ids, cache.props, cosine
        )
        return found


class Compaction:
    """A graph over a copy of the live rows, built in the background while the old graph
    (with its tombstones) keeps answering; the index swaps it in once it is done."""

    def __init__(
        self, data: np.ndarray, seqs: np.ndarray, metric: str, params: dict[str, int]
    ) -> None:
        self.seqs = seqs
        self.graph: Any = _core.Hnsw(
            data.shape[1], metric, m=params["m"], ef_construction=params["ef_construction"]
        )
        self.error: BaseException | None = None

        def run() -> None:
            try:
                self.graph.add(data, 0)
            except BaseException as e:  # the old graph stays; a later read may try again
                self.error = e

        self._thread = threading.Thread(target=run, name="eigenlake-compact", daemon=True)
        self._thread.start()

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    def wait(self) -> None:
        self._thread.join()


def bind_index(directory: str, index_uid: str) -> None:
    """Record the id of the index open in ``directory``: saves and loads that are not
    given one (a background catch-up, a test) tie graphs to it."""
    _INDEX_UIDS[directory] = index_uid


def seqs_digest(seqs: np.ndarray) -> str:
    """Checksum of the seqs a graph covers (what its row ``i`` is in the store)."""
    raw = np.ascontiguousarray(seqs, dtype="<i8").tobytes()
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def save_graph(
    directory: str, graph: Any, seqs: np.ndarray, *, index_uid: str | None = None
) -> None:
    """Write links and covered seqs under a fresh token, then switch ``hnsw.json`` to it
    atomically (a concurrent reader sees the old pair or the new pair, never a mix).

    The header names the index (its random id) and the rows (count and checksum of the
    seqs), so a graph copied from another index or left from another life is refused."""
    uid = index_uid or _INDEX_UIDS.get(directory)
    token = uuid.uuid4().hex
    seqs = np.asarray(seqs, dtype=np.int64)
    graph.save(os.path.join(directory, f"hnsw-{token}.bin"))
    np.save(os.path.join(directory, f"hnsw-{token}.npy"), seqs)
    header = {"token": token, "rows": len(seqs), "index_uid": uid, "seqs": seqs_digest(seqs)}
    tmp = os.path.join(directory, f"{HNSW_META}.{token}")
    with open(tmp, "w") as f:
        json.dump(header, f)
    os.replace(tmp, os.path.join(directory, HNSW_META))
    for name in os.listdir(directory):
        if name.startswith("hnsw-") and token not in name:
            with contextlib.suppress(OSError):
                os.remove(os.path.join(directory, name))


def drop_graph(directory: str) -> None:
    """Remove the saved graph (its row layout no longer matches the cache)."""
    for name in os.listdir(directory):
        if name == HNSW_META or name.startswith("hnsw-"):
            with contextlib.suppress(OSError):
                os.remove(os.path.join(directory, name))


def load_graph(
    directory: str, dim: int, *, index_uid: str | None = None, next_seq: Any = None
) -> tuple[Any, np.ndarray] | None:
    """(graph, covered seqs) when a usable saved graph of this index exists, else None
    (the caller rebuilds). ``next_seq``: the store's counter; a graph covering seqs not
    issued yet belongs to a later state of the index (its database was restored)."""
    uid = index_uid or _INDEX_UIDS.get(directory)
    if not has_hnsw() or uid is None:
        return None  # no index open here to check it against: judge (and discard) nothing
    meta_path = os.path.join(directory, HNSW_META)
    try:
        with open(meta_path) as f:
            meta = json.load(f)
    except FileNotFoundError:
        return None  # no graph saved yet
    except (OSError, ValueError) as e:
        log.warning(
            "hnsw graph of %s ignored (rebuilt): unreadable %s: %s", directory, HNSW_META, e
        )
        return None
    token = meta.get("token") if isinstance(meta, dict) else None
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        log.warning(
            "hnsw graph of %s ignored (rebuilt): %s is not a graph header", directory, HNSW_META
        )
        return None
    try:
        graph = _core.Hnsw.load(os.path.join(directory, f"hnsw-{token}.bin"))
        seqs = np.load(os.path.join(directory, f"hnsw-{token}.npy"))
    except (OSError, ValueError, RuntimeError):
        return None  # missing, half-replaced by another process, or unreadable: rebuild
    problem = _mismatch(meta, graph, seqs, dim, uid, next_seq)
    if problem is not None:
        log.warning("hnsw graph of %s refused (rebuilt): %s", directory, problem)
        _discard(directory, token)
        return None
    if meta.get("index_uid") is None:
        _stamp(directory, meta, uid, seqs)
    return graph, seqs


def _mismatch(
    meta: dict[str, Any], graph: Any, seqs: np.ndarray, dim: int, uid: str, next_seq: Any
) -> str | None:
    """Why the loaded graph does not belong to this index's rows, or None.

    A header without ``index_uid`` was saved by a version before graphs named their index
    (its header was ``{"token", "rows"}``): kept when everything else fits (the caller
    then stamps it), or every index would rebuild its graph on upgrade. A header that
    names another index is refused."""
    saved_uid = meta.get("index_uid")
    if saved_uid is not None and saved_uid != uid:
        return "it was saved for another index"
    if seqs.ndim != 1 or seqs.dtype != np.int64:
        return "its seqs file holds no list of seqs"
    rows = meta.get("rows")
    if len(graph) != len(seqs) or rows != len(seqs):
        return f"it covers {len(graph)} rows, its seqs file {len(seqs)}, its header {rows!r}"
    if graph.dim != dim:
        return f"it has {graph.dim} dimensions, the index {dim}"
    digest = meta.get("seqs")
    if (digest is not None or saved_uid is not None) and digest != seqs_digest(seqs):
        return "its seqs file does not match its header's checksum"
    if len(seqs) > 1 and not bool(np.all(seqs[1:] > seqs[:-1])):
        return "its seqs are not increasing"
    if len(seqs) and isinstance(next_seq, int) and (seqs[0] < 1 or int(seqs[-1]) >= next_seq):
        return "it covers seqs the index has not issued (its database is older than the graph)"
    return None


def _stamp(directory: str, meta: dict[str, Any], uid: str, seqs: np.ndarray) -> None:
    """Give a header saved before graphs named their index this index's id and the seqs'
    checksum, so the next load checks them; the links and seqs files stay as they are.
    Only while the header still names the same graph (not a save by another process);
    a read-only directory keeps the old header (accepted again next time)."""
    stamped = {**meta, "index_uid": uid, "seqs": seqs_digest(seqs)}
    token = meta["token"]
    meta_path = os.path.join(directory, HNSW_META)
    tmp = os.path.join(directory, f"{HNSW_META}.{token}.{uuid.uuid4().hex}")
    try:
        with open(tmp, "w") as f:
            json.dump(stamped, f)
        with open(meta_path) as f:
            current = json.load(f)
        if isinstance(current, dict) and current.get("token") == token:
            os.replace(tmp, meta_path)
    except (OSError, ValueError) as e:
        log.info("hnsw graph header of %s not stamped with its index id: %s", directory, e)
    finally:
        with contextlib.suppress(OSError):
            os.remove(tmp)


def _discard(directory: str, token: str) -> None:
    """Remove a refused graph, so it cannot pass later (e.g. once the seqs it covers are
    issued); the header only while it still names that graph (not a newer save)."""
    for name in (f"hnsw-{token}.bin", f"hnsw-{token}.npy"):
        with contextlib.suppress(OSError):
            os.remove(os.path.join(directory, name))
    meta_path = os.path.join(directory, HNSW_META)
    with contextlib.suppress(OSError, ValueError):
        with open(meta_path) as f:
            current = json.load(f)
        if isinstance(current, dict) and current.get("token") == token:
            os.remove(meta_path)
