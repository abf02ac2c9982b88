"""The rows a search may return (``Kept``), and a cache's memo of a few filters' rows
(``KeptMemo``), so a filter repeated over an unchanged cache is not evaluated again.

The memo lives on its ``Cache`` and is emptied by every change of it (``Cache._changed``:
rows added, killed, properties set, a column added); a reload or compaction makes a new
cache, with an empty memo. So an entry is never older than the rows it describes."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

# filters remembered per cache: a mask (1 byte a row), its row list (8 bytes a kept row)
# and, for a filter used again that keeps few rows, a copy of their vectors (at most
# GATHER_MAX_FLOATS): 4 of them over 1M rows hold at most ~72 MB, usually far less
MEMO_SIZE = 4
# a copy of the kept rows' vectors is made up to this many floats (8 MB): a scan of one
# block reads a few hundred pages instead of a page or two per scattered row
GATHER_MAX_FLOATS = 1 << 21


class Kept:
    """The rows a search may return: ``mask`` (None: every row of the cache, all alive),
    how many (``count``), and their ids ascending (``rows``, made on first use)."""

    __slots__ = ("_block", "_rows", "_uses", "count", "mask")

    def __init__(self, mask: np.ndarray | None, count: int) -> None:
        self.mask = mask
        self.count = count
        self._rows: np.ndarray | None = None
        self._block: np.ndarray | None = None
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

    def block(self, matrix: np.ndarray) -> np.ndarray | None:
        """The kept rows of ``matrix`` (the cache's, in this state) as one C-contiguous
        copy, in ``rows`` order, from the second scan on and when small enough; else
        None (scan ``rows`` in place). Row ``i`` of the block is row ``rows[i]``."""
        self._uses += 1
        if (
            self._block is None
            and self._uses >= 2
            and self.count * matrix.shape[1] <= GATHER_MAX_FLOATS
        ):
            block = np.take(matrix, self.rows, axis=0)
            block.flags.writeable = False
            self._block = block
        return self._block


class KeptMemo:
    """``Kept`` of the last ``MEMO_SIZE`` filters used, by filter key, least recently
    used dropped first. Valid for one state of its cache: the cache clears it on change."""

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: OrderedDict[str, Kept] = OrderedDict()

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

    def __len__(self) -> int:
        return len(self._entries)
