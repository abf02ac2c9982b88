"""Records out as the tools people hold them in: NumPy, Arrow, pandas (written once, for
every mode, over one ``Exported`` value that each mode's ``records._export`` gives).

Vectors leave as one float32 (n, d) block, bit-identical to what was stored; properties as
one typed column each, typed by the schema where it declares the property (``integer`` →
int64, ``number`` → float64, ``boolean``, ``string``, ``datetime`` → UTC timestamps (a
stored value without an offset is UTC, as filters read it), ``date`` → dates) and by the values otherwise. A record without a property has a missing value
(Arrow null, pandas NA/NaN/NaT) in its column.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ValidationError
from ..schema import parse_date, parse_datetime
from .columns import require

log = logging.getLogger("eigenlake")


@dataclass
class Exported:
    """The rows an export returns, in the index order: ``uuids``, ``vectors`` ((n, d)
    float32 as stored, or None when not asked for), ``properties`` (one dict per row, or
    None), and ``kinds``: the schema's kind of each declared property (``string``,
    ``integer``, ``number``, ``boolean``, ``datetime``, ``date``, ``array``)."""

    uuids: list[str]
    vectors: np.ndarray | None
    properties: list[dict[str, Any]] | None
    kinds: dict[str, str] = field(default_factory=dict)
    # properties a mode already holds as arrays (embedded: its filter columns), exported
    # from them rather than value by value from the dicts
    columns: dict[str, Typed] = field(default_factory=dict)


@dataclass
class Typed:
    """One property of the exported rows as arrays: ``kind`` (``integer``, ``number``,
    ``boolean`` or ``string``), ``values`` (int64 / float64 / bool; for strings int32 codes
    into ``categories``, an object array of the distinct strings) and ``present`` (False
    where a row lacks the property; its value is then meaningless)."""

    kind: str
    values: np.ndarray
    present: np.ndarray
    categories: np.ndarray | None = None

    def objects(self) -> np.ndarray:
        """The values as an object array, None where absent (strings are the index's own
        objects, not copies)."""
        if self.categories is not None:
            out = (
                self.categories[self.values]
                if len(self.categories)
                else np.empty(len(self.values), dtype=object)
            )
        else:
            out = self.values.astype(object)
        out[~self.present] = None
        return out


def schema_kinds(schema: dict[str, Any] | None) -> dict[str, str]:
    """``{property: kind}`` of a schema's declared properties (see ``Exported.kinds``)."""
    out: dict[str, str] = {}
    for name, frag in ((schema or {}).get("properties") or {}).items():
        if not isinstance(frag, dict):
            continue
        typ = frag.get("type")
        if isinstance(typ, list):  # ["integer", "null"]: the non-null type
            typ = next((t for t in typ if t != "null"), None)
        fmt = frag.get("format")
        if typ == "string" and fmt in ("date-time", "date"):
            out[name] = "datetime" if fmt == "date-time" else "date"
        elif isinstance(typ, str):
            out[name] = typ
    return out


def property_names(exported: Exported, columns: Sequence[str] | None) -> list[str]:
    """The property columns: ``columns`` as asked (each a declared property or one the
    exported records carry), else the declared properties then the others in first-seen
    order."""
    names = dict.fromkeys(exported.kinds)
    rows = exported.properties or ()
    if set().union(*rows) - names.keys():  # one C-level pass; undeclared names are rare
        for props in rows:
            for name in props:
                names.setdefault(name, None)
    if columns is None:
        return list(names)
    if isinstance(columns, str) or not all(isinstance(c, str) for c in columns):
        raise ValidationError("columns must be a list of property names")
    unknown = [c for c in columns if c not in names]
    if unknown:  # a misspelt name would otherwise come back as a column of nulls
        raise ValidationError(
            f"columns: {unknown} are not properties of the index (declared or on the"
            f" exported records); known: {sorted(names)}"
        )
    return list(dict.fromkeys(columns))


def _values(exported: Exported, name: str) -> list[Any]:
    return [p.get(name) for p in exported.properties or ()]


def _parse_times(values: list[Any], kind: str) -> list[Any] | None:
    """ISO strings as UTC datetimes (a missing offset means UTC, as filters read them) or
    dates, None kept; None when some value is not one."""
    parse = parse_datetime if kind == "datetime" else parse_date
    out: list[Any] = []
    for v in values:
        if v is None:
            out.append(None)
            continue
        if not isinstance(v, str):
            return None
        try:
            t = parse(v)
        except (TypeError, ValueError):
            return None
        out.append(t.astimezone(dt.timezone.utc) if isinstance(t, dt.datetime) else t)
    return out


# ---- NumPy ------------------------------------------------------------------------------


def to_numpy(exported: Exported) -> tuple[list[str], np.ndarray]:
    assert exported.vectors is not None  # asked for
    return exported.uuids, exported.vectors


# ---- Arrow ------------------------------------------------------------------------------


def to_arrow(exported: Exported, columns: Sequence[str] | None) -> Any:
    pa = require("pyarrow", 'pip install "eigenlake[arrow]"', "to_arrow()")
    names = property_names(exported, columns)
    arrays: dict[str, Any] = {"uuid": pa.array(exported.uuids, type=pa.string())}
    for name in names:
        if name in ("uuid", "vector"):
            raise ValidationError(f"property {name!r} would clash with the {name} column")
        typed = exported.columns.get(name)
        arrays[name] = (
            _arrow_typed(pa, typed)
            if typed is not None
            else _arrow_column(pa, name, exported.kinds.get(name), _values(exported, name))
        )
    if exported.vectors is not None:
        block = np.ascontiguousarray(exported.vectors, dtype=np.float32)
        flat = pa.array(block.reshape(-1), type=pa.float32())  # no copy: one buffer
        arrays["vector"] = pa.FixedSizeListArray.from_arrays(flat, block.shape[1])
    return pa.table(arrays)


_ARROW_SCALAR = {"integer": "int64", "number": "float64", "boolean": "bool_", "string": "string"}


def _arrow_typed(pa: Any, typed: Typed) -> Any:
    """An Arrow column from arrays: no Python object per value."""
    missing = None if typed.present.all() else ~typed.present
    if typed.categories is None:
        kind = getattr(pa, _ARROW_SCALAR[typed.kind])()
        return pa.array(typed.values, type=kind, mask=missing)
    codes = pa.array(typed.values.astype(np.int32, copy=False), type=pa.int32(), mask=missing)
    return pa.array(typed.categories, type=pa.string()).take(codes)  # null code -> null


def _arrow_column(pa: Any, name: str, kind: str | None, values: list[Any]) -> Any:
    if kind in _ARROW_SCALAR:
        return pa.array(values, type=getattr(pa, _ARROW_SCALAR[kind])())
    if kind in ("datetime", "date"):
        parsed = _parse_times(values, kind)
        if parsed is not None:
            if kind == "date":
                return pa.array(parsed, type=pa.date32())
            return pa.array(parsed, type=pa.timestamp("us", tz="UTC"))
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
        # values of several types (an open schema): each as its JSON text, said once
        log.warning("export: property %r holds values of several types; exported as JSON", name)
        return pa.array([None if v is None else json.dumps(v) for v in values], pa.string())


# ---- pandas -----------------------------------------------------------------------------


def to_pandas(exported: Exported, columns: Sequence[str] | None) -> Any:
    pd = require("pandas", 'pip install "eigenlake[pandas]"', "to_pandas()")
    names = property_names(exported, columns)
    data: dict[str, Any] = {"uuid": pd.Series(exported.uuids, dtype=object)}
    for name in names:
        if name in ("uuid", "vector"):
            raise ValidationError(f"property {name!r} would clash with the {name} column")
        typed = exported.columns.get(name)
        data[name] = (
            _pandas_typed(pd, typed)
            if typed is not None
            else _pandas_column(pd, exported.kinds.get(name), _values(exported, name))
        )
    if exported.vectors is not None:
        # one row view per record into the one block (pandas holds no 2-D cells)
        rows = np.empty(len(exported.uuids), dtype=object)
        rows[:] = list(exported.vectors)
        data["vector"] = rows
    return pd.DataFrame(data)


_PANDAS_DTYPE = {"integer": "Int64", "number": "Float64", "boolean": "boolean"}


def _pandas_typed(pd: Any, typed: Typed) -> Any:
    """A pandas column from arrays, of the dtype ``_pandas_column`` gives the same values."""
    if typed.categories is not None:
        return pd.Series(typed.objects())  # as _pandas_column: pandas picks the string dtype
    if typed.present.all():
        return pd.Series(typed.values.copy())  # int64 / float64 / bool, as without gaps
    values, missing = typed.values.copy(), ~typed.present
    if typed.kind == "integer":
        return pd.Series(pd.arrays.IntegerArray(values, missing))
    if typed.kind == "number":
        return pd.Series(pd.arrays.FloatingArray(values, missing))
    return pd.Series(pd.arrays.BooleanArray(values, missing))


def _pandas_column(pd: Any, kind: str | None, values: list[Any]) -> Any:
    missing = any(v is None for v in values)
    if kind in _PANDAS_DTYPE:
        if not missing:  # plain NumPy dtypes when nothing is missing
            return pd.Series(
                values,
                dtype={"Int64": "int64", "Float64": "float64"}.get(_PANDAS_DTYPE[kind], "bool"),
            )
        return pd.Series(values, dtype=_PANDAS_DTYPE[kind])
    if kind in ("datetime", "date"):
        parsed = _parse_times(values, kind)
        if parsed is not None and kind == "datetime":
            return pd.Series(pd.to_datetime(parsed))
        if parsed is not None:
            return pd.Series(parsed, dtype=object)
    out = np.empty(len(values), dtype=object)
    # the frame's own lists and dicts: a change to a cell never reaches the index's rows
    out[:] = [copy.deepcopy(v) if isinstance(v, (list, dict)) else v for v in values]
    return pd.Series(out)


# ---- the generic way to gather the rows -------------------------------------------------


def export_by_pages(
    records: Any,
    filter: Any,
    limit: int | None,
    with_vector: bool,
    with_properties: bool,
    dimensions: int,
) -> Exported:
    """The rows through ``records.list`` cursor pages (what a mode without a faster way
    uses: over HTTP the pages are requests). Vectors go into one block as they arrive."""
    page = 2_000 if with_vector else 10_000
    uuids: list[str] = []
    blocks: list[np.ndarray] = []
    props: list[dict[str, Any]] = []
    after = None
    while limit is None or len(uuids) < limit:
        want = page if limit is None else min(page, limit - len(uuids))
        got = records.list(
            filter=filter,
            limit=want,
            after=after,
            with_vector=with_vector,
            with_properties=with_properties,
        )
        objects = got["objects"]
        uuids += [o["uuid"] for o in objects]
        if with_vector:
            block = np.asarray([o["vector"] for o in objects], dtype=np.float32)
            blocks.append(block.reshape(len(objects), dimensions))
        if with_properties:
            props += [o.get("metadata") or {} for o in objects]
        after = got.get("next_after")
        if after is None:
            break
    vectors = None
    if with_vector:
        vectors = np.concatenate(blocks) if blocks else np.empty((0, dimensions), np.float32)
    return Exported(uuids, vectors, props if with_properties else None)
