"""In-memory columnar cache of one index, rebuilt from SQLite on open.

Rows are appended; a delete tombstones its row (``alive``), a vector update appends a new
row and tombstones the old one. Row ids are what the Rust kernels see. Vectors are unit
length for cosine indexes. One column per filterable property, with a presence mask.
Record ids are 16 raw bytes a row (``ids``) and live ids map to their rows in the core
(``_core.IdMap``): no str or dict entry per record; texts are made when an answer needs them.
Properties are the rows' JSON texts in one buffer (``PropStore``): dicts are made only for
the rows an answer hands out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import filterfalse
from typing import Any, Protocol

import numpy as np

from .. import _core
from ..api.export import Typed
from ..filters import column_value
from ..vectors import normalise_in_place
from .huge_pages import rows_matrix
from .kept_rows import KeptMemo
from .prop_store import PropStore
from .row_codes import RowCodes
from .validate import PropSpec


class RowTexts(Protocol):
    """Rows' JSON texts back to back (``store.RowTexts``): row ``i`` is
    ``text[ends[i]:ends[i + 1]]``."""

    text: str
    ends: np.ndarray


# rows' property texts: one str each, or back to back
Texts = list[str] | RowTexts

_DTYPES: dict[str, Any] = {
    "integer": np.int64,
    "number": np.float64,
    "boolean": np.bool_,
    "datetime": np.int64,
    "date": np.int64,
    "string": object,
    "array": object,
}
_FILL: dict[str, Any] = {"string": "", "array": ()}
# kinds whose column holds exactly the stored values (exports read them as arrays)
_EXPORTED = frozenset({"integer", "number", "boolean", "string"})


def _full(shape: tuple[int, ...], fill: Any, dtype: Any) -> np.ndarray:
    out = np.empty(shape, dtype=dtype)
    if fill is not None:  # None: rows past ``n`` are never read, skip touching the memory
        out.fill(fill)  # fill() stores a tuple as one object; np.full would broadcast it
    return out


def _grow(arr: np.ndarray, cap: int, fill: Any = 0) -> np.ndarray:
    out = _full((cap, *arr.shape[1:]), fill, arr.dtype)
    out[: len(arr)] = arr
    return out


# The values a typed column takes as they are, by kind; anything else (a free-form dict or list stored
# under a name a later write typed) goes through ``column_value`` and, if it does not fit,
# counts as missing — never an error after the transaction committed.
_FITS: dict[str, frozenset[type]] = {
    "string": frozenset({str, type(None)}),
    "integer": frozenset({int, type(None)}),
    "number": frozenset({int, float, type(None)}),
    "boolean": frozenset({bool, type(None)}),
}


def _fits(kind: str, value: Any) -> bool:
    """Whether a typed column (string/integer/number/boolean) can hold ``value`` (subclasses
    such as NumPy's str count; a bool is no integer or number, as the schema checks it)."""
    if value is None:
        return True
    if isinstance(value, bool):
        return kind == "boolean"
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int)
    return kind == "number" and isinstance(value, (int, float))


class Column:
    """Values of one property (fill where absent) and a presence mask."""

    def __init__(self, kind: str, cap: int) -> None:
        self.kind = kind
        self.fill = _FILL.get(kind, 0)
        self.values = _full((cap,), self.fill, _DTYPES[kind])
        self.present = np.zeros(cap, dtype=bool)

    def resize(self, cap: int) -> None:
        self.values = _grow(self.values, cap, self.fill)
        self.present = _grow(self.present, cap, False)

    def write(self, start: int, raw: list[Any]) -> None:
        """Column values for rows ``start..start+len(raw)`` from stored property values."""
        kind, fill = self.kind, self.fill
        fits = _FITS.get(kind)
        pres: Any
        if fits is not None and set(map(type, raw)) <= fits:  # C-level checks first
            if raw.count(None) == 0:
                vals, pres = raw, True
            else:
                pres = [v is not None for v in raw]
                vals = [fill if v is None else v for v in raw]
        else:
            vals, pres = [], []
            for v in raw:
                try:
                    cv = column_value(kind, v)
                except (TypeError, ValueError):
                    cv = None  # stored before the property was typed: treat as missing
                if fits is not None and not _fits(kind, cv):
                    cv = None  # e.g. a free-form dict under a name typed integer later
                pres.append(cv is not None)
                vals.append(fill if cv is None else cv)
        end = start + len(raw)
        if self.values.dtype == object:
            tmp = np.empty(len(vals), dtype=object)
            tmp[:] = vals
            self.values[start:end] = tmp
        else:
            self.values[start:end] = np.asarray(vals, dtype=self.values.dtype)
        self.present[start:end] = pres


class StringColumn(Column):
    """Strings as categorical codes: ``values`` holds int32 codes into ``categories``, so
    equality and membership filters compare integers, and ordered or substring filters
    test each distinct string once."""

    def __init__(self, cap: int) -> None:
        self.kind = "string"
        self.fill = 0
        self.values = np.zeros(cap, dtype=np.int32)
        self.present = np.zeros(cap, dtype=bool)
        self.lookup: dict[str, int] = {}
        self._cats: np.ndarray | None = None

    def write(self, start: int, raw: list[Any]) -> None:
        lookup = self.lookup
        end = start + len(raw)
        if set(map(type, raw)) <= {str}:  # all strings: C-level passes, codes as below
            new = list(filterfalse(lookup.__contains__, dict.fromkeys(raw)))
            if new:
                lookup.update(zip(new, range(len(lookup), len(lookup) + len(new)), strict=True))
                self._cats = None
            self.values[start:end] = np.fromiter(
                map(lookup.__getitem__, raw), dtype=np.int32, count=len(raw)
            )
            self.present[start:end] = True
            return
        before = len(lookup)
        pres = [type(v) is str for v in raw]
        codes = [
            lookup.setdefault(v, len(lookup)) if ok else 0 for v, ok in zip(raw, pres, strict=True)
        ]
        if len(lookup) != before:
            self._cats = None
        end = start + len(raw)
        self.values[start:end] = codes
        self.present[start:end] = pres

    def categories(self) -> np.ndarray:
        if self._cats is None:
            cats = np.empty(len(self.lookup), dtype=object)
            cats[:] = list(self.lookup)  # dict order = code order
            self._cats = cats
        return self._cats

    def decode(self, codes: np.ndarray, present: np.ndarray) -> tuple[list[str | None], np.ndarray]:
        """(the strings of ``codes``, None where not ``present``; ``present``), e.g. codes
        and presence copied earlier (``Cache.gather``). Call it under the index lock: the
        categories change with writes."""
        cats = self.categories()
        if not len(cats):
            return [None] * len(codes), present
        values = cats[codes]
        if not present.all():
            values[~present] = None
        return values.tolist(), present


class Cache:
    def __init__(self, dimensions: int, cosine: bool, specs: dict[str, PropSpec]) -> None:
        # the rows of the filters searches used lately, valid until the next change
        self.kept_memo = KeptMemo()
        # int8 codes of the rows for exact scans, made on the first one that pays
        self.codes = RowCodes()
        self.dim = dimensions
        self.cosine = cosine
        self.n = 0
        cap = 1024
        self.vectors = np.zeros((cap, dimensions), dtype=np.float32)
        self.alive = np.zeros(cap, dtype=bool)
        self.seq = np.zeros(cap, dtype=np.int64)
        # each row's uuid as its 16 bytes (dead rows keep theirs; placeholders hold zeros)
        self.ids = np.zeros((cap, 16), dtype=np.uint8)
        # each row's properties as JSON text, so reads answer from memory (SQLite is read
        # only for vectors)
        self.props = PropStore()
        # live uuid -> its row
        self._id_map = _core.IdMap()
        self.columns: dict[str, Column] = {}
        for spec in specs.values():
            self.add_column(spec)
        # called with the cache after rows are added: the graph state that follows this
        # cache (``ann.AnnState.rows_added``) starts indexing them in the background
        self.on_rows_added: Callable[[Cache], None] | None = None

    def _changed(self) -> None:
        """Rows, liveness or property values changed: every remembered filter may keep
        other rows now. Every method that changes them calls this first."""
        self.kept_memo.clear()

    @property
    def capacity(self) -> int:
        return len(self.alive)

    @property
    def live_count(self) -> int:
        return len(self._id_map)

    def row(self, uuid: str) -> int | None:
        """The live row of record ``uuid`` (canonical text), None if it has none."""
        row = self._id_map.get(uuid)
        return None if row < 0 else row

    def rows(self, uuids: list[str]) -> np.ndarray:
        """``row`` of each uuid as an int64 array, -1 where the record has no live row."""
        return self._id_map.get_many(uuids)

    def uuid(self, row: int) -> str:
        h = self.ids[row].tobytes().hex()  # cheaper than a core call for one row
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def uuid_texts(self, rows: np.ndarray | list[int]) -> list[str]:
        """The uuids of ``rows``: a few one by one, more in one core call."""
        if len(rows) <= 2:
            return [self.uuid(r) for r in rows]
        return _core.uuid_texts(self.ids[np.asarray(rows, dtype=np.intp)])

    def add_column(self, spec: PropSpec) -> None:
        self._changed()
        if spec.filterable and spec.name not in self.columns:
            cap = self.capacity
            col = StringColumn(cap) if spec.kind == "string" else Column(spec.kind, cap)
            self.columns[spec.name] = col

    def column(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        col = self.columns[name]
        present = col.present[: self.n]
        if isinstance(col, StringColumn):
            values = col.categories()[col.values[: self.n]] if col.lookup else None
            if values is None:
                values = np.full(self.n, "", dtype=object)
            return np.where(present, values, ""), present
        return col.values[: self.n], present

    def present(self, name: str) -> np.ndarray:
        return self.columns[name].present[: self.n]

    def categorical(self, name: str) -> tuple[np.ndarray, np.ndarray, dict[str, int]] | None:
        """(codes, categories, lookup) of a string column; None for other kinds."""
        col = self.columns[name]
        if not isinstance(col, StringColumn):
            return None
        return col.values[: self.n], col.categories(), col.lookup

    def reserve(self, extra: int) -> None:
        """Make room for ``extra`` more rows at once (avoids growth copies on load)."""
        self._reserve(extra)

    def _reserve(self, extra: int) -> None:
        need = self.n + extra
        if need <= self.capacity:
            return
        # grow by 25% (not 2x) to keep peak memory near the data size
        cap = max(need, int(self.capacity * 1.25) + 1024)
        vectors = rows_matrix(cap, self.dim)
        # the whole old room, as before: a scratch batch past n survives the growth
        vectors[: len(self.vectors)] = self.vectors
        self.vectors = vectors
        self.alive = _grow(self.alive, cap, False)
        self.seq = _grow(self.seq, cap, None)
        self.ids = _grow(self.ids, cap, None)
        for col in self.columns.values():
            col.resize(cap)

    def append(
        self,
        uuids: list[str],
        seqs: list[int],
        matrix: np.ndarray,
        props: list[dict[str, Any]] | None,
        alive: list[bool] | None = None,
        texts: Texts | None = None,
    ) -> None:
        """Add rows (``matrix`` holds the raw vectors; normalised here for cosine).

        ``alive=False`` rows are placeholders of deleted records that keep row ids aligned
        with a persisted HNSW graph. ``props``: the rows' property dicts (None: only
        ``texts``, e.g. read from the store); ``texts``: their JSON texts as the store
        holds them (None: encoded here).
        """
        k = len(uuids)
        if k == 0:
            return
        self._reserve(k)
        self.vectors[self.n : self.n + k] = matrix
        self._adopt(uuids, seqs, props, alive, texts)

    def scratch(self, k: int) -> np.ndarray:
        """Room for ``k`` rows past the used ones, to stack a batch in place (no copy).
        Invisible until ``commit_scratch``; the next append overwrites it."""
        self._reserve(k)
        return self.vectors[self.n : self.n + k]

    def commit_scratch(
        self,
        positions: list[int],
        uuids: list[str],
        seqs: list[int],
        props: list[dict[str, Any]],
        texts: Texts | None = None,
    ) -> None:
        """Adopt the scratch rows at ``positions`` (ascending) as new rows (``props``,
        ``texts`` as ``append`` takes them)."""
        k = len(positions)
        if k == 0:
            return
        block = self.vectors[self.n :]
        if positions != list(range(k)):
            block[:k] = block[positions]  # compact the kept rows to the front
        self._adopt(uuids, seqs, props, None, texts)

    def _adopt(
        self,
        uuids: list[str],
        seqs: list[int],
        props: list[dict[str, Any]] | None,
        alive: list[bool] | None,
        texts: Texts | None = None,
    ) -> None:
        """Row metadata and columns for vectors already written at ``n..n+k``."""
        self._changed()
        k = len(uuids)
        start, end = self.n, self.n + k
        if self.cosine:
            normalise_in_place(self.vectors[start:end])
        self.alive[start:end] = True if alive is None else alive
        self.seq[start:end] = seqs
        self._add_ids(uuids, start, alive)
        self._add_texts(props, texts)
        if props is not None:
            for name, col in self.columns.items():
                col.write(start, [p.get(name) for p in props])
        elif self.columns:  # only texts: the columns' values read from them, nothing else
            names = list(self.columns)
            for name, raw in zip(names, self.props.values(names, start, end), strict=True):
                self.columns[name].write(start, raw)
        self.n = end
        if self.on_rows_added is not None:
            self.on_rows_added(self)

    def _add_texts(self, props: list[dict[str, Any]] | None, texts: Texts | None) -> None:
        if texts is None:
            if props is None:
                raise AssertionError("rows come with their properties or their texts")
            self.props.append(props)
        elif isinstance(texts, list):
            self.props.append([], texts)
        else:
            self.props.append_joined(texts.text, texts.ends)

    def _add_ids(self, uuids: list[str], start: int, alive: list[bool] | None) -> None:
        """Rows ``start..`` hold ``uuids``; the live ones map to their rows (a later row of
        a uuid replaces an earlier one, as the dict this replaces did). Placeholders (not
        ``alive``) have no uuid (""): zeros."""
        end = start + len(uuids)
        if alive is not None and not all(alive):
            uuids = [u if a else _NIL for u, a in zip(uuids, alive, strict=True)]
        raw = _core.parse_uuids(uuids)
        self.ids[start:end] = raw
        rows = np.arange(start, end, dtype=np.int64)
        if alive is None:
            self._id_map.insert_many(raw, rows)
        else:
            keep = np.asarray(alive, dtype=bool)
            self._id_map.insert_many(raw[keep], rows[keep])

    def kill(self, uuids: list[str]) -> None:
        self._changed()
        rows = self._id_map.remove_many(uuids)
        self.alive[rows[rows >= 0]] = False

    def kill_rows(self, rows: np.ndarray) -> None:
        """``kill`` the records of live ``rows``."""
        self._changed()
        rows = np.asarray(rows, dtype=np.intp)
        gone = self._id_map.remove_ids(self.ids[rows])
        self.alive[gone[gone >= 0]] = False

    def set_props(self, row: int, props: dict[str, Any], text: str | None = None) -> None:
        """Row ``row`` now holds ``props`` (``text``: its JSON text, if known)."""
        self._changed()
        self.props.set_props(row, props, text)
        for name, col in self.columns.items():
            col.write(row, [props.get(name)])

    def duplicate_uuids(self) -> list[str]:
        """Uuids held by more than one live row, in the order their second row comes:
        only damaged storage gives any."""
        live = np.flatnonzero(self.alive_mask())
        keys = np.ascontiguousarray(self.ids[live]).view(np.uint64)  # (k, 2)
        order = np.lexsort((keys[:, 1], keys[:, 0]))  # stable: equal ids keep row order
        keys = keys[order]
        same = (keys[1:] == keys[:-1]).all(axis=1)
        first = np.ones(len(order), dtype=bool)  # first of each run of equal ids
        first[1:] = ~same
        second = np.zeros(len(order), dtype=bool)  # the second row of a run
        second[1:] = same & first[:-1]
        rows = np.sort(live[order[second]])
        return self.uuid_texts(rows)

    def alive_mask(self) -> np.ndarray:
        return self.alive[: self.n]

    def all_alive(self) -> bool:
        """No row is dead (no delete, vector update or placeholder), in O(1): every live
        record maps to its own alive row, so n of them leave no row dead."""
        return len(self._id_map) == self.n

    def matrix(self) -> np.ndarray:
        """The used rows, C-contiguous float32 (a view, no copy)."""
        return self.vectors[: self.n]

    def gather(self, rows: np.ndarray) -> Gathered:
        """The rows at ``rows``, in that order, as arrays (see ``Gathered``).

        The first k rows in order (every row alive, no filter: the common case) are read in
        place: a read-only view of the vectors, no row
        copied. The ids: a copy of their bytes (the uuid texts are made from them when
        read, ``Snapshot.uuids``). Rows below ``n`` are never written again (updates append and tombstone, growth moves to
        a new array), so the view keeps its values. Other rows: one fancy-index copy of the
        vectors. The properties: a view of the rows' texts as they are now (dicts made when
        read). String columns: their codes and presence at these rows, copied (an update
        rewrites a row's code in place)."""
        k = len(rows)
        prefix = k == 0 or (int(rows[-1]) == k - 1 and bool((rows[1:] > rows[:-1]).all()))
        at: slice | np.ndarray = slice(0, k) if prefix else rows
        strings = {
            name: (col, col.values[at].copy(), col.present[at].copy())
            for name, col in self.columns.items()
            if isinstance(col, StringColumn)
        }
        if prefix:
            vectors = self.vectors[:k]
            vectors.flags.writeable = False
            return Gathered(vectors, self.ids[:k].copy(), self.props.view(rows), strings)
        return Gathered(
            np.ascontiguousarray(self.vectors[rows]),
            self.ids[rows],
            self.props.view(rows),
            strings,
        )

    def typed_columns(self, rows: np.ndarray, kinds: dict[str, str]) -> dict[str, Typed]:
        """The ``rows``' values of each column whose kind is the schema's (``kinds``) and
        one of integer, number, boolean, string, as arrays (copies: the columns change with
        writes; string categories only grow, so the codes stay valid)."""
        out: dict[str, Typed] = {}
        for name, col in self.columns.items():
            kind = kinds.get(name)
            if kind != col.kind or kind not in _EXPORTED:
                continue
            cats = col.categories() if isinstance(col, StringColumn) else None
            out[name] = Typed(kind, col.values[rows], col.present[rows], cats)
        return out

    def commit_scratch_columns(
        self,
        positions: list[int] | None,
        uuids: list[str],
        seqs: list[int],
        props: list[dict[str, Any]] | None,
        values: dict[str, tuple[Any, np.ndarray | None]],
        normalised: bool = False,
        texts: Texts | None = None,
    ) -> None:
        """``commit_scratch`` for a columnar write: ``props`` or ``texts`` as ``append``
        takes them, and each filterable column is
        written from ``values[name] = (values, present)`` of the kept rows at once: a typed
        NumPy array (integer, number, boolean), or a list with None where absent (other kinds,
        read as ``Column.write`` reads stored values); ``present`` None means all present. A
        column the call does not carry is absent in every new row. ``positions`` None: the
        scratch rows are kept in order; ``normalised``: the caller has already scaled them to
        unit length (cosine)."""
        k = len(uuids)
        if k == 0:
            return
        self._changed()
        if positions is not None and positions != list(range(k)):
            block = self.vectors[self.n :]
            block[:k] = block[positions]
        start, end = self.n, self.n + k
        if self.cosine and not normalised:
            normalise_in_place(self.vectors[start:end])
        self.alive[start:end] = True
        self.seq[start:end] = seqs
        self._add_ids(uuids, start, None)
        self._add_texts(props, texts)
        for name, col in self.columns.items():
            given = values.get(name)
            if given is None:
                col.values[start:end] = (
                    _objects(k, col.fill) if col.values.dtype == object else col.fill
                )
                col.present[start:end] = False
                continue
            vals, present = given
            if isinstance(vals, np.ndarray) and col.kind in _TYPED and vals.dtype != object:
                col.values[start:end] = vals.astype(col.values.dtype, copy=False)
                if present is not None:
                    col.values[start:end][~present] = col.fill
                col.present[start:end] = True if present is None else present
            else:  # strings take the C-level path of StringColumn.write
                col.write(start, vals if isinstance(vals, list) else vals.tolist())
        self.n = end
        if self.on_rows_added is not None:  # as _adopt: the graph catches up
            self.on_rows_added(self)


@dataclass
class Gathered:
    """Rows of the cache as ``Cache.gather`` reads them: ``vectors`` (k, d) float32,
    ``ids`` (k, 16) uint8 (the bytes of their uuids), ``props`` (the rows' property texts, ``_core.PropView``) and, per string column, ``strings[name] =
    (column, codes, present)`` of the rows (decode with ``StringColumn.decode``)."""

    vectors: np.ndarray
    ids: np.ndarray
    props: _core.PropView
    strings: dict[str, tuple[StringColumn, np.ndarray, np.ndarray]]


_NIL = "00000000-0000-0000-0000-000000000000"  # a placeholder's id: no record's
_TYPED = frozenset({"integer", "number", "boolean"})


def _objects(k: int, fill: Any) -> np.ndarray:
    out = np.empty(k, dtype=object)
    out.fill(fill)  # fill() stores a tuple as one object
    return out
