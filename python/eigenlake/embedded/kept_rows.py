"""The rows a search may return (``Kept``), and a cache's memo of a few filters' rows
(``KeptMemo``), so a filter repeated over an unchanged cache is not evaluated again.

The memo is keyed by the parsed filter; a filter dict made only of JSON's own types
(``filter_key``) is also found by its text, so a repeated query skips the parse too
(``KeptMemo.by_text``, the filtered fast path of ``embedded/search.py``).

The memo lives on its ``Cache`` and is emptied by every change of it (``Cache._changed``:
rows added, killed, properties set, a column added); a reload or compaction makes a new
cache, with an empty memo. So an entry is never older than the rows it describes."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np

from .. import _core
from ..api.checks import MAX_FILTER_DEPTH

# filters remembered per cache: a mask (1 byte a row), its row list (8 bytes a kept row)
# and, for a filter used again, a copy of its rows (floats, or codes and floats, up to
# ``gather_limit`` floats' bytes; codes alone up to twice that): 4 of them over
# 1M × 384 rows hold at most ~230 MB (15% of the matrix)
MEMO_SIZE = 4
# a copy of the kept rows is made up to this many floats' bytes (8 MB), or up to
# 1/GATHER_SHARE of the matrix when that is more: a scan of one block reads a few hundred
# pages instead of a page or two per scattered row (over 1M rows, 1% of them scattered
# took twice NumPy's scan of their copy)
GATHER_MAX_FLOATS = 1 << 21
GATHER_SHARE = 64
# from this many kept rows the copy is of int8 codes (``_core.QuantizedFlat``, dim + 20
# bytes a row, the answer still exact), with their floats while both fit (the few rows
# re-scored are then read from one warm block, not from all over the matrix): one query
# over 500 / 1,000 / 2,000 of 100,000 rows of 384-d took 12 / 17 / 27 µs (14 / 24 / 51
# re-scored in the matrix) against 15 / 44 / 113 µs for their float copy; below ~300 rows
# the codes' set-up costs more than the bytes they save
CODE_MIN_ROWS = 384
# codes alone (a quarter of the floats' bytes) may take this many times a copy's budget:
# over 1M rows a filter keeping 10% of them (40 MB of codes) is scanned from its codes
CODES_SHARE = 2
# rows coded per step, so making codes never holds a float copy of more than this
_CODE_STEP = 1 << 14


def gather_limit(matrix: np.ndarray) -> int:
    """The most floats a filter's copy of its rows may hold, for this matrix."""
    return max(GATHER_MAX_FLOATS, matrix.size // GATHER_SHARE)


# filter texts remembered (each names a memo entry), and the longest text remembered: a
# filter listing 100,000 ids is parsed again rather than held twice more
TEXTS_SIZE = 2 * MEMO_SIZE
TEXT_MAX_CHARS = 1 << 16
# the types `filter_key` accepts: their repr tells every two values apart (1, 1.0, True)
_SCALARS = frozenset({str, int, float, bool, type(None)})
_NODES = _SCALARS | {dict, list}
# containers a filter may nest (as `api.checks.check_nesting` counts them); deeper ones
# are left to the parser, which refuses them
_MAX_NESTING = 2 * MAX_FILTER_DEPTH + 3


def filter_key(flt: dict[str, Any]) -> str | None:
    """A text that names the filter dict exactly (two dicts with the same text are the
    same filter), or None when it holds anything but dicts with str keys, lists, str, int,
    float, bool and None (a subclass, a tuple, a NumPy number: their repr may be another
    value's), nests too deep or is long. Its ``repr``: two equal filters written in
    another key order get two texts, which costs a parse, never a wrong answer."""
    if not _plain(flt, 1):
        return None
    text = repr(flt)
    return text if len(text) <= TEXT_MAX_CHARS else None


def _plain(value: dict[str, Any] | list[Any], depth: int) -> bool:
    """Whether a dict or list holds only `_NODES` (dicts keyed by str), to `_MAX_NESTING`."""
    if depth > _MAX_NESTING:
        return False
    if type(value) is dict:
        # a filter's dicts are small: one plain loop (a third of the time of generators)
        for key, child in value.items():
            if type(key) is not str:
                return False
            kind = type(child)
            if kind in _SCALARS:
                continue
            if (kind is dict or kind is list) and _plain(child, depth + 1):
                continue
            return False
        return True
    kinds = set(map(type, value))  # in one C loop: a list of 100,000 ids has one type
    if kinds <= _SCALARS:
        return True
    if not kinds <= _NODES:
        return False
    return all(_plain(c, depth + 1) for c in value if type(c) is dict or type(c) is list)


class Kept:
    """The rows a search may return: ``mask`` (None: every row of the cache, all alive),
    how many (``count``), and their ids ascending (``rows``, made on first use)."""

    __slots__ = ("_copy", "_rows", "_uses", "count", "mask")

    def __init__(self, mask: np.ndarray | None, count: int) -> None:
        self.mask = mask
        self.count = count
        self._rows: np.ndarray | None = None
        self._copy: Any = None
        self._uses = 0

    @classmethod
    def of_mask(cls, mask: np.ndarray) -> Kept:
        mask.flags.writeable = False  # shared by every query that hits the memo
        return cls(mask, int(np.count_nonzero(mask)))

    @property
    def rows(self) -> np.ndarray:
        """The kept row ids (int64, ascending, read-only); only for a mask."""
        if self._rows is None:
            assert self.mask is not None, "no mask: every row is kept"
            rows = np.flatnonzero(self.mask)
            rows.flags.writeable = False
            self._rows = rows
        return self._rows

    def coded(self, matrix: np.ndarray, coded: bool) -> bool:
        """Whether ``copy(matrix, coded)`` is (or will be, from the second scan) of int8
        codes: the scan then reads a quarter of the bytes."""
        count = self.count
        return (
            coded
            and count >= CODE_MIN_ROWS
            and count * (matrix.shape[1] + 20) <= CODES_SHARE * 4 * gather_limit(matrix)
        )

    def copy(self, matrix: np.ndarray, coded: bool) -> Any:
        """What a scan of the kept rows of ``matrix`` (the cache's, in this state) reads,
        made on the second scan and kept, within ``gather_limit`` floats' bytes: from
        ``CODE_MIN_ROWS`` rows when ``coded`` (the index's ``quantized_scan``), their int8
        codes (a ``_core.QuantizedFlat``) with a copy of their floats for the re-score
        while both fit, else the codes alone (within ``CODES_SHARE`` times the budget);
        below, a C-contiguous copy of their floats.
        None: scan ``rows`` in place. Row ``i`` of a copy is row ``rows[i]``."""
        self._uses += 1
        if self._copy is None and self._uses >= 2:
            budget, dim, count = 4 * gather_limit(matrix), matrix.shape[1], self.count
            if self.coded(matrix, coded):  # codes fit twice the budget
                if count * (5 * dim + 20) <= budget:
                    block = self._floats(matrix)
                    self._copy = (_core.QuantizedFlat(block), block)
                else:
                    self._copy = _codes_of(matrix, self.rows)
            elif 4 * count * dim <= budget:
                self._copy = self._floats(matrix)
        return self._copy

    def _floats(self, matrix: np.ndarray) -> np.ndarray:
        block = np.take(matrix, self.rows, axis=0)
        block.flags.writeable = False
        return block


def _codes_of(matrix: np.ndarray, rows: np.ndarray) -> Any:
    """``_core.QuantizedFlat`` of ``matrix[rows]``, coded ``_CODE_STEP`` rows at a time."""
    codes = _core.QuantizedFlat(np.take(matrix, rows[:_CODE_STEP], axis=0))
    for start in range(_CODE_STEP, len(rows), _CODE_STEP):
        codes.append(np.take(matrix, rows[start : start + _CODE_STEP], axis=0))
    return codes


class KeptMemo:
    """``Kept`` of the last ``MEMO_SIZE`` filters used, by filter key, least recently
    used dropped first. Valid for one state of its cache: the cache clears it on change."""

    __slots__ = ("_entries", "_texts")

    def __init__(self) -> None:
        self._entries: OrderedDict[str, Kept] = OrderedDict()
        # filter_key text -> (memo key, the filter's cursor text, the schema it was parsed by)
        self._texts: dict[str, tuple[str, bytes, Any]] = {}

    def by_text(self, text: str, schema: Any) -> tuple[Kept, bytes] | None:
        """(``Kept``, cursor text: ``api.cursor.filter_text``) of the filter whose
        ``filter_key`` is ``text``, parsed by ``schema`` (the index's current one: the
        same filter may mean another thing, or nothing, to another schema); None when not
        remembered. Every filter remembered here was accepted by the parser."""
        named = self._texts.get(text)
        if named is None or named[2] is not schema:
            return None
        kept = self.get(named[0])
        return None if kept is None else (kept, named[1])

    def name(self, text: str, key: str, cursor_text: bytes, schema: Any) -> None:
        """Remember that the filter of ``filter_key`` ``text`` parsed by ``schema`` is the
        entry ``key``, its cursor text ``cursor_text``."""
        if len(self._texts) >= TEXTS_SIZE and text not in self._texts:
            self._texts.clear()  # rare (many filters in turn): they are named again on use
        self._texts[text] = (key, cursor_text, schema)

    def get(self, key: str) -> Kept | None:
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
        return found

    def put(self, key: str, kept: Kept) -> None:
        self._entries[key] = kept
        self._entries.move_to_end(key)
        while len(self._entries) > MEMO_SIZE:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()
        self._texts.clear()

    def __len__(self) -> int:
        return len(self._entries)
