"""Driver-side ``ShardedIndex``: the embedded Index surface over N shard actors.

Writes are validated on the driver with the embedded code (so ids, messages and record
positions are those of one embedded index), then routed to the shard owning each uuid.
Reads by id go to one shard; list and search scatter to all and merge.

Order: the driver gives every stored record a sequence number from one counter for the
whole index (the largest next number of any shard, plus the record's rank in the call),
so merging the shards by (sequence, shard) gives the order one embedded index would have
stored the same writes in. ``records.list``, ``iterate``, ``search.list``, a ``limit`` on
``remove_many`` and the rows an analysis gathers all follow that order.
"""

from __future__ import annotations

import builtins
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ..analysis.snapshot import Snapshot
from ..api import embedding
from ..api.batch import Batch
from ..api.checks import (
    MAX_INT,
    check_filter_arg,
    check_nesting,
    short_repr,
)
from ..api.export import Exported, export_by_pages, schema_kinds
from ..api.protocols import Agent as AgentSurface
from ..api.protocols import Manage as ManageSurface
from ..api.protocols import Records as RecordsSurface
from ..api.protocols import Settings as SettingsSurface
from ..api.reprs import index_repr
from ..api.results import AddManyResult, FailedRecord
from ..embedded import ingest
from ..embedded.validate import CompiledSchema, _spec
from ..errors import ConflictError, EigenlakeError, NotFoundError, ValidationError
from ..ids import canonical_id
from .merge import decode_cursor, encode_cursor, merge_pages, shard_of
from .rpc import gather, one

if TYPE_CHECKING:
    from .search import ShardedSearch


class ShardedIndex:
    """``config`` is read from the shards on first use (``indexes.ref`` makes no round
    trip) and again at the start of every write, so writes validate against the schema
    the shards hold now (also after another client changed it).

    Besides the user surface, the facades here, ``search`` and ``kmeans`` use ``shards``,
    ``schema``, ``refresh``, ``next_seq``, ``call_shards``, ``owner_of`` and ``snapshot``
    (internal, as the embedded index's ``reading``/``writing``)."""

    def __init__(self, shards: list[Any], namespace: str, name: str, config: dict[str, Any] | None):
        self._shards = shards
        self.namespace = namespace
        self.name = name
        self._config: dict[str, Any] | None = None
        self._compiled: CompiledSchema | None = None
        if config is not None:
            self._adopt(config, config.get("schema"))

    def __repr__(self) -> str:
        return index_repr("ShardedIndex", "distributed", self, shards=self.num_shards)

    # ---- settings the driver keeps ------------------------------------------------------

    def _adopt(self, config: dict[str, Any], schema: dict[str, Any] | None) -> None:
        meta = (config.get("index_options") or {}).get("metadataConfiguration") or {}
        source = dict(schema) if schema else {}
        if self._compiled is None or self._compiled.source != source or self._config != config:
            self._compiled = CompiledSchema(
                schema or None, list(meta.get("nonFilterableMetadataKeys") or [])
            )
        self._config = config

    @property
    def config(self) -> dict[str, Any]:
        if self._config is None:
            self._adopt(*self._read_settings())
        assert self._config is not None
        return self._config

    @property
    def schema(self) -> CompiledSchema:
        """The compiled schema the driver validates writes against (internal)."""
        if self._compiled is None:
            self._adopt(*self._read_settings())
        assert self._compiled is not None
        return self._compiled

    def _read_settings(self) -> tuple[dict[str, Any], dict[str, Any]]:
        states = self.call_shards("write_state")
        return states[0]["config"], union_schema([s["schema"] for s in states])

    def refresh(self) -> int:
        """Re-read settings and schema from the shards (a write validates against what
        they hold now); returns the index-wide next sequence number. Internal."""
        states = self.call_shards("write_state")
        self._adopt(states[0]["config"], union_schema([s["schema"] for s in states]))
        return max(int(s["next_seq"]) for s in states)

    def next_seq(self) -> int:
        """The index-wide next sequence number (the largest of the shards'). Internal."""
        return max(int(n) for n in self.call_shards("next_seq"))

    @property
    def shards(self) -> tuple[Any, ...]:
        """The shard actor handles, in shard order (read-only). Internal."""
        return tuple(self._shards)

    @property
    def num_shards(self) -> int:
        return len(self._shards)

    @property
    def dimensions(self) -> int:
        return int(self.config["dimensions"])

    @property
    def metric(self) -> str:
        return str(self.config.get("distance_metric", "cosine"))

    def call_shards(self, method: str, *args: Any, **kwargs: Any) -> list[Any]:
        """The same call on every shard, in parallel; results in shard order. Internal."""
        return gather(
            [
                getattr(s, method).remote(self.namespace, self.name, *args, **kwargs)
                for s in self._shards
            ]
        )

    def close(self) -> None:
        """Nothing to release: the shards own the stores (``client.close()`` stops them)."""

    def owner_of(self, uid: str) -> Any:
        """The shard holding (or to hold) the record ``uid``. Internal."""
        return self._shards[shard_of(uid, self.num_shards)]

    def count(self, filter: dict[str, Any] | None = None) -> int:
        """Live records matching ``filter`` over all shards."""
        check_filter(filter)
        return int(sum(self.call_shards("count", filter)))

    def snapshot(self, filter: Any = None, limit: int | None = None) -> Snapshot:
        """The first ``limit`` matching rows in the index order (see the module doc),
        gathered to the driver: what the analyses that are not distributed and the agent
        run over (the embedded ``Index.snapshot``). Internal.

        Each shard gives its part of the global first ``limit`` (found from the rows'
        sequence numbers first, so no shard sends rows that are cut)."""
        from .kmeans import first_rows

        check_filter(filter)
        per: builtins.list[int | None] = [None] * self.num_shards
        if limit is not None:
            per = builtins.list(first_rows(self, filter, max(int(limit), 0)))
        parts = gather(
            [
                s.snapshot.remote(self.namespace, self.name, filter, n)
                for s, n in zip(self._shards, per, strict=True)
            ]
        )
        seqs = np.concatenate([np.asarray(p["seqs"], dtype=np.int64) for p in parts])
        shard_ids = np.concatenate(
            [np.full(len(p["seqs"]), i, dtype=np.int64) for i, p in enumerate(parts)]
        )
        order = np.lexsort((shard_ids, seqs))  # by seq, then shard
        dim = self.dimensions
        stacked = [np.asarray(p["vectors"], dtype=np.float32).reshape(-1, dim) for p in parts]
        # each shard sends its properties as a plain list of copies (``Properties`` pickles
        # so): the driver's snapshot owns them
        uuids = [u for p in parts for u in p["uuids"]]
        metadata = [m for p in parts for m in p["metadata"]]
        if len(order) > 1 and not bool((order[1:] > order[:-1]).all()):
            vectors = np.ascontiguousarray(np.concatenate(stacked)[order], dtype=np.float32)
            take = order.tolist()
            uuids = [uuids[i] for i in take]
            metadata = [metadata[i] for i in take]
        else:  # already in order (e.g. one shard): one copy of the rows, none of the lists
            vectors = np.ascontiguousarray(np.concatenate(stacked), dtype=np.float32)
        return Snapshot(
            uuids=uuids,
            vectors=vectors,
            metadata=metadata,
            metric=self.metric,
            schema=union_schema([p["schema"] for p in parts]),
            matched=None if limit is None else self.count(filter),
        )

    # ---- facades ------------------------------------------------------------------------

    @cached_property
    def records(self) -> ShardedRecords:
        return ShardedRecords(self)

    @cached_property
    def search(self) -> ShardedSearch:
        from .search import ShardedSearch

        return ShardedSearch(self)

    @cached_property
    def settings(self) -> ShardedSettings:
        return ShardedSettings(self)

    @cached_property
    def manage(self) -> ShardedManage:
        return ShardedManage(self)

    @cached_property
    def batch(self) -> Batch:
        """``batch.with_size(...)``: the one batch writer of every mode, which buffers and
        calls ``records.add_many`` (here the sharded one)."""
        return Batch(lambda: self.records)

    @cached_property
    def agent(self) -> ShardedAgent:
        return ShardedAgent(self)


def check_filter(flt: Any) -> None:
    """A filter argument as embedded checks it before parsing: None or a dict, nested no
    deeper than ``MAX_FILTER_DEPTH`` (a deeper one could not even be sent to a shard)."""
    check_filter_arg(flt)
    if flt is not None:
        check_nesting(flt)


def union_schema(sources: builtins.list[dict[str, Any] | None]) -> dict[str, Any]:
    """The shards' schemas as one: their properties together (an open schema grows per
    shard until the driver declares a new property everywhere)."""
    merged: dict[str, Any] = {}
    for src in sources:
        src = dict(src or {})
        props = {**merged.get("properties", {}), **src.get("properties", {})}
        merged = {**merged, **src}
        if props:
            merged["properties"] = props
    return merged


class ShardedRecords(RecordsSurface):
    """``index.records`` over the shards: the public methods are written once in
    ``api.protocols.Records`` over the primitives below."""

    def __init__(self, index: ShardedIndex) -> None:
        self._index = index

    # ---- writes -------------------------------------------------------------------------

    def _add(self, record: dict[str, Any], on_duplicate: str) -> str:
        _result, prepared = self._ingest([record], on_duplicate, "raise")
        return prepared[0]

    def _add_many(
        self, records: builtins.list[Any], *, on_duplicate: str, on_error: str, batch_size: int
    ) -> AddManyResult:
        """Validate on the driver, then one write per shard, in parallel."""
        return self._ingest(records, on_duplicate, on_error)[0]

    def _add_vectors(
        self, vectors: np.ndarray | builtins.list[dict[str, Any]], *, batch_size: int
    ) -> AddManyResult:
        recs = [{"vector": v} for v in vectors] if isinstance(vectors, np.ndarray) else vectors
        return self._ingest(recs, "error", "raise")[0]

    def _ingest(
        self, records: builtins.list[dict[str, Any]], on_duplicate: str, on_error: str
    ) -> tuple[AddManyResult, builtins.list[str]]:
        index = self._index
        base = index.refresh()
        unembedded: dict[int, EigenlakeError] = {}
        if embedding.needs_embedding(records):  # on the driver, as the vectors' checks
            embedder = embedding.of_config(index.config)
            records = embedding.embed_records(embedder, records, on_error, unembedded)
        out = np.empty((len(records), index.dimensions), dtype=np.float32)
        prepared, matrix, failed, pending = ingest.check_call(
            index, index.namespace, index.name, records, on_duplicate, on_error, out, unembedded
        )
        # rank: the order one embedded index stores the call in (its sequence numbers)
        rank = {p.uuid: r for r, p in enumerate(prepared)}
        groups: builtins.list[builtins.list[Any]] = [[] for _ in range(index.num_shards)]
        for p in prepared:
            groups[shard_of(p.uuid, index.num_shards)].append(p)
        if on_error == "raise" and on_duplicate == "error":
            # check every shard before any writes: a duplicate leaves nothing stored
            self._refuse_stored(groups)
        fragments = {n: spec.fragment for n, spec in pending.items()}
        refs = [
            shard.insert.remote(
                index.namespace,
                index.name,
                {
                    "uuids": [p.uuid for p in g],
                    "props": [p.props for p in g],
                    "vectors": matrix[[p.position for p in g]],
                    "positions": [p.position for p in g],
                    "ranks": [rank[p.uuid] for p in g],
                    "base": base,
                    "fragments": fragments,
                },
                on_duplicate,
                on_error,
            )
            for shard, g in zip(index.shards, groups, strict=True)
            if g
        ]
        stored: builtins.list[str] = []
        declared: set[str] = set()
        for uuids, shard_failed, used in gather(refs):
            stored.extend(uuids)
            declared.update(used)
            for pos, _uid, message in shard_failed:
                failed[pos] = ConflictError(message)
        stored.sort(key=rank.__getitem__)
        if declared:  # new properties a shard stored: declare them on every shard
            self._spread({n: fragments[n] for n in sorted(declared)})
        result = AddManyResult(
            stored,
            [
                FailedRecord(ingest.failed_id(records[i]), str(e), i)
                for i, e in sorted(failed.items())
            ],
        )
        return result, [p.uuid for p in prepared]

    def _refuse_stored(self, groups: builtins.list[builtins.list[Any]]) -> None:
        index = self._index
        refs = [
            s.existing.remote(index.namespace, index.name, [p.uuid for p in g])
            for s, g in zip(index.shards, groups, strict=True)
            if g
        ]
        found = {u for uuids in gather(refs) for u in uuids}
        if not found:
            return
        first = min((p for g in groups for p in g if p.uuid in found), key=lambda p: p.position)
        raise ConflictError(f"record {first.position}: id {first.uuid} already exists")

    def _spread(self, fragments: dict[str, dict[str, Any]]) -> None:
        """Declare new properties on every shard and on the driver's schema, so filters
        and later writes see one schema however the records were routed."""
        index = self._index
        if not fragments:
            return
        index.call_shards("declare", fragments)
        schema = index.schema
        new = {n: f for n, f in fragments.items() if n not in schema.props}
        schema.declare({n: _spec(n, f, n not in schema.non_filterable) for n, f in new.items()})

    def _after_write(self, owner: Any, properties: Any) -> None:
        if not isinstance(properties, dict):
            return
        names = set(properties) - set(self._index.schema.props)
        if names:  # the owner may have added these to its schema: share them
            idx = self._index
            props = one(owner.schema_properties.remote(idx.namespace, idx.name))
            self._spread({n: props[n] for n in names if n in props})

    def _modify(self, id: Any, properties: Any, vector: Any, *, merge: bool) -> dict[str, Any]:
        """On the record's shard; a property the schema does not declare is then declared
        on every shard, as in the embedded index. A new vector moves the record to the end
        of the index order, as embedded."""
        uid = canonical_id(id)
        idx = self._index
        owner = idx.owner_of(uid)
        min_seq = idx.next_seq() if vector is not None else 0
        call = owner.update if merge else owner.replace
        out = one(
            call.remote(idx.namespace, idx.name, uid, min_seq, properties=properties, vector=vector)
        )
        self._after_write(owner, properties)
        return cast(dict[str, Any], out)

    def remove(self, id: str) -> dict[str, Any]:
        uid = canonical_id(id)
        idx = self._index
        return cast(
            dict[str, Any], one(idx.owner_of(uid).remove.remote(idx.namespace, idx.name, uid))
        )

    def _remove_many(self, filter: Any, limit: int | None, on_missing: str) -> dict[str, Any]:
        """At most ``limit`` matching records, the first in the index order."""
        from .kmeans import first_rows

        check_nesting(filter)  # the filter could not even be sent to a shard
        idx = self._index
        per: builtins.list[int | None] = [None] * idx.num_shards
        if limit is not None:
            per = builtins.list(first_rows(idx, filter, limit))
        if on_missing == "error":  # refused before any shard removes anything, as embedded
            matched = sum(n or 0 for n in per) if limit is not None else idx.count(filter)
            if matched == 0:
                raise NotFoundError(f"no record matches the filter {short_repr(filter, 200)}")
        deleted = sum(
            gather(
                [
                    s.remove_many.remote(idx.namespace, idx.name, filter, n)
                    for s, n in zip(idx.shards, per, strict=True)
                ]
            )
        )
        return {"deleted": int(deleted)}

    # ---- reads --------------------------------------------------------------------------

    def _read(self, id: Any, with_vector: bool, with_properties: bool) -> dict[str, Any] | None:
        uid = canonical_id(id)
        idx = self._index
        ref = idx.owner_of(uid).get.remote(
            idx.namespace, idx.name, uid, return_data=with_vector, return_metadata=with_properties
        )
        return cast("dict[str, Any] | None", one(ref))

    def exists(self, id: str) -> bool:
        uid = canonical_id(id)
        idx = self._index
        return bool(one(idx.owner_of(uid).exists.remote(idx.namespace, idx.name, uid)))

    def _count(self, filter: Any) -> int:
        return self._index.count(filter)

    def _export(
        self, filter: Any, limit: int | None, with_vector: bool, with_properties: bool
    ) -> Exported:
        """Cursor pages of ``list`` (each a scatter-gather over the shards)."""
        check_nesting(filter)
        idx = self._index
        out = export_by_pages(self, filter, limit, with_vector, with_properties, idx.dimensions)
        out.kinds = schema_kinds(idx.schema.source)
        return out

    def _list(
        self, filter: Any, limit: int, after: str | None, with_vector: bool, with_properties: bool
    ) -> dict[str, Any]:
        """A page in (sequence, shard) order, the index order; ``next_after`` holds every
        shard's position, so paging on returns each record exactly once."""
        check_nesting(filter)  # the filter could not even be sent to a shard
        n = self._index.num_shards
        cursors = [0] * n
        if after is not None:
            cursors = decode_cursor(after, "list")
            if not (
                isinstance(cursors, builtins.list)
                and len(cursors) == n
                and all(type(c) is int and 0 <= c <= MAX_INT for c in cursors)
            ):
                raise ValidationError(
                    f"after {short_repr(after, 40)} is not a cursor of this {n}-shard index"
                )
        refs = [
            s.list_page.remote(
                self._index.namespace,
                self._index.name,
                filter,
                limit,
                int(c),
                with_vector=with_vector,
                with_properties=with_properties,
            )
            for s, c in zip(self._index.shards, cursors, strict=True)
        ]
        objects, cursors, more = merge_pages(cursors, gather(refs), limit)
        return {"objects": objects, "next_after": encode_cursor(cursors) if more else None}


class ShardedSettings(SettingsSurface):
    def __init__(self, index: ShardedIndex) -> None:
        self._index = index

    def dimensions(self) -> int:
        return self._index.dimensions

    def metric(self) -> str:
        return self._index.metric

    def schema(self) -> dict[str, Any]:
        """The union of the shards' schemas (an open schema grows per shard)."""
        return union_schema(self._index.call_shards("schema"))

    def shards(self) -> dict[str, Any]:
        counts = self._index.call_shards("count", None)
        return {
            "shard_count": self._index.num_shards,
            "shards": [{"id": i, "records": int(c)} for i, c in enumerate(counts)],
        }


class ShardedManage(ManageSurface):
    def __init__(self, index: ShardedIndex) -> None:
        self._index = index

    @property
    def _records(self) -> ShardedRecords:
        return self._index.records

    def delete(self) -> dict[str, Any]:
        self._index.call_shards("delete")
        return {"deleted": True}


class ShardedAgent(AgentSurface):
    """``index.agent``: the same planner and runner as embedded, over the rows the shards
    hold (gathered to the driver by ``snapshot``); ``query`` is written once in
    ``api.protocols.Agent``."""

    def __init__(self, index: ShardedIndex) -> None:
        self._index = index

    def _query(self, query: str, settings: dict[str, Any]) -> dict[str, Any]:
        from ..agent import run_query

        return dict(run_query(self._index, query, **settings))


__all__ = ["ShardedIndex", "union_schema"]
