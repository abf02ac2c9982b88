"""``index.records``: add, get, update, replace, remove and cursor-paged list.

Writes validate every record of the call first (schema, vector, ids), then run one SQLite
transaction; the cache changes only after the commit, so a failed call leaves no trace.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ..api.checks import short_repr
from ..api.columns import Columns
from ..api.cursor import parse_list_cursor
from ..api.export import Exported, schema_kinds
from ..api.protocols import Records as RecordsSurface
from ..api.results import AddManyResult, FailedRecord
from ..errors import NotFoundError, ValidationError
from ..ids import canonical_id
from ..vectors import as_vector, bad_rows
from .ingest import DUPLICATE_MODES, ingest, ingest_columns
from .internal import IndexAccess
from .validate import PropSpec

__all__ = ["Records", "AddManyResult", "FailedRecord", "DUPLICATE_MODES"]


class Records(RecordsSurface):
    """``index.records``: the public methods are written once in ``api.protocols.Records``
    over the primitives below (``_add``, ``_add_many``, ``_read``, ``_modify``, …)."""

    def __init__(self, index: IndexAccess) -> None:
        self._index = index

    # ---- writes -------------------------------------------------------------------------

    def _add(self, record: dict[str, Any], on_duplicate: str) -> str:
        result = ingest(self._index, [record], on_duplicate=on_duplicate, on_error="raise")
        if result:
            return str(result[0])
        return str(result.skipped[0])  # type: ignore[attr-defined]

    def _add_many(
        self, records: list[Any], *, on_duplicate: str, on_error: str, batch_size: int
    ) -> AddManyResult:
        """One transaction per call (so "nothing of a failing call is stored");
        ``batch_size``/``max_workers`` are accepted for API parity."""
        return ingest(self._index, records, on_duplicate=on_duplicate, on_error=on_error)

    def _add_columns(
        self, columns: Columns, *, on_duplicate: str, on_error: str, batch_size: int
    ) -> AddManyResult:
        """A table in one transaction, checked and stored column by column."""
        return ingest_columns(self._index, columns, on_duplicate=on_duplicate, on_error=on_error)

    def _add_vectors(
        self, vectors: np.ndarray | list[dict[str, Any]], *, batch_size: int
    ) -> AddManyResult:
        recs = [{"vector": v} for v in vectors] if isinstance(vectors, np.ndarray) else vectors
        return ingest(self._index, recs, on_duplicate="error", on_error="raise")

    def _modify(self, id: Any, properties: Any, vector: Any, *, merge: bool) -> dict[str, Any]:
        if properties is None and not merge:
            properties = {}  # only None means "no properties": 0 or [] are named mistakes
        uid = canonical_id(id)
        where = f"record {uid}"
        with self._index.writing() as w:
            if w.cache.row(uid) is None:
                raise NotFoundError(f"record {uid} does not exist")
            pending: dict[str, PropSpec] = {}
            new_props = w.schema.validate(properties, where, pending, evolve=merge, partial=merge)
            vec = None
            if vector is not None:
                vec = as_vector(vector, w.dimensions, where).reshape(1, -1)
                for problem in bad_rows(vec, w.metric == "cosine").values():
                    raise ValidationError(f"{where}: {problem}")
            with w.transaction() as store:
                cache = w.cache
                row = cache.row(uid)
                if row is None:
                    raise NotFoundError(f"record {uid} does not exist")
                seq = int(cache.seq[row])
                old_props = json.loads(store.fetch([seq], with_vector=False)[seq][1])
                props = {**old_props, **new_props} if merge else new_props
                if merge:
                    for name in w.schema.required:
                        if props.get(name) is None:
                            raise ValidationError(f"{where}: required property {name!r} is missing")
                props_json = json.dumps(props)
                if vec is None:
                    store.update_props(seq, props_json)
                else:
                    # a new vector gets a new row (and sequence number); the old row dies
                    store.delete_seqs([seq])
                    new_seq = store.take_seqs(1)
                    store.insert([(new_seq, uid, vec.tobytes(), props_json)])
                if pending:
                    w.declare(store, pending)
            for spec in pending.values():
                cache.add_column(spec)
            if vec is None:
                cache.set_props(row, props, props_json)
            else:
                cache.kill([uid])
                cache.append([uid], [new_seq], vec, [props], texts=[props_json])
        return {"uuid": uid, "metadata": props}

    def remove(self, id: str) -> dict[str, Any]:
        uid = canonical_id(id)
        with self._index.writing() as w:
            with w.transaction() as store:
                cache = w.cache
                row = cache.row(uid)
                if row is None:
                    raise NotFoundError(f"record {uid} does not exist")
                store.delete_seqs([int(cache.seq[row])])
            cache.kill([uid])
        return {"deleted": 1}

    def _remove_many(self, filter: Any, limit: int | None, on_missing: str) -> dict[str, Any]:
        """At most ``limit`` matching records, oldest first, in one transaction."""
        with self._index.writing() as w:
            node = w.parse_filter(filter)
            with w.transaction() as store:
                cache = w.cache
                rows = np.flatnonzero(w.filter_mask(node))
                rows = rows[np.argsort(cache.seq[rows], kind="stable")]
                if limit is not None:
                    rows = rows[:limit]
                if len(rows) == 0 and on_missing == "error":
                    raise NotFoundError(f"no record matches the filter {short_repr(filter, 200)}")
                store.delete_seqs([int(s) for s in cache.seq[rows]])
            cache.kill_rows(rows)
        return {"deleted": len(rows)}

    # ---- reads --------------------------------------------------------------------------

    def _read(self, id: Any, with_vector: bool, with_properties: bool) -> dict[str, Any] | None:
        uid = canonical_id(id)
        with self._index.reading() as view:
            row = view.cache.row(uid)
            if row is None:
                return None
            recs = view.records_by_rows(
                [row], with_vector=with_vector, with_properties=with_properties, uuids=[uid]
            )
            return recs[0]

    def _count(self, filter: Any) -> int:
        with self._index.reading() as view:
            if filter is None or filter == {}:
                return view.cache.live_count
            return int(np.count_nonzero(view.filter_mask(view.parse_filter(filter))))

    def exists(self, id: str) -> bool:
        uid = canonical_id(id)
        with self._index.reading() as view:
            return view.cache.row(uid) is not None

    def _list(
        self, filter: Any, limit: int, after: str | None, with_vector: bool, with_properties: bool
    ) -> dict[str, Any]:
        """A page of matching records in row-sequence order; ``next_after`` pages on."""
        start = parse_list_cursor(after)
        with self._index.reading() as view:
            node = view.parse_filter(filter)
            cache = view.cache
            keep = view.filter_mask(node)
            if start:
                keep = keep & (cache.seq[: cache.n] > start)
            rows = np.flatnonzero(keep)
            seqs = cache.seq[rows]
            if len(seqs) > 1 and not bool(np.all(seqs[1:] > seqs[:-1])):
                rows = rows[np.argsort(seqs, kind="stable")]
            page = rows[:limit].tolist()
            objects = view.records_by_rows(
                page, with_vector=with_vector, with_properties=with_properties
            )
            more = len(rows) > limit
            next_after = str(int(cache.seq[page[-1]])) if more and page else None
        return {"objects": objects, "next_after": next_after}

    def _export(
        self, filter: Any, limit: int | None, with_vector: bool, with_properties: bool
    ) -> Exported:
        with self._index.reading() as view:
            cache = view.cache
            rows = np.flatnonzero(view.filter_mask(view.parse_filter(filter)))
            seqs = cache.seq[rows]
            if len(seqs) > 1 and not bool(np.all(seqs[1:] > seqs[:-1])):
                rows = rows[np.argsort(seqs, kind="stable")]
            if limit is not None:
                rows = rows[:limit]
            listed = rows.tolist()
            uuids = cache.uuid_texts(rows)
            props = cache.props.dicts(listed) if with_properties else None
            vectors = view.stored_vectors(rows) if with_vector else None
            kinds = schema_kinds(view.schema.source)
            typed = cache.typed_columns(rows, kinds) if with_properties else {}
        return Exported(uuids, vectors, props, kinds, typed)
