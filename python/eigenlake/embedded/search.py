"""``index.search``: filtered nearest neighbours with cursors, paging, and the analyses."""

from __future__ import annotations

import builtins
import math
from typing import Any

import numpy as np

from .. import _core
from ..api import embedding, protocols, usage
from ..api.answers import NearestResult
from ..api.checks import check_filter_arg, check_int
from ..api.cursor import decode_nearest_cursor, filter_text
from ..vectors import query_row
from . import ann
from .cursors import encode_nearest_cursor, query_hash
from .internal import IndexAccess, ReadView
from .kept_rows import Kept, filter_key
from .row_codes import quantized_scan


class Search(protocols.Search):
    """``search.nearest``/``get``/``list``/``iterate`` and the analyses are written once in
    ``api.protocols``; this class holds this mode's primitives."""

    def __init__(self, index: IndexAccess) -> None:
        self._index = index
        self._view: ReadView | None = None  # the view of a running `_nearest`'s span

    # ---- nearest neighbours -------------------------------------------------------------

    def _nearest(
        self, vector: Any, limit: int, filter: Any, after: str | None, with_vector: bool
    ) -> dict[str, Any]:
        """``nearest`` (``api.protocols.Search``) once its arguments are checked, and
        without the ``MAX_LIMIT`` bound: a shard of a sharded index calls it for
        offset + limit + 1 hits. Memory stays bounded by the rows the filter keeps."""
        with self._index.reading() as view:
            # `_topk` searches in this span (one span per query). Safe to keep here: the
            # span holds the index lock, and this facade serves one index.
            self._view = view
            try:
                if after is None and not with_vector:
                    return self._first_page(view, vector, limit, filter)
                return self._nearest_in(view, vector, limit, filter, after, with_vector)
            finally:
                self._view = None

    def _nearest_first(self, vector: Any, limit: int, started: float) -> NearestResult:
        """The common query (``api.protocols.Search._nearest_first``) answered by the
        graph alone when it covers every row and every row is alive: one core call
        (``ReadView.graph_first_page``) checks the query, walks, builds the hits and the
        cursor; the answer is made straight from them. Else (or when the graph cannot
        answer on its own) ``_nearest`` answers."""
        with self._index.reading() as view:  # one span, whichever path answers
            cache = view.cache
            kept = cache.live_count
            if cache.all_alive() and _pays(kept, *_graph_options(view), limit + 1, kept):
                first = view.graph_first_page(vector, limit)
                if first is not None:
                    return _first_answer(first, kept, view.dimensions, started)
            self._view = view
            try:
                answer = self._first_page(view, vector, limit, None)
            finally:
                self._view = None
        return NearestResult(usage.complete(answer, "nearest", started))

    def _nearest_filtered(
        self, vector: Any, limit: int, filter: dict[str, Any], started: float
    ) -> NearestResult:
        """A filtered first page without vectors (``api.protocols.Search._nearest_filtered``)
        in fewer steps when this filter ran on this state of the cache and its rows are
        scanned (as ``_topk`` would): the filter found by its text (``KeptMemo.by_text``,
        no parse), the query checked, its rows scanned, the hits and the cursor (from the
        filter's remembered text) built in one core call (``_core.kept_page``). Else
        ``_first_page`` answers (and remembers the filter's text for the next time)."""
        with self._index.reading() as view:  # one span, whichever path answers
            cache = view.cache
            text = filter_key(filter)
            found = None if text is None else cache.kept_memo.by_text(text, view.schema)
            if found is not None:
                sel, flt_text = found
                kept = sel.count
                if kept > 0 and self._scans(view, min(limit + 1, kept), sel):
                    matrix = cache.matrix()
                    cosine = view.metric == "cosine"
                    first = _core.kept_page(
                        matrix,
                        vector,
                        limit,
                        "ip" if cosine else "l2",
                        sel.rows,
                        sel.copy(matrix, quantized_scan(view.config.get("index_options"))),
                        not view.graph_building(),
                        cache.ids,
                        cache.props,
                        cosine,
                        flt_text,
                    )
                    if first is not None:  # else not a valid float query: said below
                        return _first_answer(first, kept, view.dimensions, started)
            self._view = view
            try:
                answer = self._first_page(view, vector, limit, filter, text)
            finally:
                self._view = None
        return NearestResult(usage.complete(answer, "nearest", started))

    def _first_page(
        self, view: ReadView, vector: Any, limit: int, filter: Any, text: str | None = None
    ) -> dict[str, Any]:
        """``_nearest_in`` for a first page without vectors (no cursor: the kernel's
        first answer is the page), with the same answer in fewer steps: the hits built
        by the core from the kernel's arrays (``_core.page_hits``, which sorts them as
        ``_hits`` does), the cursor made only when another page exists. ``text``: the
        filter's ``filter_key``, remembered with its rows for ``_nearest_filtered``."""
        cache = view.cache
        dims = view.dimensions
        cosine = view.metric == "cosine"
        q = query_row(vector, dims, cosine)
        node = None if filter is None else view.parse_filter(filter)
        sel = self._kept(view, node)
        if text is not None and node is not None:
            cache.kept_memo.name(text, repr(node), filter_text(filter), view.schema)
        ids, scores = self._topk(q, min(limit + 1, sel.count), sel)
        page = _core.page_hits(ids, scores, limit, cache.ids, cache.props, cosine)
        return {
            "results": page[0],  # metadata dicts made by the core, the caller's
            "next_after": _next_after(q, filter, limit, page),
            "usage": usage.scanned(sel.count, dims),
        }

    def _nearest_in(
        self,
        view: ReadView,
        vector: Any,
        limit: int,
        filter: Any,
        after: str | None,
        with_vector: bool,
    ) -> dict[str, Any]:
        cosine = view.metric == "cosine"
        q = query_row(vector, view.dimensions, cosine)
        node = None if filter is None else view.parse_filter(filter)
        # the query's fingerprint: only a cursor (read or written) needs it
        qhash = None if after is None else query_hash(q, filter)
        offset, last = decode_nearest_cursor(after, qhash or "")
        sel = self._kept(view, node)
        kept = sel.count
        # Never ask the kernels for more rows than can pass: a cursor's offset (or a
        # large limit) would otherwise size their buffers past what exists.
        k = min(offset + limit + 1, kept)
        while True:
            ids, scores = self._topk(q, k, sel)
            hits, found = self._hits(view, ids[0].tolist(), scores[0].tolist(), cosine)
            if last is not None:
                hits = [h for h in hits if (h[0], h[1]) > last]
            # records added nearer than the cursor since the last page push the page
            # past the k fetched: fetch more rather than end the paging early
            if len(hits) > limit or found < k or k >= kept:
                break
            k = min(2 * k, kept)
        page = hits[:limit]
        results = self._results(view, page, with_vector)
        next_after = None
        if len(hits) > limit and page:
            if qhash is None:
                qhash = query_hash(q, filter)
            next_after = encode_nearest_cursor(offset + len(page), page[-1][0], page[-1][1], qhash)
        return {
            "results": results,
            "next_after": next_after,
            "usage": usage.scanned(kept, view.dimensions),
        }

    @staticmethod
    def _kept(view: ReadView, node: Any) -> Kept:
        """The rows the search may return: no mask at all when every row is alive and
        there is no filter (the kernels then skip an O(n) pass over a mask on every
        query); a filter's rows come from the cache's memo when the same filter ran on
        this state of the cache (its mask and row list are not made again)."""
        cache = view.cache
        if node is None:
            return Kept(None if cache.all_alive() else view.filter_mask(None), cache.live_count)
        # the parsed filter, its values' types included (1 vs 1.0 vs True); the memo's
        # key (`_first_page` names the entry by the filter's text with it)
        key = repr(node)
        memo = cache.kept_memo
        found = memo.get(key)
        if found is None:
            found = Kept.of_mask(view.filter_mask(node))
            memo.put(key, found)
        return found

    def _hits(
        self, view: ReadView, ids: builtins.list[int], scores: builtins.list[float], cosine: bool
    ) -> tuple[builtins.list[tuple[float, str, int]], int]:
        """(distance, uuid, row) of the kernel's answer, nearest first (ties by uuid, the
        cursor's order), and how many rows it returned."""
        if ids and ids[-1] < 0:  # fewer rows than asked: drop the -1 padding (it is last)
            n = ids.index(-1)
            ids, scores = ids[:n], scores[:n]
        uuids = view.cache.uuid_texts(ids)
        if cosine:
            hits = [(1.0 - s, u, r) for r, s, u in zip(ids, scores, uuids, strict=True)]
        else:
            hits = [
                (math.sqrt(max(s, 0.0)), u, r) for r, s, u in zip(ids, scores, uuids, strict=True)
            ]
        hits.sort()
        return hits, len(hits)

    def _results(
        self, view: ReadView, page: builtins.list[tuple[float, str, int]], with_vector: bool
    ) -> builtins.list[dict[str, Any]]:
        if not with_vector:  # properties from memory, copied so callers may change them
            props = view.cache.props.dicts([h[2] for h in page])
            return [
                {"uuid": h[1], "metadata": p, "distance": h[0]}
                for h, p in zip(page, props, strict=True)
            ]
        recs = view.records_by_rows([h[2] for h in page], with_vector=True)
        by_uuid = {r["uuid"]: r for r in recs}  # a record gone meanwhile is dropped
        return [{**by_uuid[h[1]], "distance": h[0]} for h in page if h[1] in by_uuid]

    def _topk(self, q: np.ndarray, k: int, sel: Kept) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (row ids, kernel scores) of the rows ``sel`` keeps, exact or through
        the graph. Runs inside ``_nearest``'s span, on its view."""
        view = self._view
        assert view is not None, "_topk runs inside _nearest's span"
        kept, mask = sel.count, sel.mask
        if kept == 0 or k == 0:  # empty index or nothing passes the filter
            return np.full((1, 0), -1, dtype=np.int64), np.zeros((1, 0), dtype=np.float32)
        cache = view.cache
        options = view.config.get("index_options")
        threshold = ann.exact_threshold(options)
        metric = "ip" if view.metric == "cosine" else "l2"
        if mask is not None and self._scans(view, k, sel):
            pool = not view.graph_building()
            return _scan_kept(cache.matrix(), q, k, metric, sel, pool, quantized_scan(options))
        if _pays(cache.live_count, threshold, options, k, kept):
            found, _ = self._graph(view, q, k, mask, threshold, force=False)
            if found is not None:
                return found
            # a build holds the graph (and the compute pool): scan on NumPy's threads
            return ann.numpy_topk(cache.matrix(), q, k, metric, mask)
        matrix = cache.matrix()
        return ann.exact_topk(matrix, q, k, metric, None, cache.codes.covering(matrix, options))

    @staticmethod
    def _scans(view: ReadView, k: int, sel: Kept) -> bool:
        """Whether the top ``k`` of a filter's rows (``sel``, a mask) come from a scan of
        their list (``_scan_kept``) rather than a masked graph walk: always where a graph
        does not pay (``_pays``); where it does, when the walk would cost more than the
        scan (the graph's own choice, made here: it would scan these rows itself after two
        O(n) passes over the mask, on the pool), except a long scan while a build holds
        the pool (left to the NumPy fallback of the graph's way)."""
        cache = view.cache
        kept = sel.count
        threshold, options = _graph_options(view)
        if not _pays(cache.live_count, threshold, options, k, kept):
            return True
        coded = sel.coded(cache.matrix(), quantized_scan(options))
        return ann.scan_beats_walk(kept, cache.n, k, options, coded) and (
            kept < ann.INLINE_SCAN_ROWS or not view.graph_building()
        )

    @staticmethod
    def _graph_pays(view: ReadView, k: int, kept: int) -> bool:
        """Graph search pays off on large collections unless the filter keeps few rows."""
        options = view.config.get("index_options")
        return _pays(view.cache.live_count, ann.exact_threshold(options), options, k, kept)

    def _embed_queries(self, texts: builtins.list[str]) -> np.ndarray:
        """``nearest(text=...)``: the index's embedder over the texts, outside the lock."""
        with self._index.reading() as view:
            embedder = embedding.of_config(view.config)
        return embedding.embed_queries(embedder, texts)

    def _nearest_many(
        self, vectors: Any, limit: int, filter: Any, with_vector: bool
    ) -> builtins.list[dict[str, Any]]:
        """A batch of queries in one span: the exact path scans for every row in one core
        call (each row's answer is the one its single query gets: same kernel, same ties);
        the graph path walks row by row."""
        with self._index.reading() as view:
            self._view = view
            try:
                cosine = view.metric == "cosine"
                rows = [query_row(v, view.dimensions, cosine) for v in vectors]
                node = None if filter is None else view.parse_filter(filter)
                sel = self._kept(view, node)
                mask, kept = sel.mask, sel.count
                k = min(limit + 1, kept)
                if not rows or self._graph_pays(view, k, kept):
                    return [
                        self._nearest_in(view, v, limit, filter, None, with_vector) for v in vectors
                    ]
                if k == 0:
                    return [
                        {
                            "results": [],
                            "next_after": None,
                            "usage": usage.scanned(0, view.dimensions),
                        }
                        for _ in rows
                    ]
                metric = "ip" if cosine else "l2"
                matrix = view.cache.matrix()
                codes = view.cache.codes.covering(matrix, view.config.get("index_options"))
                ids, scores = ann.exact_topk(matrix, np.vstack(rows), k, metric, mask, codes)
                answers = []
                for q, row_ids, row_scores in zip(rows, ids, scores, strict=True):
                    hits, _ = self._hits(view, row_ids.tolist(), row_scores.tolist(), cosine)
                    page = hits[:limit]
                    next_after = None
                    if len(hits) > limit and page:
                        last = page[-1]
                        qhash = query_hash(q, filter)
                        next_after = encode_nearest_cursor(len(page), last[0], last[1], qhash)
                    results = self._results(view, page, with_vector)
                    answers.append(
                        {
                            "results": results,
                            "next_after": next_after,
                            "usage": usage.scanned(kept, view.dimensions),
                        }
                    )
                return answers
            finally:
                self._view = None

    @staticmethod
    def _graph(
        view: ReadView,
        q: np.ndarray,
        k: int,
        mask: np.ndarray | None,
        threshold: int,
        *,
        force: bool,
    ) -> tuple[tuple[np.ndarray, np.ndarray] | None, Any]:
        """``view.graph_search`` with this call's cache handed to the graph state (see
        ``ann.SearchContext``); (answer or None, the graph state)."""
        ctx = ann.CONTEXT
        ctx.cache, ctx.threshold, ctx.force, ctx.state = view.cache, threshold, force, None
        try:
            return view.graph_search(q, k, mask), ctx.state
        finally:
            ctx.cache = ctx.state = None
            ctx.force = False

    # ---- readiness ------------------------------------------------------------------------

    def _prepare(self) -> dict[str, Any]:
        """Block until searches go through a graph covering every stored row (API.md
        "Readiness"): starts the build (or the catch-up of rows the graph lacks) and waits
        for it outside the index lock, so reads and writes go on meanwhile. An index at or
        below ``exact_threshold`` live rows, or with ``index_options["ann_index"]`` False,
        scans exactly and is ready at once."""
        while True:
            with self._index.reading() as view:
                cache = view.cache
                options = view.config.get("index_options")
                threshold = ann.exact_threshold(options)
                rows = cache.live_count
                if rows <= threshold or not ann.ann_enabled(options) or not ann.has_hnsw():
                    return {"ready": True, "method": "exact", "rows": rows, "graph_rows": 0}
                q = np.ascontiguousarray(cache.matrix()[:1])
                found, state = self._graph(view, q, 1, None, threshold, force=True)
                if state is None or state.error is not None:
                    # no graph to wait for (its build failed): searches scan exactly
                    return {"ready": True, "method": "exact", "rows": rows, "graph_rows": 0}
                if found is not None and state.covered >= cache.n:
                    return {
                        "ready": True,
                        "method": "hnsw",
                        "rows": rows,
                        "graph_rows": int(state.covered),
                    }
            state.wait()  # outside the span: other calls go on while the graph is built

    # ---- reads --------------------------------------------------------------------------

    def _get(self, id: str, with_vector: bool) -> dict[str, Any] | None:
        """The record, or None when it does not exist."""
        return self._index.records.get(id, return_data=with_vector, return_metadata=True)

    def _list(
        self, limit: int, offset: int, with_vector: bool, with_properties: bool, newest_first: bool
    ) -> dict[str, Any]:
        """The live rows in sequence order (reversed for ``newest_first``), by position."""
        with self._index.reading() as view:
            cache = view.cache
            rows = np.flatnonzero(cache.alive_mask())
            rows = rows[np.argsort(cache.seq[rows], kind="stable")]
            if newest_first:
                rows = rows[::-1]
            page = rows[offset : offset + limit].tolist()
            objects = view.records_by_rows(
                page, with_vector=with_vector, with_properties=with_properties
            )
        return {"objects": objects, "next_offset": offset + len(objects)}

    @property  # what ``iterate`` pages through
    def _records(self) -> protocols.Records:
        return self._index.records

    # ---- analyses (modules load on first use) -------------------------------------------

    def _analyse(
        self, kind: str, filter: Any, limit: Any, settings: dict[str, Any]
    ) -> dict[str, Any]:
        """``cluster``/``outliers``/``topics`` (written once in ``api.protocols.Analyses``)
        over the matching rows of this index."""
        from ..analysis.run import run_analysis

        snap = self._rows(filter, limit)
        return run_analysis(kind, snap, filter=filter, limit=limit, settings=settings)

    def _rows(self, filter: Any, limit: Any) -> Any:
        """The snapshot an analysis runs over; ``filter`` and ``limit`` are checked first,
        so a bad one is refused before any rows are gathered (``limit=None``: all)."""
        check_filter_arg(filter)
        limit = check_int("limit", limit, minimum=1, optional=True)
        return self._index.snapshot(filter, limit)


def _scan_kept(
    matrix: np.ndarray, q: np.ndarray, k: int, metric: str, sel: Kept, pool: bool, coded: bool
) -> tuple[np.ndarray, np.ndarray]:
    """The exact top ``k`` of the rows ``sel`` keeps: a scan of their copy when the memo
    holds one (int8 codes when ``coded`` or floats: same scores, ties by row as its rows
    are in row order), else of the row list in place; split over the pool when long and
    ``pool``."""
    return ann.kept_topk(matrix, q, k, metric, sel.rows, sel.copy(matrix, coded), pool)


def _graph_options(view: ReadView) -> tuple[int, dict[str, Any] | None]:
    """(``exact_threshold``, ``index_options``) of the view's index, for ``_pays``."""
    options = view.config.get("index_options")
    return ann.exact_threshold(options), options


def _pays(live: int, threshold: int, options: dict[str, Any] | None, k: int, kept: int) -> bool:
    """Whether a graph search pays off: a collection above ``threshold`` (``exact_threshold``)
    live rows, unless the filter keeps few of them (``kept``), with graphs enabled."""
    return (
        live > threshold
        and kept > max(threshold // 4, 8 * k)
        and ann.ann_enabled(options)
        and ann.has_hnsw()
    )


def _first_answer(
    first: tuple[builtins.list[dict[str, Any]], str | None],
    scanned: int,
    dims: int,
    started: float,
) -> NearestResult:
    """The answer of a first page a core call built (``Hnsw.first_page``, ``kept_page``):
    its hits (their metadata new dicts, the caller's) and cursor, and the usage."""
    results, next_after = first
    return NearestResult(
        results=results,
        next_after=next_after,
        usage=usage.finished("nearest", scanned, dims, started),
    )


def _next_after(
    q: np.ndarray, filter: Any, limit: int, page: tuple[builtins.list[Any], bool]
) -> str | None:
    """The cursor after a first page of ``limit`` hits, when more follow."""
    results, more = page
    if not more:
        return None
    last = results[-1]
    return encode_nearest_cursor(limit, last["distance"], last["uuid"], query_hash(q, filter))
