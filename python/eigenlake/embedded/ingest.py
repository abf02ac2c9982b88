"""Bulk insert: validate every record of a call, then one SQLite transaction.

Nothing of a call is visible before its commit: vectors are stacked into the cache's spare
rows (invisible past ``n``) and adopted only after the transaction commits.

``ingest`` is the entry point (``records.add``/``add_many``/``add_vectors``). Its steps
``prepare`` (properties and ids), ``stack`` (vectors), ``dedupe_call`` and ``failed_id``
are public for a driver that validates records the embedded way before sending them on
(``eigenlake.distributed``).
"""

from __future__ import annotations

import gc
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii
from typing import Any, Protocol

import numpy as np

from .. import _core
from ..api import embedding
from ..api.checks import DUPLICATE_MODES, check_choice
from ..api.columns import Columns
from ..api.results import AddManyResult, FailedRecord
from ..errors import ConflictError, EigenlakeError, ValidationError
from ..ids import canonical_id, derived_id, new_ids
from ..schema import describe_value, is_utf8
from ..vectors import NOT_FINITE, ZERO_ROW, as_vector, bad_rows, normalise_in_place, stack_vectors
from .background import overlapping
from .internal import IndexAccess
from .store import RowTexts
from .validate import CompiledSchema, PropSpec
from .validate_batch import CheckedColumn, validate_batch, validate_columns

_JSON = json.JSONEncoder(check_circular=False)
# a write of at least this many records puts its vectors in the store's vector file (one
# append + fsync, no SQLite pages); smaller ones keep them inline (one fsync, the commit's)
BLOCK_ROWS = 256


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
    unembedded: dict[int, EigenlakeError] = {}
    if embedding.needs_embedding(records):  # outside the lock: a model takes its time
        with index.reading() as view:
            embedder = embedding.of_config(view.config)
        records = embedding.embed_records(embedder, records, on_error, unembedded)
    with index.writing() as w:
        # vectors are stacked straight into the cache's spare rows: no batch copy
        scratch_owner = w.cache
        scratch_start = scratch_owner.n
        out = scratch_owner.scratch(len(records))
        prepared, matrix, failed, pending = check_call(
            w, index.namespace, index.name, records, on_duplicate, on_error, out, unembedded
        )
        skipped: list[str] = []
        with w.transaction() as store:
            # duplicates against stored records, judged on a cache fresh under the lock
            stored = w.cache.rows([p.uuid for p in prepared]).tolist()
            keep: list[_Prepared] = []
            replaced: list[str] = []
            replaced_rows: list[int] = []
            for p, row in zip(prepared, stored, strict=True):
                if row >= 0:
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
                    replaced_rows.append(row)
                keep.append(p)
            if replaced:
                store.delete_seqs(w.cache.seq[replaced_rows].tolist())
            positions = [p.position for p in keep]
            first = store.take_seqs(len(keep)) if keep else 0
            seqs = list(range(first, first + len(keep)))
            uuids = [p.uuid for p in keep]
            if len(keep) >= BLOCK_ROWS:
                block = (
                    matrix[: len(keep)]
                    if positions == list(range(len(keep)))
                    else matrix[positions]
                )
                encode = _JSON.encode
                texts = [encode(p.props) for p in keep]
                store.insert_block(seqs, uuids, block, texts)
            else:
                texts = None  # encoded row by row as they stream to the store
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
            cache.commit_scratch(positions, uuids, seqs, props, texts)
        else:  # the cache was rebuilt meanwhile (another process wrote): copy rows in
            cache.append(uuids, seqs, matrix[positions], props, texts=texts)
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
    failed: dict[int, EigenlakeError] | None = None,
) -> tuple[list[_Prepared], np.ndarray, dict[int, EigenlakeError], dict[str, PropSpec]]:
    """Every record of a write call checked (properties, ids, vectors into ``out``, the
    call's own duplicates), before anything is stored: ``(prepared, matrix, failed,
    pending)``, ``pending`` the properties an open schema gains. Embedded and sharded
    writes both run it, so ids, messages and positions are those of one embedded index.
    ``failed``: records refused before (an embedder had nothing to embed)."""
    failed = {} if failed is None else failed
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


# ---- columnar writes (records.add_many of a DataFrame, Arrow table or dict of columns) ---


def ingest_columns(
    index: IndexAccess, columns: Columns, *, on_duplicate: str, on_error: str
) -> AddManyResult:
    """``ingest`` for a table: the same checks, ids, messages and one transaction, done
    column by column (NumPy checks, one encoder call per column, one vector block)."""
    check_mode("on_duplicate", on_duplicate, DUPLICATE_MODES)
    check_mode("on_error", on_error, ("raise", "continue"))
    unembedded: dict[int, EigenlakeError] = {}
    if columns.vectors is None:  # rows without a vector: the index's embedder makes them
        with index.reading() as view:
            embedder = embedding.of_config(view.config)
        columns = embedding.embed_columns(embedder, columns, on_error, unembedded, columns.ids)
    paused = gc.isenabled()
    gc.disable()  # ~10 objects a row, all freed by reference counts: no cycles to find
    try:
        return _ingest_columns(index, columns, on_duplicate, on_error, unembedded)
    finally:
        if paused:
            gc.enable()


def _ingest_columns(
    index: IndexAccess,
    columns: Columns,
    on_duplicate: str,
    on_error: str,
    failed: dict[int, EigenlakeError],
) -> AddManyResult:
    n = columns.n
    ids = columns.ids
    with index.writing() as w:
        scratch_owner = w.cache
        scratch_start = scratch_owner.n
        out = scratch_owner.scratch(n)
        pending: dict[str, PropSpec] = {}

        def where(i: int) -> str:
            given = None if ids is None else ids[i]
            return f"record {i}" if given is None else f"record {i} (id {_shown(given)})"

        checked = validate_columns(w.schema, columns.properties, n, where, pending, failed)
        uuids = _column_uuids(w, index.namespace, index.name, checked, ids, n, where, failed)
        if failed and on_error == "raise":
            raise failed[min(failed)]
        _stack_columns(w.dimensions, w.metric == "cosine", columns, failed, on_error, out)
        fresh = ids is None and not _derives(w, checked)
        keep = _dedupe_rows(uuids, failed, on_duplicate, on_error, fresh=fresh)
        skipped: list[str] = []
        with w.transaction() as store:
            cache = w.cache
            replaced: list[str] = []
            replaced_rows: list[int] = []
            # new random (version 4) ids meet no stored one: 122 random bits each
            stored = (
                cache.rows([uuids[i] for i in keep]).tolist()
                if not fresh and cache.live_count
                else None
            )
            if stored is not None and max(stored, default=-1) >= 0:
                kept: list[int] = []
                for i, row in zip(keep, stored, strict=True):
                    uid = uuids[i]
                    if row >= 0:
                        if on_duplicate == "error":
                            err = ConflictError(f"record {i}: id {uid} already exists")
                            if on_error == "raise":
                                raise err
                            failed[i] = err
                            continue
                        if on_duplicate == "skip":
                            skipped.append(uid)
                            continue
                        replaced.append(uid)
                        replaced_rows.append(row)
                    kept.append(i)
                keep = kept
            if replaced:
                store.delete_seqs(cache.seq[replaced_rows].tolist())
            in_order = keep == list(range(len(keep)))
            first = store.take_seqs(len(keep)) if keep else 0
            seqs = list(range(first, first + len(keep)))
            kept_uuids = [uuids[i] for i in keep]
            raw = columns.vectors  # the caller's rows (None: stacked from items into out)
            normalised = False
            if len(keep) >= BLOCK_ROWS:
                # The vectors go to disk on a worker thread while the rows are encoded. When
                # the rows are the caller's first ones as sent, the file is written from the
                # caller's matrix, so the cache's copy can be normalised meanwhile too.
                k = len(keep)
                early = in_order and raw is not None and w.metric == "cosine"
                src = (
                    np.ascontiguousarray(raw[:k], dtype=np.float32)  # as documented: a no-op
                    if early and raw is not None
                    else out[:k]
                    if in_order
                    else out[keep]
                )
                with (
                    store.vector_block(src) as block,
                    overlapping(normalise_in_place if early else None, out[:k]),
                ):
                    picked = None if in_order else keep
                    texts_block = _json_block(checked, k, picked)
                    texts, values = _rows(checked, keep, picked, texts_block is None)
                    if texts_block is None:  # values the core cannot write: Python's texts
                        texts_block = RowTexts.of(texts)
                    store.insert_pointed(block, seqs, kept_uuids, texts_block)
                    written: RowTexts | list[str] = texts_block
                normalised = early
            else:
                texts, values = _rows(checked, keep, None if in_order else keep)
                written = texts
                if keep:
                    flat = out.data.cast("B")
                    step = out.shape[1] * 4
                    store.insert(
                        (s, u, flat[i * step : (i + 1) * step], t)
                        for s, u, i, t in zip(seqs, kept_uuids, keep, texts, strict=True)
                    )
            used = {
                k: v
                for k, v in pending.items()
                if any(
                    c.name == k and (c.present is None or c.present[keep].any()) for c in checked
                )
            }
            if used:
                w.declare(store, used)
        cache = w.cache
        for spec in used.values():
            cache.add_column(spec)
        cache.kill(replaced)
        if cache is scratch_owner and cache.n == scratch_start:
            cache.commit_scratch_columns(
                None if in_order else keep, kept_uuids, seqs, None, values, normalised, written
            )
        else:  # the cache was rebuilt meanwhile (another process wrote): copy rows in
            rows = out if raw is None or not normalised else raw  # append normalises
            cache.append(kept_uuids, seqs, rows[keep], None, texts=written)
    failed_ids = ids or [None] * n
    result = AddManyResult(
        kept_uuids,
        [
            FailedRecord(None if failed_ids[i] is None else _shown(failed_ids[i]), str(e), i)
            for i, e in sorted(failed.items())
        ],
    )
    result.skipped = skipped  # type: ignore[attr-defined]
    return result


def _derives(w: CallSettings, checked: list[CheckedColumn]) -> bool:
    id_property = w.config.get("record_id_property")
    return bool(id_property) and any(c.name == id_property for c in checked)


def _column_uuids(
    w: CallSettings,
    namespace: str,
    name: str,
    checked: list[CheckedColumn],
    ids: list[Any] | None,
    n: int,
    where: Callable[[int], str],
    failed: dict[int, EigenlakeError],
) -> list[str]:
    """Each row's uuid as ``prepare`` gives it: derived from the record id property when
    the row has it, else the given id, else a new one ("" for a row that failed)."""
    id_property = w.config.get("record_id_property")
    if ids is None and not (id_property and any(c.name == id_property for c in checked)):
        fresh_ids = new_ids(n)
        for i in failed:
            fresh_ids[i] = ""
        return fresh_ids
    keys: list[Any] = [None] * n
    if id_property:
        for c in checked:
            if c.name == id_property:
                keys = c.values
    fresh = iter(new_ids(n))
    out: list[str] = []
    for i in range(n):
        key = keys[i]
        if i in failed:
            out.append("")
        elif key is not None:
            out.append(derived_id(namespace, name, key))
        elif ids is not None and ids[i] is not None:
            try:
                out.append(canonical_id(ids[i], where(i)))
            except EigenlakeError as e:
                failed[i] = e
                out.append("")
        else:
            out.append(next(fresh))
    return out


def _stack_columns(
    dimensions: int,
    cosine: bool,
    columns: Columns,
    failed: dict[int, EigenlakeError],
    on_error: str,
    out: np.ndarray,
) -> None:
    """The rows' vectors checked and written into ``out`` (as ``stack`` does for dicts)."""
    if columns.vectors is not None:
        matrix = columns.vectors
        if matrix.shape[1] != dimensions:
            err = ValidationError(
                f"vectors have {matrix.shape[1]} dimensions, the index has {dimensions}"
            )
            if on_error == "raise":
                raise err
            for i in range(columns.n):
                failed.setdefault(i, err)
            return
        # copied into place and checked in one parallel pass (the messages of bad_rows)
        not_finite, zero = _core.stage_rows(matrix, out, cosine)
        problems = dict.fromkeys(not_finite.tolist(), NOT_FINITE)
        problems.update(dict.fromkeys(zero.tolist(), ZERO_ROW))
    else:
        items = columns.vector_items or []
        recs = [{"vector": v} for v in items]
        stack(dimensions, cosine, recs, failed, on_error, out)
        return
    for i in sorted(problems):
        err = ValidationError(f"record {i}: {problems[i]}")
        if on_error == "raise":
            raise err
        failed.setdefault(i, err)


def _dedupe_rows(
    uuids: list[str],
    failed: dict[int, EigenlakeError],
    on_duplicate: str,
    on_error: str,
    *,
    fresh: bool,
) -> list[int]:
    """The rows to store, in store order: ``dedupe_call`` over positions (``fresh``: every
    uuid is new and random, so none repeats)."""
    rows = [i for i in range(len(uuids)) if i not in failed] if failed else list(range(len(uuids)))
    if fresh:
        return rows
    if len(set(uuids[i] for i in rows)) == len(rows):
        return rows
    seen: dict[str, int] = {}
    out: list[int] = []
    for i in rows:
        uid = uuids[i]
        j = seen.get(uid)
        if j is None:
            seen[uid] = len(out)
            out.append(i)
        elif on_duplicate == "error":
            err = ConflictError(f"record {i}: id {uid} repeats record {out[j]}")
            if on_error == "raise":
                raise err
            failed[i] = err
        elif on_duplicate == "replace":
            out[j] = i
    return out


_BOOL_JSON = {True: "true", False: "false"}


def _encoder(c: CheckedColumn, typed: bool) -> Callable[[Any], str]:
    """One C-level call per value: what ``json.dumps`` writes for it."""
    if typed and c.typed is not None:
        kind = c.typed.dtype.kind
        if kind == "b":
            return _BOOL_JSON.__getitem__
        if kind in "iu":
            return int.__repr__
        if kind == "f":
            return float.__repr__
    if c.kind == "string" and typed:
        return encode_basestring_ascii
    return _JSON.encode


_CORE_KINDS = {"b": ("bool", np.bool_), "i": ("int", np.int64), "f": ("float", np.float64)}


def _json_block(checked: list[CheckedColumn], k: int, picked: list[int] | None) -> RowTexts | None:
    """The kept rows' property JSON texts, written by the core back to back (no string per
    row); None when a column holds values it does not take (Python encodes them then)."""
    cols: list[tuple[str, str, Any, np.ndarray | None]] = []
    for c in checked:
        present = c.present if c.present is None or picked is None else c.present[picked]
        if present is not None:
            present = np.ascontiguousarray(present, dtype=np.bool_)
        if c.typed is not None and c.typed.dtype.kind in _CORE_KINDS:
            kind, dtype = _CORE_KINDS[c.typed.dtype.kind]
            typed = c.typed if picked is None else c.typed[picked]
            cols.append((c.name, kind, np.ascontiguousarray(typed, dtype=dtype), present))
            continue
        vals = c.values if picked is None else [c.values[i] for i in picked]
        if c.kind == "string":
            cols.append((c.name, "str", list(vals), present))
        else:  # anything else as Python's encoder writes it (null where absent: not read)
            cols.append((c.name, "json", list(map(_JSON.encode, vals)), present))
    try:
        text, ends = _core.json_objects(cols, k)
    except (TypeError, ValueError):  # e.g. a non-str value in a string column
        return None
    return RowTexts(text, np.concatenate(([0], ends)).astype(np.int64))


def _rows(
    checked: list[CheckedColumn],
    keep: list[int],
    picked: list[int] | None,
    with_texts: bool = True,
) -> tuple[list[str], dict[str, tuple[Any, np.ndarray | None]]]:
    """The kept rows' property JSON texts (``with_texts``; else ``[]``) and each column's
    kept values for the cache. ``picked``: the kept positions when they
    are not ``0..k-1``. Rows are grouped by which properties they lack; each group is one
    template applied by ``map``."""
    k = len(keep)
    pick = (lambda v: v) if picked is None else (lambda v: [v[i] for i in picked])
    names = [c.name for c in checked]
    vals = [pick(c.values) for c in checked]
    present = [
        None if c.present is None else (c.present if picked is None else c.present[picked])
        for c in checked
    ]
    for c in checked:
        if c.present is not None and c.present.dtype != bool:
            raise AssertionError("present masks are bool")
    values: dict[str, tuple[Any, np.ndarray | None]] = {}
    for c, v, p in zip(checked, vals, present, strict=True):
        if c.typed is not None:
            values[c.name] = (c.typed if picked is None else c.typed[picked], p)
        else:
            values[c.name] = (v, p)
    keys = [_JSON.encode(name) + ": " for name in names]
    codes = np.zeros(k, dtype=np.int64)
    gaps = [j for j, p in enumerate(present) if p is not None]
    if len(gaps) <= 62:
        for j in gaps:
            codes |= (~present[j]).astype(np.int64) << gaps.index(j)  # type: ignore[operator]
        patterns = np.unique(codes).tolist() if gaps else [0]
    else:
        patterns = []
    if not patterns or len(patterns) > 64:  # ragged: row by row
        texts = []
        if with_texts:
            for r in range(k):
                d = {
                    name: col[r]
                    for name, col, p in zip(names, vals, present, strict=True)
                    if p is None or p[r]
                }
                texts.append(_JSON.encode(d))
        return texts, values
    encoders = [_encoder(c, True) for c in checked]
    texts_out: list[str] = [""] * k
    if not with_texts:
        return [], values
    for code in patterns:
        cols = [
            j for j in range(len(checked)) if present[j] is None or not (code >> gaps.index(j)) & 1
        ]
        template = (
            "{{"
            + ", ".join(keys[j].replace("{", "{{").replace("}", "}}") + "{}" for j in cols)
            + "}}"
        )
        if len(patterns) == 1:
            rows = None
            sub = [vals[j] for j in cols]
        else:
            rows = np.flatnonzero(codes == code).tolist()
            sub = [[vals[j][r] for r in rows] for j in cols]
        if cols:
            encoded = [list(map(encoders[j], s)) for j, s in zip(cols, sub, strict=True)]
            texts = list(map(template.format, *encoded))
        else:
            texts = ["{}"] * (k if rows is None else len(rows))
        if rows is None:
            return texts, values
        for r, t in zip(rows, texts, strict=True):
            texts_out[r] = t
    return texts_out, values
