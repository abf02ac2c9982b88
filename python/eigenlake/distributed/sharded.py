"""Driver-side ``ShardedIndex``: the embedded Index surface over N shard actors.

Writes are validated on the driver with the embedded code (so ids, messages and record
positions are those of one embedded index), then routed to the shard owning each uuid.
Reads by id go to one shard; list and search scatter to all and merge.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator
from functools import cached_property
from typing import Any, cast

import numpy as np

from .._args import MAX_INT, check_limit, cursor_text
from ..embedded import ingest
from ..embedded.ingest import AddManyResult, FailedRecord
from ..embedded.validate import CompiledSchema, _spec
from ..errors import ConflictError, EigenlakeError, NotFoundError, ValidationError
from ..ids import canonical_id
from .merge import decode_cursor, encode_cursor, merge_pages, shard_of
from .rpc import gather, one


class ShardedIndex:
    def __init__(self, shards: list[Any], namespace: str, name: str, config: dict[str, Any]):
        self._shards = shards
        self.namespace = namespace
        self.name = name
        self.config = config
        meta = (config.get("index_options") or {}).get("metadataConfiguration") or {}
        self._schema = CompiledSchema(
            config.get("schema"), list(meta.get("nonFilterableMetadataKeys") or [])
        )

    def __repr__(self) -> str:
        return f"ShardedIndex(namespace={self.namespace!r}, index={self.name!r}, shards={self.num_shards})"

    @property
    def num_shards(self) -> int:
        return len(self._shards)

    @property
    def dimensions(self) -> int:
        return int(self.config["dimensions"])

    @property
    def metric(self) -> str:
        return str(self.config.get("distance_metric", "cosine"))

    def _call(self, method: str, *args: Any, **kwargs: Any) -> list[Any]:
        """The same call on every shard, in parallel; results in shard order."""
        return gather(
            [
                getattr(s, method).remote(self.namespace, self.name, *args, **kwargs)
                for s in self._shards
            ]
        )

    def _owner(self, uid: str) -> Any:
        return self._shards[shard_of(uid, self.num_shards)]

    def count(self, filter: dict[str, Any] | None = None) -> int:
        """Live records matching ``filter`` over all shards."""
        return int(sum(self._call("count", filter)))

    @cached_property
    def records(self) -> ShardedRecords:
        return ShardedRecords(self)

    @cached_property
    def search(self) -> Any:
        from .search import ShardedSearch

        return ShardedSearch(self)

    @cached_property
    def settings(self) -> ShardedSettings:
        return ShardedSettings(self)

    @cached_property
    def manage(self) -> ShardedManage:
        return ShardedManage(self)


class ShardedRecords:
    def __init__(self, index: ShardedIndex) -> None:
        self._index = index

    def add(
        self,
        *,
        properties: dict[str, Any] | None = None,
        vector: Any,
        id: str | None = None,
        on_duplicate: str = "error",
    ) -> str:
        rec = {"properties": properties, "vector": vector, "id": id}
        _result, prepared = self._ingest([rec], on_duplicate, "raise")
        return prepared[0]

    def add_many(
        self,
        records: Iterable[dict[str, Any]],
        *,
        on_duplicate: str = "error",
        on_error: str = "raise",
        batch_size: int = 500,
        max_workers: int = 1,
    ) -> AddManyResult:
        """Validate on the driver, then one ``add_many`` per shard, in parallel."""
        return self._ingest(list(records), on_duplicate, on_error)[0]

    def _ingest(
        self, records: list[dict[str, Any]], on_duplicate: str, on_error: str
    ) -> tuple[AddManyResult, list[str]]:
        ingest.check_mode("on_duplicate", on_duplicate, ingest.DUPLICATE_MODES)
        ingest.check_mode("on_error", on_error, ("raise", "continue"))
        index = self._index
        failed: dict[int, EigenlakeError] = {}
        pending: dict[str, Any] = {}  # properties an open schema gains from this call
        # the embedded ingest code, run on the driver against this index's settings, so ids
        # and messages are those of one embedded index
        local = cast(Any, index)
        prepared = ingest._prepare(local, records, pending, failed, on_error)
        out = np.empty((len(records), index.dimensions), dtype=np.float32)
        matrix = ingest._vectors(local, records, failed, on_error, out)
        prepared = [p for p in prepared if p.position not in failed]
        prepared = ingest._dedupe_call(prepared, on_duplicate, failed, on_error)
        groups: list[list[Any]] = [[] for _ in range(index.num_shards)]
        for p in prepared:
            groups[shard_of(p.uuid, index.num_shards)].append(p)
        if on_error == "raise" and on_duplicate == "error":
            # check every shard before any writes: a duplicate leaves nothing stored
            self._refuse_stored(groups)
        refs = [
            shard.add_many.remote(
                index.namespace,
                index.name,
                [{"properties": p.props, "vector": matrix[p.position], "id": p.uuid} for p in g],
                on_duplicate,
                on_error,
            )
            for shard, g in zip(index._shards, groups, strict=True)
            if g
        ]
        position = {p.uuid: p.position for p in prepared}
        stored: list[str] = []
        for g, (uuids, shard_failed) in zip([g for g in groups if g], gather(refs), strict=True):
            stored.extend(uuids)
            for local, _id, message in shard_failed:
                pos = g[local].position if local is not None else None
                if pos is not None:  # the shard counted records from 0 in its own batch
                    message = message.replace(f"record {local}", f"record {pos}", 1)
                    failed[pos] = ConflictError(message)
        stored.sort(key=position.__getitem__)
        if pending and stored:
            self._spread({n: spec.fragment for n, spec in pending.items()})
        result = AddManyResult(
            stored,
            [
                FailedRecord(ingest._failed_id(records[i]), str(e), i)
                for i, e in sorted(failed.items())
            ],
        )
        return result, [p.uuid for p in prepared]

    def add_vectors(
        self, vectors: Any, *, batch_size: int = 500, max_workers: int = 1
    ) -> AddManyResult:
        """Records of only ``{"id"?, "vector"}`` (or a bare list / 2-D array of vectors)."""
        if isinstance(vectors, np.ndarray) and vectors.ndim == 2:
            recs: builtins.list[dict[str, Any]] = [{"vector": v} for v in vectors]
        else:
            recs = [v if isinstance(v, dict) else {"vector": v} for v in vectors]
        for i, r in enumerate(recs):
            extra = set(r) - {"id", "uuid", "vector"}
            if extra:
                raise ValidationError(
                    f"record {i}: add_vectors takes id and vector only, got {sorted(extra)}"
                )
        return self._ingest(recs, "error", "raise")[0]

    def remove_many(
        self,
        *,
        filter: dict[str, Any],
        limit: int | None = None,
        on_missing: str = "skip",
        **_: Any,
    ) -> dict[str, int]:
        """Remove matching records (at most ``limit``, the first in ``list`` order)."""
        from .kmeans import first_rows

        ingest.check_mode("on_missing", on_missing, ("skip", "error"))
        if filter is None:
            raise ValidationError("remove_many needs a filter; manage.delete() drops the index")
        idx = self._index
        per: builtins.list[int | None] = [None] * idx.num_shards
        if limit is not None:
            per = list(first_rows(idx, filter, max(int(limit), 0)))
        deleted = sum(
            gather(
                [
                    s.remove_many.remote(idx.namespace, idx.name, filter, n)
                    for s, n in zip(idx._shards, per, strict=True)
                ]
            )
        )
        if deleted == 0 and on_missing == "error":
            raise NotFoundError(f"no record matches the filter {filter!r}")
        return {"deleted": int(deleted)}

    def _refuse_stored(self, groups: list[list[Any]]) -> None:
        index = self._index
        refs = [
            s.existing.remote(index.namespace, index.name, [p.uuid for p in g])
            for s, g in zip(index._shards, groups, strict=True)
            if g
        ]
        found = {u for uuids in gather(refs) for u in uuids}
        for g in groups:
            for p in g:
                if p.uuid in found:
                    raise ConflictError(f"record {p.position}: id {p.uuid} already exists")

    def _spread(self, fragments: dict[str, dict[str, Any]]) -> None:
        """Declare new properties on every shard and on the driver's schema, so filters
        and later writes see one schema however the records were routed."""
        index = self._index
        fragments = {n: f for n, f in fragments.items() if n not in index._schema.props}
        if not fragments:
            return
        index._call("declare", fragments)
        index._schema.declare(
            {n: _spec(n, f, n not in index._schema.non_filterable) for n, f in fragments.items()}
        )

    def _after_write(self, owner: Any, properties: dict[str, Any] | None) -> None:
        names = set(properties or {}) - set(self._index._schema.props)
        if names:  # the owner may have added these to its schema: share them
            idx = self._index
            props = one(owner.schema_properties.remote(idx.namespace, idx.name))
            self._spread({n: props[n] for n in names if n in props})

    def update(
        self, id: str, *, properties: dict[str, Any] | None = None, vector: Any = None
    ) -> dict[str, Any]:
        """Merge properties into the record (on its shard); a property the schema does not
        declare is added to it on every shard, as in the embedded index."""
        uid = canonical_id(id)
        idx = self._index
        owner = idx._owner(uid)
        out = one(
            owner.update.remote(idx.namespace, idx.name, uid, properties=properties, vector=vector)
        )
        self._after_write(owner, properties)
        return cast(dict[str, Any], out)

    def replace(
        self, *, id: str, properties: dict[str, Any] | None = None, vector: Any = None
    ) -> dict[str, Any]:
        uid = canonical_id(id)
        idx = self._index
        owner = idx._owner(uid)
        out = one(
            owner.replace.remote(idx.namespace, idx.name, uid, properties=properties, vector=vector)
        )
        self._after_write(owner, properties)
        return cast(dict[str, Any], out)

    def get(
        self, id: str, *, return_data: bool = True, return_metadata: bool = True
    ) -> dict[str, Any] | None:
        uid = canonical_id(id)
        idx = self._index
        return cast(
            "dict[str, Any] | None",
            one(
                idx._owner(uid).get.remote(
                    idx.namespace,
                    idx.name,
                    uid,
                    return_data=return_data,
                    return_metadata=return_metadata,
                )
            ),
        )

    def exists(self, id: str) -> bool:
        uid = canonical_id(id)
        idx = self._index
        return bool(one(idx._owner(uid).exists.remote(idx.namespace, idx.name, uid)))

    def remove(self, id: str) -> dict[str, Any]:
        uid = canonical_id(id)
        idx = self._index
        return cast(
            dict[str, Any], one(idx._owner(uid).remove.remote(idx.namespace, idx.name, uid))
        )

    def list(
        self,
        *,
        filter: dict[str, Any] | None = None,
        limit: int = 100,
        after: str | None = None,
        with_vector: bool = False,
        with_properties: bool = True,
    ) -> dict[str, Any]:
        """A page in (shard sequence, shard) order; ``next_after`` holds every shard's
        position, so paging on returns each record exactly once."""
        limit = check_limit(limit)  # the embedded checks, so both modes refuse alike
        after = cursor_text(after, "list")
        n = self._index.num_shards
        cursors = [0] * n
        if after is not None:
            cursors = decode_cursor(after, "list")
            if not (
                isinstance(cursors, builtins.list)
                and len(cursors) == n
                and all(type(c) is int and 0 <= c <= MAX_INT for c in cursors)
            ):
                raise ValidationError(f"after {after!r} is not a cursor of this {n}-shard index")
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
            for s, c in zip(self._index._shards, cursors, strict=True)
        ]
        objects, cursors, more = merge_pages(cursors, gather(refs), limit)
        return {"objects": objects, "next_after": encode_cursor(cursors) if more else None}

    def iterate(self, *, page_size: int = 500, **kwargs: Any) -> Iterator[dict[str, Any]]:
        after = None
        while True:
            page = self.list(limit=page_size, after=after, **kwargs)
            yield from page["objects"]
            after = page["next_after"]
            if after is None:
                return


class ShardedSettings:
    def __init__(self, index: ShardedIndex) -> None:
        self._index = index

    def dimensions(self) -> int:
        return self._index.dimensions

    def schema(self) -> dict[str, Any]:
        """The union of the shards' schemas (an open schema grows per shard)."""
        merged: dict[str, Any] = {}
        for cfg in self._index._call("open"):
            src = dict(cfg.get("schema") or {})
            props = {**merged.get("properties", {}), **src.get("properties", {})}
            merged = {**merged, **src}
            if props:
                merged["properties"] = props
        return merged

    def shards(self) -> dict[str, Any]:
        counts = self._index._call("count", None)
        return {
            "shard_count": self._index.num_shards,
            "shards": [{"id": i, "records": int(c)} for i, c in enumerate(counts)],
        }


class ShardedManage:
    def __init__(self, index: ShardedIndex) -> None:
        self._index = index

    def delete(self) -> dict[str, Any]:
        self._index._call("delete")
        return {"deleted": True}

    def remove_by_filter(
        self, *, filter: dict[str, Any], limit: int | None = None, **_: Any
    ) -> dict[str, int]:
        return self._index.records.remove_many(filter=filter, limit=limit)


__all__ = ["ShardedIndex"]
