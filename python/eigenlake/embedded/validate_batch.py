"""Column-wise validation of a whole ``add_many`` call (the fast path).

Checks each property's column of values at once (exact Python types, ranges, constraints);
anything unusual returns None and the caller validates record by record, which also
writes the precise error message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..api.columns import BOOLEAN, DATE, DATETIME, INTEGER, NUMBER, STRING, PropertyColumn
from ..errors import EigenlakeError, ValidationError
from ..schema import is_utf8
from .validate import _INT64_MAX, CompiledSchema, PropertyError, PropSpec, _spec

_NONE = type(None)
# Exact Python types a column of each kind may hold without per-value normalisation.
_FAST_TYPES: dict[str, set[type]] = {
    "string": {str, _NONE},
    "integer": {int, _NONE},
    "number": {int, float, _NONE},
    "boolean": {bool, _NONE},
}
_PLAIN_KEYS = {"type", "description"}


_INFERRED: dict[frozenset[type], str] = {
    frozenset({str}): "string",
    frozenset({int}): "integer",
    frozenset({float}): "number",
    frozenset({int, float}): "number",
    frozenset({bool}): "boolean",
}


def validate_batch(
    schema: CompiledSchema, props_list: list[Any], pending: dict[str, PropSpec]
) -> list[dict[str, Any]] | None:
    """Column-wise validation of a whole call: the given dicts when every one is valid and
    needs no normalisation, else None (the caller then validates record by record, which
    also produces the precise error message). Undeclared properties of an open schema are
    typed here from their column of values and put into ``pending``."""
    if not all(type(p) is dict for p in props_list):
        return None
    keys: set[str] = set().union(*[p.keys() for p in props_list]) if props_list else set()
    # one join + encode finds a non-string key or a lone surrogate in any key
    if not all(type(k) is str for k in keys) or not is_utf8("".join(keys)):
        return None
    new_keys = keys - schema.props.keys()
    if new_keys and not schema.additional:
        return None  # the per-record path names the undeclared property
    found: dict[str, PropSpec] = {}
    for name in new_keys:
        types = frozenset(type(p.get(name)) for p in props_list) - {_NONE}
        kind = _INFERRED.get(types)
        if kind is None or not isinstance(name, str):
            return None
        found[name] = _spec(name, {"type": kind}, True)
    for name in schema.required:
        if any(p.get(name) is None for p in props_list):
            return None
    for name in keys:
        spec = schema.props.get(name) or found[name]
        vals = [p.get(name) for p in props_list]
        allowed = _FAST_TYPES.get(spec.kind)
        if allowed is None or not set(map(type, vals)) <= allowed:
            return None
        present = [v for v in vals if v is not None]
        if spec.kind == "number":
            floats = [v for v in present if type(v) is float]
            if floats and not bool(np.isfinite(np.array(floats)).all()):
                return None
            ints = [v for v in present if type(v) is int]
            if ints and not _in_int64(ints):
                return None
        elif spec.kind == "integer" and present and not _in_int64(present):
            return None
        elif spec.kind == "string" and not is_utf8("".join(present)):
            return None  # a lone surrogate somewhere in the column
        if spec.fragment.keys() - _PLAIN_KEYS:  # constraints: check each value
            try:
                for v in present:
                    spec.check(v)
            except PropertyError:
                return None
    pending.update(found)
    return props_list


def _in_int64(values: list[int]) -> bool:
    return min(values) >= -_INT64_MAX - 1 and max(values) <= _INT64_MAX


# ---- columns (records.add_many of a DataFrame, Arrow table or dict of columns) ----------


@dataclass
class CheckedColumn:
    """A property column checked against the schema: ``values`` the stored (normalised)
    Python values, None where the row lacks it (``present`` False; None: all present);
    ``typed`` the same as an int64/float64/bool array when the column is one (the cache
    takes it as is), else None; ``kind`` the property's kind (None: free-form values)."""

    name: str
    kind: str | None
    values: list[Any]
    present: np.ndarray | None
    typed: np.ndarray | None


_TYPED_KINDS = {"integer": INTEGER, "number": NUMBER, "boolean": BOOLEAN}
_FRAGMENTS: dict[str, dict[str, Any]] = {
    INTEGER: {"type": "integer"},
    NUMBER: {"type": "number"},
    BOOLEAN: {"type": "boolean"},
    STRING: {"type": "string"},
    DATETIME: {"type": "string", "format": "date-time"},
    DATE: {"type": "string", "format": "date"},
}


def validate_columns(
    schema: CompiledSchema,
    columns: list[PropertyColumn],
    n: int,
    where: Callable[[int], str],
    pending: dict[str, PropSpec],
    failed: dict[int, EigenlakeError],
) -> list[CheckedColumn]:
    """Every property column of a columnar write checked at once, in the words of the
    record-by-record path (``record 17: property 'length': ...``, ``where(i)`` naming row
    ``i``). A row's first problem (in column order) goes to ``failed``; the caller raises
    the first failed row's or skips them. Undeclared properties of an open schema are typed
    from their column (datetime and date columns included) and go into ``pending``."""
    out: list[CheckedColumn] = []
    for col in columns:
        name = col.name
        present = None if col.missing is None else ~col.missing
        rows = np.arange(n) if present is None else np.flatnonzero(present)
        if not is_utf8(name):
            for i in rows.tolist():
                failed.setdefault(
                    i,
                    ValidationError(
                        f"{where(i)}: property name {name!r} contains a lone surrogate (not"
                        " valid Unicode, cannot be stored)"
                    ),
                )
            continue
        spec = schema.props.get(name) or pending.get(name)
        if spec is None:
            if not schema.additional:
                for i in rows.tolist():
                    failed.setdefault(
                        i,
                        ValidationError(
                            f"{where(i)}: property {name!r} is not declared in the closed schema"
                        ),
                    )
                continue
            if col.kind is None or col.kind not in _FRAGMENTS:
                out.append(_record_by_record(schema, col, rows, where, pending, failed))
                continue
            if len(rows) == 0:
                continue  # nothing to type it from: stays undeclared
            spec = _spec(name, dict(_FRAGMENTS[col.kind]), True)
            pending[name] = spec
        out.append(_checked(spec, col, present, rows, where, failed))
    for name in schema.required:
        col_of = {c.name: c for c in out}
        c = col_of.get(name)
        lacking = (
            range(n)
            if c is None
            else ([] if c.present is None else np.flatnonzero(~c.present).tolist())
        )
        for i in lacking:
            failed.setdefault(
                i, ValidationError(f"{where(i)}: required property {name!r} is missing")
            )
    return out


def _checked(
    spec: PropSpec,
    col: PropertyColumn,
    present: np.ndarray | None,
    rows: np.ndarray,
    where: Callable[[int], str],
    failed: dict[int, EigenlakeError],
) -> CheckedColumn:
    """One declared (or just typed) property's column: typed columns of the property's
    kind checked with NumPy, anything else value by value with the property's checker."""
    name, kind, vals = spec.name, spec.kind, col.values
    plain = not (spec.fragment.keys() - _PLAIN_KEYS)
    typed: np.ndarray | None = None
    if plain and vals.dtype != object and _TYPED_KINDS.get(kind) == col.kind:
        if vals.dtype.kind == "u" and vals.size and int(vals.max()) > _INT64_MAX:
            bad = np.flatnonzero(vals > _INT64_MAX)
            for i in bad.tolist():
                if present is None or present[i]:
                    failed.setdefault(
                        i,
                        ValidationError(
                            f"{where(i)}: property {name!r}: integer outside the 64-bit range"
                        ),
                    )
            vals = np.where(vals > _INT64_MAX, 0, vals).astype(np.int64)
        if kind == "number" and vals.dtype.kind == "f":
            inf = np.isinf(vals)
            for i in np.flatnonzero(inf).tolist():
                failed.setdefault(
                    i,
                    ValidationError(
                        f"{where(i)}: property {name!r}: expected a finite number (JSON has no"
                        " NaN or infinity)"
                    ),
                )
        typed = vals
        pylist = vals.tolist()
    elif plain and kind == "string" and col.kind == STRING:
        pylist = list(vals)
        text = [pylist[i] for i in rows.tolist()] if present is not None else pylist
        if not is_utf8("".join(text)):
            for i in rows.tolist():
                if not is_utf8(pylist[i]):
                    failed.setdefault(
                        i,
                        ValidationError(
                            f"{where(i)}: property {name!r}: string contains a lone surrogate"
                            " (not valid Unicode, cannot be stored)"
                        ),
                    )
    else:
        pylist = vals.tolist() if vals.dtype != object else list(vals)
        check = spec.check
        for i in rows.tolist():
            try:
                pylist[i] = check(pylist[i])
            except PropertyError as e:
                failed.setdefault(i, ValidationError(f"{where(i)}: property {name!r}: {e}"))
        if kind in _TYPED_KINDS and vals.dtype != object:
            typed = None  # constraints were checked value by value; the list is the truth
    if present is not None:
        for i in np.flatnonzero(~present).tolist():
            pylist[i] = None
    return CheckedColumn(name, kind, pylist, present, typed)


def _record_by_record(
    schema: CompiledSchema,
    col: PropertyColumn,
    rows: np.ndarray,
    where: Callable[[int], str],
    pending: dict[str, PropSpec],
    failed: dict[int, EigenlakeError],
) -> CheckedColumn:
    """An undeclared column of mixed or free-form values (open schema): each value as the
    record-by-record path takes it (the first typeable value types the property)."""
    name = col.name
    pylist = col.python()
    present = np.zeros(len(pylist), dtype=bool)
    for i in rows.tolist():
        try:
            pylist[i] = schema.validate({name: pylist[i]}, where(i), pending, partial=True)[name]
            present[i] = True
        except ValidationError as e:
            failed.setdefault(i, e)
    spec = pending.get(name)
    return CheckedColumn(name, None if spec is None else spec.kind, pylist, present, None)
