"""A cheap "has anything changed?" for an open index, before the full check of ``Index._sync``
(``os.stat`` of the database for a drop or re-creation, ``PRAGMA data_version`` for a commit
by another connection: ~3 µs a call, on every query).

- Commits: the store runs in WAL mode, whose wal-index (the ``-shm`` file next to the
  database, a documented format: https://www.sqlite.org/walformat.html) begins with a
  48-byte header that every commit rewrites (its frame count and checksums move; a WAL
  reset changes its salts). While our connection is open SQLite keeps that file (only the
  last connection to close removes it, and ours holds its shared lock), so the header as
  mapped here moves with every commit of every process. Equal bytes: no commit since.
- Drops and re-creations commit nothing (the directory is renamed away): one in this
  process counts in ``note_drop``; one by another process is seen by the full check,
  which runs at least every ``STAT_EVERY_S``, whatever the header says.
"""

from __future__ import annotations

import mmap
import os
import time

HEADER = 48  # bytes of the wal-index header (one copy; a commit writes both)
STAT_EVERY_S = 0.01  # the full check's period when nothing else calls for it

_drops = 0  # index directories dropped by this process


def note_drop() -> None:
    """An index directory of this process is being dropped: every open index checks."""
    global _drops
    _drops += 1


def drops() -> int:
    return _drops


class Watch:
    """The wal-index header of one database as last seen by a full check."""

    __slots__ = ("_map", "_seen", "_drops", "_due")

    def __init__(self, db_path: str) -> None:
        """Map the header of ``db_path``'s ``-shm`` file read-only; ``OSError`` or
        ``ValueError`` when it cannot be (no such file yet, shorter than the header)."""
        fd = os.open(db_path + "-shm", os.O_RDONLY)
        try:
            self._map = mmap.mmap(fd, HEADER, access=mmap.ACCESS_READ)
        finally:
            os.close(fd)  # the mapping keeps its own handle
        self._seen = b""
        self._drops = -1
        self._due = 0.0

    def unchanged(self) -> bool:
        """Nothing committed, dropped here or due a full check since ``checked``."""
        return (
            self._map[:HEADER] == self._seen
            and self._drops == _drops
            and time.monotonic() < self._due
        )

    def header(self) -> bytes:
        """The header now: read before a full check, handed to ``checked`` after it (a
        commit in between then shows as a change next time)."""
        return self._map[:HEADER]

    def checked(self, header: bytes, drops_then: int) -> None:
        """A full check ran, begun when the header read ``header`` and ``drops()`` was
        ``drops_then``."""
        self._seen = header
        self._drops = drops_then
        self._due = time.monotonic() + STAT_EVERY_S

    def close(self) -> None:
        self._map.close()
