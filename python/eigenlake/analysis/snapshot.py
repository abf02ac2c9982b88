"""The rows an analysis runs over: what ``Index.snapshot(filter, limit)`` returns.

A snapshot is arrays, not records: the vectors (for an embedded index, the cache's own
rows when they are all taken in order: no copy), the uuids, and the properties read only
where an answer needs them. ``properties(rows)`` copies the properties of the given row
positions (the representatives, the flagged outliers); ``texts(fields)`` reads just those
fields of every row (the keywords); ``values(name)`` one property of every row. No
per-record Python object is made between the store and the core.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, SupportsIndex, overload

import numpy as np

from .ctfidf import record_text

Props = dict[str, Any]
# name -> (values, is-a-string mask) of a string column at the snapshot's rows, or None
Strings = Callable[[str], "tuple[list[str | None], np.ndarray] | None"]


def _same(props: Props) -> Props:
    return props


class Properties(list[Props]):
    """The properties of a snapshot's rows, read lazily.

    Holds the stored dicts themselves (references: the store replaces a record's dict on
    update, it never changes one in place, so they keep the state the snapshot was taken
    in) and hands out ``copy(dict)`` only for the rows read: by index, by iteration or by
    ``take(rows)``. A slice is another ``Properties``; a pickle (e.g. a shard's answer) is
    a plain list of copies.
    """

    __slots__ = ("_copy", "_strings")

    def __init__(
        self,
        stored: Iterable[Props] = (),
        copy: Callable[[Props], Props] = _same,
        strings: Strings | None = None,
    ):
        super().__init__(stored)
        self._copy = copy
        self._strings = strings

    @overload
    def __getitem__(self, i: SupportsIndex) -> Props: ...
    @overload
    def __getitem__(self, i: slice) -> Properties: ...
    def __getitem__(self, i: SupportsIndex | slice) -> Props | Properties:
        if isinstance(i, slice):
            return Properties(super().__getitem__(i), self._copy)
        return self._copy(super().__getitem__(i))

    def __iter__(self) -> Iterator[Props]:
        return map(self._copy, super().__iter__())

    def __reversed__(self) -> Iterator[Props]:
        return map(self._copy, super().__reversed__())

    def copy(self) -> list[Props]:
        return list(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (list, (list(self),))

    def take(self, rows: Iterable[int]) -> list[Props]:
        """Copies of the properties of the rows at ``rows`` (positions in the snapshot)."""
        get, copy = super().__getitem__, self._copy
        return [copy(get(r)) for r in rows]

    def stored(self) -> Iterator[Props]:
        """The stored dicts themselves, for reading only (no copy)."""
        return super().__iter__()

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
    """

    uuids: list[str]
    vectors: np.ndarray
    metadata: list[dict[str, Any]]
    metric: str = "cosine"
    schema: dict[str, Any] = field(default_factory=dict)
    matched: int | None = None
    _texts: dict[tuple[str, ...], list[str]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def __len__(self) -> int:
        return len(self.uuids)

    def _stored(self) -> Iterator[Props]:
        meta = self.metadata
        return meta.stored() if isinstance(meta, Properties) else iter(meta)

    def properties(self, rows: Iterable[int]) -> list[Props]:
        """The properties of the rows at ``rows`` (copies of the stored ones)."""
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
        get = list.__getitem__
        for r in np.flatnonzero(~present).tolist():
            texts[r] = record_text(get(meta, r), fields)
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
