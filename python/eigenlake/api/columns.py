"""Tabular input of ``records.add_many``, converted once for every mode.

``data`` may be a pandas ``DataFrame``, a pyarrow ``Table`` / ``RecordBatch`` (or anything
with the Arrow stream interface, ``__arrow_c_stream__``), or a dict of equal-length columns
(lists, tuples, NumPy arrays, pandas Series, Arrow arrays). ``to_columns`` turns it into a
small :class:`Columns` value: the ids (or None), the vectors as one float32 ``(n, d)``
matrix when they are plain numbers of one length (else the per-row items, which the mode
checks row by row to name the bad one), and the property columns, each a NumPy array with a
mask of missing values. Missing (None, NaN, ``pd.NA``, ``NaT``, Arrow nulls) means the
record lacks the property. Nothing schema-specific happens here: each mode validates the
columns (``Records._add_columns``; the default turns them back into record dicts).

pandas and pyarrow are optional: nothing here imports them unless the data is theirs (or an
Arrow stream needs pyarrow to be read), and a missing one is named with the extra to install.
"""

from __future__ import annotations

import datetime as _dt
import math
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

import numpy as np

from ..errors import ValidationError
from ..schema import describe_value

PANDAS_HINT = 'pip install "eigenlake[pandas]"'
ARROW_HINT = 'pip install "eigenlake[arrow]"'

# the kind a column's values have, as far as the data says (the schema decides the rest)
INTEGER, NUMBER, BOOLEAN, STRING, DATETIME, DATE = (
    "integer",
    "number",
    "boolean",
    "string",
    "datetime",
    "date",
)


@dataclass
class PropertyColumn:
    """One property: ``values`` (int64/uint64/float64/bool, or object) and ``missing``
    (a bool mask; None when no row lacks it). ``kind``: what every present value is
    (``INTEGER`` … ``DATE``), or None for mixed or other values (objects, checked one by
    one). Typed arrays hold a placeholder where missing."""

    name: str
    values: np.ndarray
    missing: np.ndarray | None
    kind: str | None

    def python(self) -> list[Any]:
        """The values as Python objects (NumPy scalars as Python ones; missing -> None)."""
        vals = self.values.tolist() if self.values.dtype != object else list(self.values)
        if self.missing is not None:
            for i in np.flatnonzero(self.missing).tolist():
                vals[i] = None
        return vals


@dataclass
class Columns:
    """A table of records: ``n`` rows; ``ids`` (None: no id column; a None item: that row
    has none); ``vectors`` an (n, d) float32 matrix, or None with ``vector_items`` the rows'
    vectors as given (None where missing); the property columns in the data's order."""

    n: int
    ids: list[Any] | None
    vectors: np.ndarray | None
    vector_items: list[Any] | None
    properties: list[PropertyColumn] = field(default_factory=list)
    # set when data has no vector column (every row then lacks one): the message an index
    # without an embedder refuses the table with (api.embedding.embed_columns)
    absent_vectors: str | None = None

    def vector(self, i: int) -> Any:
        if self.vectors is not None:
            return self.vectors[i]
        assert self.vector_items is not None
        return self.vector_items[i]

    def to_records(self) -> list[dict[str, Any]]:
        """The rows as ``add_many`` record dicts (missing properties left out)."""
        names = [c.name for c in self.properties]
        cols = [c.python() for c in self.properties]
        gaps = [c.missing for c in self.properties]
        out: list[dict[str, Any]] = []
        for i in range(self.n):
            if any(m is not None for m in gaps):
                props = {
                    k: col[i]
                    for k, col, m in zip(names, cols, gaps, strict=True)
                    if m is None or not m[i]
                }
            else:
                props = {k: col[i] for k, col in zip(names, cols, strict=True)}
            rec: dict[str, Any] = {"properties": props, "vector": self.vector(i)}
            if self.ids is not None and self.ids[i] is not None:
                rec["id"] = self.ids[i]
            out.append(rec)
        return out


def is_tabular(data: Any) -> bool:
    """Whether ``add_many`` takes ``data`` as a table (not as an iterable of records)."""
    if isinstance(data, dict):
        return not _one_record(data)
    kind = _library_kind(data)
    return kind is not None


def _one_record(data: dict[Any, Any]) -> bool:
    """A record dict passed where a list of them belongs (not a dict of columns): its keys
    are a record's, and its properties are a dict or its vector is one row of numbers."""
    if not data or not set(data) <= {"properties", "vector", "id", "uuid"}:
        return False
    if isinstance(data.get("properties"), dict):
        return True
    vec = data.get("vector")
    if isinstance(vec, np.ndarray):
        return vec.ndim == 1
    return (
        isinstance(vec, (list, tuple))
        and bool(vec)
        and not isinstance(vec[0], (list, tuple, np.ndarray))
    )


def _library_kind(data: Any) -> str | None:
    module = type(data).__module__ or ""
    name = type(data).__name__
    if module.startswith("pandas") and name == "DataFrame":
        return "pandas"
    if module.startswith("pyarrow") and name in ("Table", "RecordBatch"):
        return "arrow"
    if hasattr(data, "__arrow_c_stream__") and not isinstance(data, (list, tuple)):
        return "stream"
    return None


def to_columns(
    data: Any,
    *,
    vectors: Any = None,
    vector_column: str = "vector",
    id_column: str | None = None,
) -> Columns:
    """``data`` (see the module docstring) as :class:`Columns`; ``ValidationError`` naming
    the column for data that cannot be read as one."""
    if not isinstance(vector_column, str):
        raise ValidationError(
            f"vector_column must be a column name (str), got {describe_value(vector_column)}"
        )
    if id_column is not None and not isinstance(id_column, str):
        raise ValidationError(
            f"id_column must be a column name (str) or None, got {describe_value(id_column)}"
        )
    kind = _library_kind(data)
    raw: dict[str, Callable[[], tuple[np.ndarray, np.ndarray | None, str | None]]]
    if kind == "stream":
        pa = require("pyarrow", ARROW_HINT, "reading an Arrow stream")
        data = pa.table(data)
        kind = "arrow"
    if kind == "pandas":
        names = _names(list(data.columns), "DataFrame")
        n = len(data)
        series = {name: data[name] for name in names}
        raw = {name: _bind(_from_series, s) for name, s in series.items()}
        vec_source: Any = series.get(vector_column)
        id_source: Any = series.get(id_column) if id_column is not None else None
    elif kind == "arrow":
        names = _names(list(data.schema.names), type(data).__name__)
        n = data.num_rows
        arrays = {name: data.column(i) for i, name in enumerate(names)}
        raw = {name: _bind(_from_arrow, a) for name, a in arrays.items()}
        vec_source = arrays.get(vector_column)
        id_source = arrays.get(id_column) if id_column is not None else None
    elif isinstance(data, dict):
        names = _names(list(data), "dict of columns")
        lengths = {}
        for name in names:
            lengths[name] = _length(name, data[name])
        n = _equal_lengths(lengths)
        raw = {name: _bind(_from_values, data[name]) for name in names}
        vec_source = data.get(vector_column)
        id_source = data.get(id_column) if id_column is not None else None
    else:
        raise ValidationError(
            "data must be a list of record dicts, a pandas DataFrame, a pyarrow Table or"
            f" RecordBatch, or a dict of columns; got {type(data).__name__}"
        )
    if id_column is not None and id_column not in raw:
        raise ValidationError(
            f"id_column {id_column!r} is not a column of data (columns: {_listed(names)})"
        )
    absent: str | None = None
    if vectors is not None:
        if vector_column in raw:
            raise ValidationError(
                f"vectors= was given and data also has a column {vector_column!r}: pass the"
                " vectors one way (or name the column's property otherwise)"
            )
        matrix, items = _given_vectors(vectors, n)
    elif vec_source is None:
        # no vectors at all: an index with an embedder makes them; any other refuses this
        absent = (
            f"data has no vector column {vector_column!r} (columns: {_listed(names)}); name it"
            " with vector_column= or pass vectors= (a 2-D array, one row per record)"
        )
        matrix, items = None, [None] * n
    else:
        matrix, items = _vector_column(vec_source, vector_column)
    ids = None
    if id_source is not None:
        values, missing, _ = raw[id_column]()  # type: ignore[index]
        ids = PropertyColumn(str(id_column), values, missing, None).python()
    props = []
    for name in names:
        if name in (vector_column, id_column):
            continue
        values, missing, hint = raw[name]()
        if len(values) != n:  # a source that misreports its length
            raise ValidationError(f"column {name!r} has {len(values)} values, data has {n} rows")
        props.append(PropertyColumn(name, values, missing, hint))
    return Columns(n, ids, matrix, items, props, absent)


def require(module: str, hint: str, purpose: str) -> Any:
    """Import an optional dependency, or raise ``ImportError`` naming the extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(f"{purpose} needs {module}: {hint}") from None


def _bind(
    f: Callable[[Any], tuple[np.ndarray, np.ndarray | None, str | None]], source: Any
) -> Callable[[], tuple[np.ndarray, np.ndarray | None, str | None]]:
    return lambda: f(source)


def _names(names: list[Any], what: str) -> list[str]:
    for name in names:
        if not isinstance(name, str):
            raise ValidationError(
                f"{what}: column names must be strings (they name properties), got"
                f" {type(name).__name__} {describe_value(name)}"
            )
    if len(set(names)) != len(names):
        dup = sorted({x for x in names if names.count(x) > 1})
        raise ValidationError(f"{what}: column name(s) {_listed(dup)} appear more than once")
    return names


def _listed(names: Iterable[str]) -> str:
    shown = [repr(x) for x in names]
    return ", ".join(shown[:10]) + (", ..." if len(shown) > 10 else "") if shown else "none"


def _length(name: str, values: Any) -> int:
    if isinstance(values, np.ndarray):
        if values.ndim == 0:
            raise ValidationError(
                f"column {name!r}: expected a list or array of values, got a 0-d array"
            )
        return int(values.shape[0])
    if isinstance(values, (str, bytes, dict)) or not hasattr(values, "__len__"):
        raise ValidationError(
            f"column {name!r}: a dict of columns needs a list or array of values per column,"
            f" got {type(values).__name__} {describe_value(values)}"
        )
    return len(values)


def _equal_lengths(lengths: dict[str, int]) -> int:
    if not lengths:
        return 0
    first = next(iter(lengths))
    for name, k in lengths.items():
        if k != lengths[first]:
            raise ValidationError(
                f"columns must have equal lengths: column {first!r} has {lengths[first]}"
                f" values, column {name!r} has {k}"
            )
    return lengths[first]


# ---- vectors ---------------------------------------------------------------------------


def _given_vectors(vectors: Any, n: int) -> tuple[np.ndarray | None, list[Any] | None]:
    """``vectors=``: a 2-D array (or a list of rows) aligned with the rows of data."""
    if _library_kind(vectors) is not None or isinstance(vectors, (str, bytes, dict)):
        raise ValidationError(
            f"vectors must be a 2-D array (one row per record), got {type(vectors).__name__}"
        )
    arr = vectors if isinstance(vectors, np.ndarray) else None
    if arr is not None:
        if arr.ndim != 2:
            raise ValidationError(
                f"vectors must be a 2-D array (one row per record), got an array of shape {arr.shape}"
            )
        if arr.shape[0] != n:
            raise ValidationError(f"vectors has {arr.shape[0]} rows, data has {n}")
        if arr.dtype.kind in "fiu":
            return _float32(arr), None
        return None, list(arr)
    try:
        items = list(vectors)
    except TypeError:
        raise ValidationError(
            f"vectors must be a 2-D array (one row per record), got {type(vectors).__name__}"
        ) from None
    if len(items) != n:
        raise ValidationError(f"vectors has {len(items)} rows, data has {n}")
    return _stacked(items)


def _vector_column(source: Any, name: str) -> tuple[np.ndarray | None, list[Any] | None]:
    module = type(source).__module__ or ""
    if module.startswith("pyarrow"):
        return _arrow_vectors(source)
    if module.startswith("pandas"):
        items = list(source.to_numpy(dtype=object))
    elif isinstance(source, np.ndarray) and source.ndim == 2:
        if source.dtype.kind in "fiu":
            return _float32(source), None
        items = list(source)
    else:
        items = list(source)
    return _stacked(items)


def _float32(arr: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):  # overflow -> inf, refused later
        return np.ascontiguousarray(arr, dtype=np.float32)


def _stacked(items: list[Any]) -> tuple[np.ndarray | None, list[Any] | None]:
    """One matrix when every row is a 1-D numeric array of one length (one C-level
    concatenation), else the items as given (the mode checks each, naming a bad row)."""
    n = len(items)
    if n and set(map(type, items)) == {np.ndarray}:
        dtypes = set(map(attrgetter("dtype"), items))
        if all(dt.kind in "fiu" for dt in dtypes) and set(map(np.ndim, items)) == {1}:
            lengths = np.fromiter(map(len, items), dtype=np.int64, count=n)
            width = int(lengths[0])
            if width > 0 and bool((lengths == width).all()):
                flat = np.concatenate(items)
                return _float32(flat.reshape(n, width)), None
    return None, [None if _missing_scalar(v) else v for v in items]


def _arrow_vectors(col: Any) -> tuple[np.ndarray | None, list[Any] | None]:
    import pyarrow as pa

    if isinstance(col, pa.ChunkedArray):
        # one chunk (a table read or built whole) is used as it is: combining copies
        col = col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()
    t = col.type
    if (
        col.null_count == 0
        and (pa.types.is_fixed_size_list(t) or pa.types.is_list(t) or pa.types.is_large_list(t))
        and (pa.types.is_floating(t.value_type) or pa.types.is_integer(t.value_type))
    ):
        flat = col.flatten()
        if flat.null_count == 0 and len(col):
            if pa.types.is_fixed_size_list(t):
                width = t.list_size
            else:
                import pyarrow.compute as pc

                lengths = pc.list_value_length(col).to_numpy(zero_copy_only=False)
                width = int(lengths[0])
                if not bool((lengths == width).all()):
                    width = -1
            if width > 0 and len(flat) == width * len(col):
                values = flat.to_numpy(zero_copy_only=False)
                return _float32(values.reshape(len(col), width)), None
    items = col.to_pylist()
    return None, items


# ---- properties ------------------------------------------------------------------------


def _missing_scalar(v: Any) -> bool:
    """None, a float NaN, ``pd.NA``, ``NaT`` (NumPy's or pandas')."""
    if v is None:
        return True
    t = type(v)
    if t is float or isinstance(v, (float, np.floating)):
        return math.isnan(v)
    if t.__name__ in ("NAType", "NaTType"):
        return True
    return isinstance(v, np.datetime64) and bool(np.isnat(v))


_INT_TYPES = (int, np.integer)
_FLOAT_TYPES = (float, np.floating)


_NONE = type(None)


def _tighten(
    values: np.ndarray, missing: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray | None, str | None]:
    """An object column: missing values found (unless given); typed (int64 / float64 /
    bool) when every present value is a number of one kind or a bool, else left as objects
    with the kind every value shares (string, datetime, date) or None."""
    n = len(values)
    if missing is None:
        seen = set(map(type, values))
        if seen <= {str, int, bool, _NONE}:  # only None can be missing: one C-level compare
            missing = (values == None) if _NONE in seen else np.zeros(n, dtype=bool)  # noqa: E711
        else:
            missing = np.fromiter(map(_missing_scalar, values), dtype=bool, count=n)
    present = values[~missing] if missing.any() else values
    types = set(map(type, present))
    mask = missing if missing.any() else None
    if not types:
        return values, mask, None
    if types == {str}:
        return values, mask, STRING
    if all(issubclass(t, (bool, np.bool_)) for t in types):
        return _typed(values, mask, bool, False), mask, BOOLEAN
    if all(issubclass(t, _INT_TYPES) and not issubclass(t, (bool, np.bool_)) for t in types):
        try:
            return _typed(values, mask, np.int64, 0), mask, INTEGER
        except OverflowError:
            return values, mask, INTEGER  # beyond int64: the mode refuses it, by row
    if all(issubclass(t, _FLOAT_TYPES) for t in types):
        return _typed(values, mask, np.float64, 0.0), mask, NUMBER
    if all(issubclass(t, _dt.datetime) for t in types):
        return values, mask, DATETIME
    if all(issubclass(t, _dt.date) and not issubclass(t, _dt.datetime) for t in types):
        return values, mask, DATE
    return values, mask, None


def _typed(values: np.ndarray, mask: np.ndarray | None, dtype: Any, fill: Any) -> np.ndarray:
    if mask is None:
        return np.array(values.tolist(), dtype=dtype)
    filled = values.copy()
    filled[mask] = fill
    return np.array(filled.tolist(), dtype=dtype)


def _objects(items: Any, n: int) -> np.ndarray:
    return np.fromiter(items, dtype=object, count=n)


def _from_values(values: Any) -> tuple[np.ndarray, np.ndarray | None, str | None]:
    """A column of a dict of columns."""
    module = type(values).__module__ or ""
    if module.startswith("pandas"):
        return _from_series(values)
    if module.startswith("pyarrow"):
        return _from_arrow(values)
    if isinstance(values, np.ndarray):
        if values.ndim == 1:
            return _from_numpy(values)
        return _tighten(_objects(iter(values), len(values)))  # rows of a 2-D array: arrays
    return _tighten(_objects(iter(values), len(values)))


def _from_numpy(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, str | None]:
    kind = arr.dtype.kind
    if kind in "iu":
        return arr, None, INTEGER
    if kind == "f":
        arr = arr.astype(np.float64, copy=False)
        nan = np.isnan(arr)
        return arr, (nan if nan.any() else None), NUMBER
    if kind == "b":
        return arr, None, BOOLEAN
    if kind == "M":
        nat = np.isnat(arr)
        objs = _objects(iter(arr.astype("datetime64[us]").tolist()), len(arr))
        if nat.any():
            objs[nat] = None
        return objs, (nat if nat.any() else None), DATETIME
    if kind in "US":
        return _tighten(_objects(iter(arr.tolist()), len(arr)))
    return _tighten(arr.astype(object) if arr.dtype != object else arr)


def _from_series(s: Any) -> tuple[np.ndarray, np.ndarray | None, str | None]:
    """A pandas Series (any dtype, nullable and Arrow-backed ones included)."""
    import pandas as pd

    dtype = s.dtype
    n = len(s)
    if isinstance(dtype, np.dtype) and dtype.kind in "iufb":
        return _from_numpy(s.to_numpy())
    if isinstance(dtype, pd.CategoricalDtype):
        objs = _objects(iter(s.astype(object).tolist()), n)
        return _tighten(objs, s.isna().to_numpy(dtype=bool))
    kind = getattr(dtype, "kind", "O")
    isna = s.isna().to_numpy(dtype=bool)
    mask = isna if isna.any() else None
    if kind in "iu":
        target = np.uint64 if kind == "u" else np.int64
        return s.to_numpy(dtype=target, na_value=0), mask, INTEGER
    if kind == "f":
        vals = s.to_numpy(dtype=np.float64, na_value=np.nan)
        nan = np.isnan(vals)
        return vals, (nan if nan.any() else None), NUMBER
    if kind == "b":
        return s.to_numpy(dtype=bool, na_value=False), mask, BOOLEAN
    if kind == "M":  # naive or tz-aware: Timestamps, stored as the dict path stores them
        objs = _objects(iter(s.astype(object).tolist()), n)
        if mask is not None:
            objs[mask] = None
        return objs, mask, DATETIME
    objs = _objects(iter(s.to_numpy(dtype=object)), n)
    return _tighten(objs, isna)


def _from_arrow(col: Any) -> tuple[np.ndarray, np.ndarray | None, str | None]:
    """A pyarrow Array or ChunkedArray."""
    import pyarrow as pa

    if isinstance(col, pa.ChunkedArray):
        # one chunk (a table read or built whole) is used as it is: combining copies
        col = col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()
    t = col.type
    if pa.types.is_dictionary(t):
        col = col.dictionary_decode()
        t = col.type
    n = len(col)
    nulls = col.null_count
    mask = col.is_null().to_numpy(zero_copy_only=False) if nulls else None
    if pa.types.is_integer(t):
        vals = (col.fill_null(0) if nulls else col).to_numpy(zero_copy_only=False)
        return vals, mask, INTEGER
    if pa.types.is_floating(t):
        vals = col.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
        nan = np.isnan(vals)
        return vals, (nan if nan.any() else None), NUMBER
    if pa.types.is_boolean(t):
        vals = (col.fill_null(False) if nulls else col).to_numpy(zero_copy_only=False)
        return vals, mask, BOOLEAN
    if pa.types.is_string(t) or pa.types.is_large_string(t) or _is_string_view(pa, t):
        return _objects(iter(col.to_pylist()), n), mask, STRING
    if pa.types.is_timestamp(t):
        return _objects(iter(col.to_pylist()), n), mask, DATETIME
    if pa.types.is_date(t):
        return _objects(iter(col.to_pylist()), n), mask, DATE
    if pa.types.is_null(t):
        return _objects(iter([None] * n), n), np.ones(n, dtype=bool), None
    return _tighten(_objects(iter(col.to_pylist()), n))


def _is_string_view(pa: Any, t: Any) -> bool:
    check = getattr(pa.types, "is_string_view", None)
    return bool(check(t)) if check is not None else False


@contextmanager
def progress_bar(progress: bool | None, total: int) -> Iterator[Callable[[int], None]]:
    """A tqdm bar on stderr for ``add_many`` (``progress`` None: only when stderr is a
    terminal); yields the function that advances it."""
    show = sys.stderr.isatty() if progress is None else progress
    if not show:
        yield lambda k: None
        return
    tqdm = require("tqdm", "pip install tqdm", "progress=True").tqdm
    with tqdm(total=total, unit="rec", file=sys.stderr, desc="add_many") as bar:
        yield bar.update
