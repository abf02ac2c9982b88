"""``ShardedIndex.search``: scatter-gather nearest neighbours and paging, distributed
k-means, and the analyses that are not distributed yet (DBSCAN, auto-tuned k-means,
outliers, topics), which gather the matching rows to the driver in the index order and
run the embedded ``eigenlake.analysis`` code on them: same rows in the same order, so the
same answer as one embedded index holding the same records."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any

import numpy as np

from ..analysis.snapshot import Snapshot
from ..api import embedding, protocols, usage
from ..api.checks import check_int, check_nesting
from ..api.cursor import decode_nearest_cursor
from ..embedded.cursors import encode_nearest_cursor, query_hash
from ..vectors import as_vector
from .merge import merge_hits
from .rpc import gather
from .sharded import check_filter

if TYPE_CHECKING:
    from .sharded import ShardedIndex


class ShardedSearch(protocols.Search):
    """``search.nearest``/``get``/``list``/``iterate`` and the analyses are written once in
    ``api.protocols`` (with the embedded checks, so every mode refuses alike); this class
    holds the scatter-gather primitives and the distributed k-means."""

    def __init__(self, index: ShardedIndex) -> None:
        self._index = index

    # ---- nearest neighbours -------------------------------------------------------------

    def _embed_queries(self, texts: builtins.list[str]) -> np.ndarray:
        """``nearest(text=...)``: the index's embedder over the texts, on the driver."""
        return embedding.embed_queries(embedding.of_config(self._index.config), texts)

    def _nearest(
        self, vector: Any, limit: int, filter: Any, after: str | None, with_vector: bool
    ) -> dict[str, Any]:
        """Each shard returns its own top hits; the global top ``limit`` is among them.

        The cursor (the embedded one) holds the page offset and the (distance, uuid) of the
        last hit, so pages never repeat a record.
        """
        check_nesting(filter)  # a deeper one could not even be sent to a shard
        q = as_vector(vector, self._index.dimensions, "query")
        key = query_hash(q, filter)
        offset, last = decode_nearest_cursor(after, key)
        # one more than the page so we know whether another page exists; each shard's own
        # search is bounded by its rows, whatever a cursor's offset says
        per_shard = offset + limit + 1
        parts = self._index.call_shards("nearest", q, per_shard, filter, with_vector)
        hits = merge_hits([found for found, _scope in parts])
        scope = sum(n for _found, n in parts)
        if last is not None:
            hits = [h for h in hits if (h["distance"], h["uuid"]) > last]
        page = hits[:limit]
        next_after = None
        if len(hits) > limit and page:
            next_after = encode_nearest_cursor(
                offset + len(page), page[-1]["distance"], page[-1]["uuid"], key
            )
        answer: dict[str, Any] = {"results": page, "next_after": next_after}
        answer["usage"] = usage.scanned(scope, self._index.dimensions)
        return answer

    # ---- readiness ----------------------------------------------------------------------

    def _prepare(self) -> dict[str, Any]:
        """Every shard's embedded ``search.prepare()``, in parallel (run in the shard actor
        through Ray's ``__ray_call__``); ready when all are. ``method`` is ``"hnsw"`` when
        any shard searches a graph."""
        index = self._index
        states = gather(
            [
                shard.__ray_call__.remote(_prepare_shard, index.namespace, index.name)
                for shard in index._shards
            ]
        )
        return {
            "ready": all(s["ready"] for s in states),
            "method": "hnsw" if any(s["method"] == "hnsw" for s in states) else "exact",
            "rows": sum(int(s["rows"]) for s in states),
            "graph_rows": sum(int(s["graph_rows"]) for s in states),
        }

    # ---- reads --------------------------------------------------------------------------

    def _get(self, id: str, with_vector: bool) -> dict[str, Any] | None:
        """The record, or None when it does not exist (as the embedded index answers)."""
        return self._index.records.get(id, return_data=with_vector, return_metadata=True)

    def _list(
        self, limit: int, offset: int, with_vector: bool, with_properties: bool, newest_first: bool
    ) -> dict[str, Any]:
        """A page by position in the index order: each shard sends the sequence numbers
        of its first ``offset + limit`` records, the driver merges them and fetches the
        page's records from their shards. ``next_offset`` is ``offset + len(objects)``."""
        idx = self._index
        parts = idx.call_shards("seq_order", offset + limit, newest_first)
        keys = sorted(
            ((int(s), shard) for shard, seqs in enumerate(parts) for s in seqs.tolist()),
            reverse=newest_first,
        )
        page = keys[offset : offset + limit]
        wanted: builtins.list[builtins.list[int]] = [[] for _ in range(idx.num_shards)]
        for seq, shard in page:
            wanted[shard].append(seq)
        found = gather(
            [
                s.records_at.remote(idx.namespace, idx.name, w, with_vector, with_properties)
                for s, w in zip(idx.shards, wanted, strict=True)
                if w
            ]
        )
        got: dict[tuple[int, int], dict[str, Any]] = {}
        for shard, recs in zip([i for i, w in enumerate(wanted) if w], found, strict=True):
            for seq, rec in recs:
                got[(seq, shard)] = rec
        # a record removed between the two calls is left out, as embedded leaves it out
        objects = [got[k] for k in page if k in got]
        return {"objects": objects, "next_offset": offset + len(objects)}

    @property  # what ``iterate`` pages through
    def _records(self) -> protocols.Records:
        return self._index.records

    # ---- analyses -----------------------------------------------------------------------

    def _analyse(
        self, kind: str, filter: Any, limit: Any, settings: dict[str, Any]
    ) -> dict[str, Any]:
        """k-means without ``auto_tune``: distributed Lloyd iterations (see
        docs/distributed.md). Everything else (DBSCAN, auto-tuned k, outliers, topics): the
        matching rows are gathered to the driver and analysed by the embedded code. Either
        way the arguments are first checked by that code on no rows (cheap), before any
        shard is asked for anything."""
        from ..analysis.run import report_matched, run_analysis

        check_filter(filter)
        limit = check_int("limit", limit, minimum=1, optional=True)
        no_rows = _no_rows(self._index.dimensions)
        run_analysis(kind, no_rows, filter=filter, limit=limit, settings=settings)
        if kind == "cluster" and settings["algorithm"] == "kmeans" and not settings["auto_tune"]:
            from .kmeans import run_kmeans

            kmeans = {k: v for k, v in settings.items() if not k.startswith("dbscan_")}
            result = run_kmeans(self._index, filter=filter, limit=limit, **kmeans)
            analysed = int(result["parameters"]["num_records"])
            matched = analysed if limit is None else self._index.count(filter)
            result["usage"] = usage.scanned(analysed, self._index.dimensions)
            return report_matched(kind, result, matched, analysed)
        snap = self._index.snapshot(filter, limit)
        return run_analysis(kind, snap, filter=filter, limit=limit, settings=settings)


def _prepare_shard(shard: Any, namespace: str, name: str) -> dict[str, Any]:
    """``search.prepare()`` of one shard's index, run inside the shard actor."""
    out: dict[str, Any] = shard._idx(namespace, name).search.prepare()
    return out


def _no_rows(dim: int) -> Snapshot:
    """An empty snapshot: running an analysis on it checks its arguments and nothing else."""
    return Snapshot(uuids=[], vectors=np.zeros((0, dim), dtype=np.float32), metadata=[])


__all__ = ["ShardedSearch"]
