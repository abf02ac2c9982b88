"""The rows an analysis runs over: what ``Index.snapshot(filter, limit)`` returns.

A snapshot is arrays, not records: the vectors (for an embedded index, the cache's own
rows when they are all taken in order: no copy), the uuids (for an embedded index their
bytes, ``ids``: the texts are made on first read of ``uuids``; an answer that lists
members makes its texts straight from the bytes, ``uuid_texts_of``/``member_dicts``), and the properties read only
where an answer needs them. ``properties(rows)`` reads the properties of the given row
positions (the representatives, the flagged outliers); ``texts(fields)`` reads just those
fields of every row (the keywords); ``values(name)`` one property of every row. No
per-record Python object is made between the store and the core.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, SupportsIndex, overload

import numpy as np

from .. import _core
from .ctfidf import record_text

Props = dict[str, Any]
# name -> (values, is-a-string mask) of a string column at the snapshot's rows, or None
Strings = Callable[[str], "tuple[list[str | None], np.ndarray] | None"]


# rows read at a time when every row's properties are walked (bounded memory)
_BLOCK = 4096


class Rows(Protocol):
    """Where ``Properties`` reads: some rows' stored properties (``_core.PropView``)."""

    def __len__(self) -> int: ...
    def dict_of(self, i: int) -> Props: ...
    def dicts(self, at: list[int] | None = None) -> list[Props]: ...
    def pick(self, at: list[int]) -> Rows: ...


class Properties(Sequence[Props]):
    """The properties of a snapshot's rows, read lazily.

    Holds the rows' stored texts as they were when the snapshot was taken (``Rows``: a
    later update of a record does not show) and makes a new dict only for the rows read:
    by index, by iteration (a block of rows at a time) or by ``take(rows)``; the caller
    owns each. A slice is another ``Properties``; a pickle (e.g. a shard's answer) is a
    plain list of dicts. Equal to a list of the same dicts.
    """

    __slots__ = ("_rows", "_strings")

    def __init__(self, rows: Rows, strings: Strings | None = None):
        self._rows = rows
        self._strings = strings

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, i: SupportsIndex) -> Props: ...
    @overload
    def __getitem__(self, i: slice) -> Properties: ...
    def __getitem__(self, i: SupportsIndex | slice) -> Props | Properties:
        n = len(self._rows)
        if isinstance(i, slice):
            return Properties(self._rows.pick(list(range(n))[i]))
        j = operator.index(i)
        if j < 0:
            j += n
        if not 0 <= j < n:
            raise IndexError("snapshot row out of range")
        return self._rows.dict_of(j)

    def __iter__(self) -> Iterator[Props]:
        n = len(self._rows)
        for a in range(0, n, _BLOCK):
            yield from self._rows.dicts(list(range(a, min(a + _BLOCK, n))))

    def __reversed__(self) -> Iterator[Props]:
        n = len(self._rows)
        for b in range(n, 0, -_BLOCK):
            yield from reversed(self._rows.dicts(list(range(max(b - _BLOCK, 0), b))))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (list, tuple, Properties)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # compared by value, as a list is

    def __repr__(self) -> str:
        return f"Properties({len(self)} rows)"

    def copy(self) -> list[Props]:
        return list(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (list, (list(self),))

    def take(self, rows: Iterable[int]) -> list[Props]:
        """The properties of the rows at ``rows`` (positions in the snapshot)."""
        return self._rows.dicts([operator.index(r) for r in rows])

    def stored(self) -> Iterator[Props]:
        """Every row's properties, a block of rows at a time (for reading)."""
        return iter(self)

    def strings(self, name: str) -> tuple[list[str | None], np.ndarray] | None:
        """(the value of property ``name`` in every row where it is a string, else None;
        that mask), from the store's string column when it has one (no dict read), else
        None."""
        return None if self._strings is None else self._strings(name)


@dataclass
class Snapshot:
    """Filtered rows of one index, gathered once for an analysis.

    ``vectors`` is a C-contiguous float32 (n, d) array (possibly a read-only view of the
    index's own rows: analyses never write to it); rows are unit length when the index
    metric is cosine. ``metadata[i]`` is the properties dict of ``uuids[i]`` (a
    ``Properties`` read lazily, or a plain list). ``matched``: how many records matched the
    filter before ``limit`` cut them (None: not counted, i.e. the rows are all of them).
    ``ids``: the (n, 16) uint8 bytes of the uuids when the snapshot was made from them
    (``of_ids``); ``uuids`` is then made from them on first read.
    """

    uuids: list[str]
    vectors: np.ndarray
    metadata: Sequence[dict[str, Any]]
    metric: str = "cosine"
    schema: dict[str, Any] = field(default_factory=dict)
    matched: int | None = None
    _texts: dict[tuple[str, ...], list[str]] = field(
        default_factory=dict, repr=False, compare=False
    )
    ids: np.ndarray | None = field(default=None, repr=False, compare=False)

    @classmethod
    def of_ids(cls, ids: np.ndarray, **rest: Any) -> Snapshot:
        """A snapshot whose uuids are the texts of ``ids`` ((n, 16) uint8), made when
        ``uuids`` is first read (an analysis that needs a few, or lists them from the
        bytes, never makes the list of every row's text)."""
        snap = cls(uuids=[], ids=ids, **rest)
        del snap.uuids  # made by __getattr__ on first read
        return snap

    def __getattr__(self, name: str) -> Any:
        # only called for a missing attribute: `uuids` of a snapshot made by `of_ids`
        ids = self.__dict__.get("ids")
        if name != "uuids" or ids is None:
            raise AttributeError(name)
        self.uuids = _core.uuid_texts(ids)
        return self.uuids

    def __len__(self) -> int:
        if "uuids" not in self.__dict__ and self.ids is not None:
            return len(self.ids)
        return len(self.uuids)

    def uuid_texts_of(self, rows: list[int]) -> list[str]:
        """The uuids of the rows at ``rows`` (from the bytes when the list is not made)."""
        if "uuids" in self.__dict__ or self.ids is None:
            uuids = self.uuids
            return [uuids[r] for r in rows]
        return _core.uuid_texts(self.ids[np.asarray(rows, dtype=np.intp)]) if rows else []

    def member_dicts(self, rows: np.ndarray, bounds: np.ndarray) -> list[list[dict[str, str]]]:
        """``[[{"uuid": uuids[r]} for r in rows[bounds[g]:bounds[g + 1]]] for g ...]``: the
        members of an answer's groups, built by the core in one pass; from the id bytes
        when there are (a new text per member, no list of every row's text)."""
        if self.ids is not None:
            return _core.id_member_dicts(self.ids, rows, bounds)
        uuids = self.uuids
        return _core.member_dicts(uuids if type(uuids) is list else list(uuids), rows, bounds)

    def _stored(self) -> Iterator[Props]:
        meta = self.metadata
        return meta.stored() if isinstance(meta, Properties) else iter(meta)

    def properties(self, rows: Iterable[int]) -> list[Props]:
        """The properties of the rows at ``rows`` (new dicts, the caller's)."""
        meta = self.metadata
        if isinstance(meta, Properties):
            return meta.take(rows)
        return [meta[r] for r in rows]

    def texts(self, fields: Sequence[str]) -> list[str]:
        """The text of every row: its ``fields`` joined (``ctfidf.record_text``); only
        those fields are read, and the list is kept for the next call with them."""
        key = tuple(fields)
        out = self._texts.get(key)
        if out is None:
            out = self._column_texts(key)
            if out is None:
                out = [record_text(m, key) for m in self._stored()]
            self._texts[key] = out
        return out

    def _column_texts(self, fields: tuple[str, ...]) -> list[str] | None:
        """``texts`` from the store's string columns (None: a field has none): every row
        whose fields are all strings is joined from them, the others read as
        ``record_text`` reads them (lists, numbers, missing fields)."""
        meta = self.metadata
        if not fields or not isinstance(meta, Properties):
            return None
        columns = [meta.strings(f) for f in fields]
        if any(c is None for c in columns):
            return None
        got = [c for c in columns if c is not None]
        texts: list[str | None]
        if len(got) == 1:
            texts = got[0][0]
        else:
            rows = zip(*(c[0] for c in got), strict=True)
            texts = [None if None in t else " \n ".join(t) for t in rows]
        present = np.logical_and.reduce([c[1] for c in got])
        for r in np.flatnonzero(~present).tolist():
            texts[r] = record_text(meta[r], fields)
        return texts  # type: ignore[return-value]  # no None left

    def values(self, name: str) -> list[Any]:
        """The value of property ``name`` in every row (None where absent); the stored
        values themselves, for reading only."""
        return [m.get(name) for m in self._stored()]

    def names(self) -> set[str]:
        """Every property name any row holds."""
        out: set[str] = set()
        for m in self._stored():
            out.update(m)
        return out
