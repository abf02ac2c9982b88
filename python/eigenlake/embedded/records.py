"""``index.records``: add, get, update, replace, remove and cursor-paged list.

Writes validate every record of the call first (schema, vector, ids), then run one SQLite
transaction; the cache changes only after the commit, so a failed call leaves no trace.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ConflictError, EigenlakeError, NotFoundError, ValidationError
from ..ids import canonical_id, derived_id, new_ids
from ..vectors import as_vector, bad_rows, stack_vectors
from .validate import PropSpec, validate_batch

if TYPE_CHECKING:
    from .index import Index

_DUPLICATE_MODES = ("error", "replace", "skip")
_JSON = json.JSONEncoder(check_circular=False)


def _rows_to_insert(
    seqs: list[int], keep: list[_Prepared], matrix: np.ndarray
) -> Iterator[tuple[int, str, memoryview, str]]:
    """Rows streamed to ``executemany``: JSON and byte views are made one at a time, so
    a large call never holds them all (each vector is a view; SQLite copies from it)."""
    if not keep:
        return
    flat = np.ascontiguousarray(matrix, dtype=np.float32).data.cast("B")
    step = matrix.shape[1] * 4
    encode = _JSON.encode
    for seq, p in zip(seqs, keep, strict=True):
        i = p.position
        yield seq, p.uuid, flat[i * step : (i + 1) * step], encode(p.props)


@dataclass
class FailedRecord:
    """A record ``add_many`` did not store: its id (when known) and why."""

    id: str | None
    error: str
    position: int | None = None


class AddManyResult(list[str]):
    """The uuids stored by ``add_many``, plus the records that failed."""

    def __init__(self, uuids: Iterable[str] = (), failed: list[FailedRecord] | None = None):
        super().__init__(uuids)
        self.failed_records: list[FailedRecord] = failed or []

    @property
    def number_errors(self) -> int:
        return len(self.failed_records)


@dataclass
class _Prepared:
    position: int
    uuid: str
    props: dict[str, Any]


def _check_mode(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValidationError(f"{name} must be one of {list(allowed)}, got {value!r}")


class Records:
    def __init__(self, index: Index) -> None:
        self._index = index

    # ---- writes -------------------------------------------------------------------------

    def add(
        self,
        *,
        properties: dict[str, Any] | None = None,
        vector: Any,
        id: str | None = None,
        on_duplicate: str = "error",
    ) -> str:
        rec = {"properties": properties, "vector": vector, "id": id}
        result = self._ingest([rec], on_duplicate=on_duplicate, on_error="raise")
        if result:
            return str(result[0])
        return str(result.skipped[0])  # type: ignore[attr-defined]

    def add_many(
        self,
        records: Iterable[dict[str, Any]],
        *,
        on_duplicate: str = "error",
        on_error: str = "raise",
        batch_size: int = 500,
        max_workers: int = 1,
    ) -> AddManyResult:
        """Store records; ``batch_size``/``max_workers`` are accepted for API parity (one
        transaction per call keeps "nothing of a failing call is stored")."""
        return self._ingest(list(records), on_duplicate=on_duplicate, on_error=on_error)

    def add_vectors(
        self, vectors: Any, *, batch_size: int = 500, max_workers: int = 1
    ) -> AddManyResult:
        """Records of only ``{"id"?, "vector"}`` (or a bare list / 2-D array of vectors)."""
        if isinstance(vectors, np.ndarray) and vectors.ndim == 2:
            recs: list[dict[str, Any]] = [{"vector": v} for v in vectors]
        else:
            recs = [v if isinstance(v, dict) else {"vector": v} for v in vectors]
        for i, r in enumerate(recs):
            extra = set(r) - {"id", "uuid", "vector"}
            if extra:
                raise ValidationError(
                    f"record {i}: add_vectors takes id and vector only, got {sorted(extra)}"
                )
        return self._ingest(recs, on_duplicate="error", on_error="raise")

    def _ingest(
        self, records: list[dict[str, Any]], *, on_duplicate: str, on_error: str
    ) -> AddManyResult:
        _check_mode("on_duplicate", on_duplicate, _DUPLICATE_MODES)
        _check_mode("on_error", on_error, ("raise", "continue"))
        index = self._index
        with index._lock:
            index._sync()
            failed: dict[int, EigenlakeError] = {}
            pending: dict[str, PropSpec] = {}
            prepared = self._prepare(records, pending, failed, on_error)
            # vectors are stacked straight into the cache's spare rows: no batch copy
            scratch_owner, scratch_start = index._cache, index._cache.n
            matrix = self._vectors(records, failed, on_error, scratch_owner.scratch(len(records)))
            prepared = [p for p in prepared if p.position not in failed]
            prepared = self._dedupe_call(prepared, on_duplicate, failed, on_error)
            skipped: list[str] = []
            with index._writing() as store:
                # duplicates against stored records, judged on a cache fresh under the lock
                row_of = index._cache.row_of
                keep: list[_Prepared] = []
                replaced: list[str] = []
                for p in prepared:
                    if p.uuid in row_of:
                        if on_duplicate == "error":
                            err = ConflictError(f"record {p.position}: id {p.uuid} already exists")
                            if on_error == "raise":
                                raise err
                            failed[p.position] = err
                            continue
                        if on_duplicate == "skip":
                            skipped.append(p.uuid)
                            continue
                        replaced.append(p.uuid)
                    keep.append(p)
                if replaced:
                    seqs = [int(index._cache.seq[row_of[u]]) for u in replaced]
                    store.delete_seqs(seqs)
                positions = [p.position for p in keep]
                first = store.take_seqs(len(keep)) if keep else 0
                seqs = list(range(first, first + len(keep)))
                uuids = [p.uuid for p in keep]
                store.insert(_rows_to_insert(seqs, keep, matrix))
                used = {k: v for k, v in pending.items() if any(k in p.props for p in keep)}
                if used:
                    index._schema.declare(used)
                    index._save_config(store)
            # committed: now mirror it in the cache
            cache = index._cache
            for spec in used.values():
                cache.add_column(spec)
            cache.kill(replaced)
            props = [p.props for p in keep]
            if cache is scratch_owner and cache.n == scratch_start:
                cache.commit_scratch(positions, uuids, seqs, props)
            else:  # the cache was rebuilt meanwhile (another process wrote): copy rows in
                cache.append(uuids, seqs, matrix[positions], props)
        result = AddManyResult(
            uuids,
            [FailedRecord(_failed_id(records[i]), str(e), i) for i, e in sorted(failed.items())],
        )
        result.skipped = skipped  # type: ignore[attr-defined]
        return result

    def _prepare(
        self,
        records: list[dict[str, Any]],
        pending: dict[str, PropSpec],
        failed: dict[int, EigenlakeError],
        on_error: str,
    ) -> list[_Prepared]:
        index = self._index
        schema = index._schema
        id_prop = index.config.get("record_id_property")
        if all(type(r) is dict for r in records):
            fast = validate_batch(schema, [r.get("properties") or {} for r in records], pending)
        else:
            fast = None
        fresh = iter(new_ids(len(records)))
        out = []
        for i, rec in enumerate(records):
            try:
                if not isinstance(rec, dict):
                    raise ValidationError(f"record {i}: expected a dict, got {type(rec).__name__}")
                given = rec.get("id", rec.get("uuid"))
                where = f"record {i}" if given is None else f"record {i} (id {given})"
                if fast is not None:
                    props = fast[i]
                else:
                    props = schema.validate(rec.get("properties"), where, pending)
                if id_prop and props.get(id_prop) is not None:
                    uid = derived_id(index.namespace, index.name, props[id_prop])
                elif given is not None:
                    uid = canonical_id(given, where)
                else:
                    uid = next(fresh)
                out.append(_Prepared(i, uid, props))
            except EigenlakeError as e:
                if on_error == "raise":
                    raise
                failed[i] = e
        return out

    def _vectors(
        self,
        records: list[dict[str, Any]],
        failed: dict[int, EigenlakeError],
        on_error: str,
        out: np.ndarray,
    ) -> np.ndarray:
        dim = self._index.dimensions
        vecs = [r.get("vector") if isinstance(r, dict) else None for r in records]
        try:
            matrix = stack_vectors(vecs, dim, out)
        except ValidationError:
            if on_error == "raise":
                raise
            matrix = out
            for i, v in enumerate(vecs):
                try:
                    matrix[i] = as_vector(v, dim, f"record {i}")
                except ValidationError as e:
                    failed.setdefault(i, e)
                    matrix[i] = 1.0  # placeholder, never stored
        for i, problem in bad_rows(matrix, self._index.metric == "cosine").items():
            err = ValidationError(f"record {i}: {problem}")
            if on_error == "raise":
                raise err
            failed.setdefault(i, err)
        return matrix

    @staticmethod
    def _dedupe_call(
        prepared: list[_Prepared],
        on_duplicate: str,
        failed: dict[int, EigenlakeError],
        on_error: str,
    ) -> list[_Prepared]:
        """Duplicates inside one call: error (later ones fail), replace (last wins), skip."""
        seen: dict[str, int] = {}
        out: list[_Prepared] = []
        for p in prepared:
            j = seen.get(p.uuid)
            if j is None:
                seen[p.uuid] = len(out)
                out.append(p)
            elif on_duplicate == "error":
                err = ConflictError(
                    f"record {p.position}: id {p.uuid} repeats record {out[j].position}"
                )
                if on_error == "raise":
                    raise err
                failed[p.position] = err
            elif on_duplicate == "replace":
                out[j] = p
        return out

    def update(
        self,
        id: str,
        *,
        properties: dict[str, Any] | None = None,
        vector: Any = None,
    ) -> dict[str, Any]:
        """Merge ``properties`` into the record and replace its vector when given.

        A property the schema does not declare is added to it (typed from the value).
        """
        return self._modify(id, properties, vector, merge=True)

    def replace(
        self, *, id: str, properties: dict[str, Any] | None = None, vector: Any = None
    ) -> dict[str, Any]:
        """Replace the properties (and the vector when given) of an existing record."""
        return self._modify(id, properties or {}, vector, merge=False)

    def _modify(
        self, id: str, properties: dict[str, Any] | None, vector: Any, *, merge: bool
    ) -> dict[str, Any]:
        index = self._index
        uid = canonical_id(id)
        where = f"record {uid}"
        with index._lock:
            index._sync()
            if uid not in index._cache.row_of:
                raise NotFoundError(f"record {uid} does not exist")
            pending: dict[str, PropSpec] = {}
            new_props = index._schema.validate(
                properties, where, pending, evolve=merge, partial=merge
            )
            vec = None
            if vector is not None:
                vec = as_vector(vector, index.dimensions, where).reshape(1, -1)
                for problem in bad_rows(vec, index.metric == "cosine").values():
                    raise ValidationError(f"{where}: {problem}")
            with index._writing() as store:
                cache = index._cache
                row = cache.row_of.get(uid)
                if row is None:
                    raise NotFoundError(f"record {uid} does not exist")
                seq = int(cache.seq[row])
                old_props = json.loads(store.fetch([seq], with_vector=False)[seq][1])
                props = {**old_props, **new_props} if merge else new_props
                if merge:
                    for name in index._schema.required:
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
                    index._schema.declare(pending)
                    index._save_config(store)
            for spec in pending.values():
                cache.add_column(spec)
            if vec is None:
                cache.set_props(row, props)
            else:
                cache.kill([uid])
                cache.append([uid], [new_seq], vec, [props])
        return {"uuid": uid, "metadata": props}

    def remove(self, id: str) -> dict[str, Any]:
        index = self._index
        uid = canonical_id(id)
        with index._lock:
            with index._writing() as store:
                row = index._cache.row_of.get(uid)
                if row is None:
                    raise NotFoundError(f"record {uid} does not exist")
                store.delete_seqs([int(index._cache.seq[row])])
            index._cache.kill([uid])
        return {"deleted": 1}

    def remove_many(
        self,
        *,
        filter: dict[str, Any],
        limit: int | None = None,
        on_missing: str = "skip",
        **_: Any,
    ) -> dict[str, int]:
        """Remove the records matching ``filter`` (at most ``limit``, oldest first)."""
        _check_mode("on_missing", on_missing, ("skip", "error"))
        if filter is None:
            raise ValidationError("remove_many needs a filter; manage.delete() drops the index")
        index = self._index
        with index._lock:
            index._sync()
            node = index._parse_filter(filter)
            with index._writing() as store:
                cache = index._cache
                rows = np.flatnonzero(index._filter_mask(node))
                rows = rows[np.argsort(cache.seq[rows], kind="stable")]
                if limit is not None:
                    rows = rows[: max(int(limit), 0)]
                if len(rows) == 0 and on_missing == "error":
                    raise NotFoundError(f"no record matches the filter {filter!r}")
                store.delete_seqs([int(s) for s in cache.seq[rows]])
            cache.kill([cache.uuids[r] for r in rows.tolist()])
        return {"deleted": len(rows)}

    # ---- reads --------------------------------------------------------------------------

    def get(
        self, id: str, *, return_data: bool = True, return_metadata: bool = True
    ) -> dict[str, Any] | None:
        """The record, or None. ``return_metadata`` adds its properties as ``metadata``,
        ``return_data`` its vector."""
        index = self._index
        uid = canonical_id(id)
        with index._lock:
            index._sync()
            row = index._cache.row_of.get(uid)
            if row is None:
                return None
            return index._records([row], with_vector=return_data, with_properties=return_metadata)[
                0
            ]

    def exists(self, id: str) -> bool:
        index = self._index
        uid = canonical_id(id)
        with index._lock:
            index._sync()
            return uid in index._cache.row_of

    def list(
        self,
        *,
        filter: dict[str, Any] | None = None,
        limit: int = 100,
        after: str | None = None,
        with_vector: bool = False,
        with_properties: bool = True,
    ) -> dict[str, Any]:
        """A page of matching records in row-sequence order; ``next_after`` pages on."""
        if not isinstance(limit, int) or limit < 1:
            raise ValidationError(f"limit must be a positive integer, got {limit!r}")
        start = _parse_cursor(after)
        index = self._index
        with index._lock:
            index._sync()
            node = index._parse_filter(filter)
            cache = index._cache
            keep = index._filter_mask(node)
            if start:
                keep &= cache.seq[: cache.n] > start
            rows = np.flatnonzero(keep)
            seqs = cache.seq[rows]
            if len(seqs) > 1 and not bool(np.all(seqs[1:] > seqs[:-1])):
                rows = rows[np.argsort(seqs, kind="stable")]
            page = rows[:limit].tolist()
            objects = index._records(page, with_vector=with_vector, with_properties=with_properties)
            more = len(rows) > limit
            next_after = str(int(cache.seq[page[-1]])) if more and page else None
        return {"objects": objects, "next_after": next_after}


def _parse_cursor(after: Any) -> int:
    if after is None or after == "":
        return 0
    try:
        return int(after)
    except (TypeError, ValueError):
        raise ValidationError(f"after {after!r} is not a cursor returned by list()") from None


def _failed_id(rec: Any) -> str | None:
    if isinstance(rec, dict):
        given = rec.get("id", rec.get("uuid"))
        return None if given is None else str(given)
    return None
