"""Bulk insert: validate every record of a call, then one SQLite transaction.

Nothing of a call is visible before its commit: vectors are stacked into the cache's spare
rows (invisible past ``n``) and adopted only after the transaction commits.

``ingest`` is the entry point (``records.add``/``add_many``/``add_vectors``). Its steps
``prepare`` (properties and ids), ``stack`` (vectors), ``dedupe_call`` and ``failed_id``
are public for a driver that validates records the embedded way before sending them on
(``eigenlake.distributed``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ..api.checks import DUPLICATE_MODES, check_choice
from ..api.results import AddManyResult, FailedRecord
from ..errors import ConflictError, EigenlakeError, ValidationError
from ..ids import canonical_id, derived_id, new_ids
from ..schema import describe_value, is_utf8
from ..vectors import as_vector, bad_rows, stack_vectors
from .internal import IndexAccess
from .validate import CompiledSchema, PropSpec
from .validate_batch import validate_batch

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
class _Prepared:
    position: int
    uuid: str
    props: dict[str, Any]


def check_mode(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    """``api.checks.check_choice``: a NumPy array or other non-string is refused by name,
    not compared (``value not in allowed`` raised "truth value ... is ambiguous")."""
    check_choice(name, value, allowed)


def ingest(
    index: IndexAccess, records: list[dict[str, Any]], *, on_duplicate: str, on_error: str
) -> AddManyResult:
    """Store ``records`` in one transaction (after every record of the call is checked);
    with ``on_error="continue"`` the bad ones are reported instead of raised."""
    check_mode("on_duplicate", on_duplicate, DUPLICATE_MODES)
    check_mode("on_error", on_error, ("raise", "continue"))
    with index.writing() as w:
        # vectors are stacked straight into the cache's spare rows: no batch copy
        scratch_owner = w.cache
        scratch_start = scratch_owner.n
        out = scratch_owner.scratch(len(records))
        prepared, matrix, failed, pending = check_call(
            w, index.namespace, index.name, records, on_duplicate, on_error, out
        )
        skipped: list[str] = []
        with w.transaction() as store:
            # duplicates against stored records, judged on a cache fresh under the lock
            row_of = w.cache.row_of
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
                seqs = [int(w.cache.seq[row_of[u]]) for u in replaced]
                store.delete_seqs(seqs)
            positions = [p.position for p in keep]
            first = store.take_seqs(len(keep)) if keep else 0
            seqs = list(range(first, first + len(keep)))
            uuids = [p.uuid for p in keep]
            store.insert(_rows_to_insert(seqs, keep, matrix))
            used = {k: v for k, v in pending.items() if any(k in p.props for p in keep)}
            if used:
                w.declare(store, used)
        # committed: now mirror it in the cache
        cache = w.cache
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
        [FailedRecord(failed_id(records[i]), str(e), i) for i, e in sorted(failed.items())],
    )
    result.skipped = skipped  # type: ignore[attr-defined]
    return result


class CallSettings(Protocol):
    """What checking a write needs to know of its index (the embedded write view, or the
    sharded index's driver-side settings)."""

    @property
    def schema(self) -> CompiledSchema: ...

    @property
    def config(self) -> dict[str, Any]: ...

    @property
    def dimensions(self) -> int: ...

    @property
    def metric(self) -> str: ...


def check_call(
    index: CallSettings,
    namespace: str,
    name: str,
    records: list[dict[str, Any]],
    on_duplicate: str,
    on_error: str,
    out: np.ndarray,
) -> tuple[list[_Prepared], np.ndarray, dict[int, EigenlakeError], dict[str, PropSpec]]:
    """Every record of a write call checked (properties, ids, vectors into ``out``, the
    call's own duplicates), before anything is stored: ``(prepared, matrix, failed,
    pending)``, ``pending`` the properties an open schema gains. Embedded and sharded
    writes both run it, so ids, messages and positions are those of one embedded index."""
    failed: dict[int, EigenlakeError] = {}
    pending: dict[str, PropSpec] = {}
    prepared = prepare(
        index.schema,
        index.config.get("record_id_property"),
        namespace,
        name,
        records,
        pending,
        failed,
        on_error,
    )
    matrix = stack(index.dimensions, index.metric == "cosine", records, failed, on_error, out)
    prepared = [p for p in prepared if p.position not in failed]
    prepared = dedupe_call(prepared, on_duplicate, failed, on_error)
    return prepared, matrix, failed, pending


def prepare(
    schema: CompiledSchema,
    id_property: str | None,
    namespace: str,
    index_name: str,
    records: list[dict[str, Any]],
    pending: dict[str, PropSpec],
    failed: dict[int, EigenlakeError],
    on_error: str,
) -> list[_Prepared]:
    """Each record's checked properties and uuid (derived from ``id_property``, else the
    sent id, else a new one), in call order; properties an open schema gains go to
    ``pending``. A bad record raises, or with ``on_error="continue"`` goes to ``failed``."""
    if all(type(r) is dict for r in records):
        # only None means "no properties": 0, "" or [] are refused by the per-record path
        sent = [r.get("properties") for r in records]
        fast = validate_batch(schema, [{} if p is None else p for p in sent], pending)
    else:
        fast = None
    fresh = iter(new_ids(len(records)))
    out = []
    for i, rec in enumerate(records):
        try:
            if not isinstance(rec, dict):
                raise ValidationError(
                    f"record {i}: each item of records must be a dict with 'properties' and "
                    f"'vector', got {type(rec).__name__} {describe_value(rec)}"
                )
            given = rec.get("id", rec.get("uuid"))
            where = f"record {i}" if given is None else f"record {i} (id {_shown(given)})"
            if fast is not None:
                props = fast[i]
            else:
                props = schema.validate(rec.get("properties"), where, pending)
            if id_property and props.get(id_property) is not None:
                uid = derived_id(namespace, index_name, props[id_property])
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


def stack(
    dimensions: int,
    cosine: bool,
    records: list[dict[str, Any]],
    failed: dict[int, EigenlakeError],
    on_error: str,
    out: np.ndarray,
) -> np.ndarray:
    """The records' vectors checked and stacked into ``out`` (``len(records)`` rows of
    ``dimensions``); a bad one raises, or goes to ``failed`` (its row a placeholder)."""
    dim = dimensions
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
    for i, problem in bad_rows(matrix, cosine).items():
        err = ValidationError(f"record {i}: {problem}")
        if on_error == "raise":
            raise err
        failed.setdefault(i, err)
    return matrix


def dedupe_call(
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


def _shown(given: Any) -> str:
    """An id as given, for messages and ``FailedRecord.id``: a lone surrogate escaped (an
    answer could not carry it), anything long or odd cut short."""
    text = str(given) if isinstance(given, (str, uuid.UUID)) else None
    if text is not None and len(text) <= 64 and is_utf8(text):
        return text
    return describe_value(given)


def failed_id(rec: Any) -> str | None:
    """The id a record was sent with, as ``FailedRecord.id`` shows it (None: no id)."""
    if isinstance(rec, dict):
        given = rec.get("id", rec.get("uuid"))
        return None if given is None else _shown(given)
    return None
