"""A cheap "has anything changed?" for an open index, before the full check of ``Index._sync``
(``os.stat`` of the database for a drop or re-creation, ``PRAGMA data_version`` for a commit
by another connection: ~3 µs a call, on every query).

- Commits: the store runs in WAL mode, whose wal-index (the ``-shm`` file next to the
  database, a documented format: https://www.sqlite.org/walformat.html) begins with a
  48-byte header that every commit rewrites (its frame count and checksums move; a WAL
  reset changes its salts). While our connection is open SQLite keeps that file (only the
  last connection to close removes it, and ours holds its shared lock), so the header as
  read here moves with every commit of every process. Equal bytes: no commit since.
- The header is read with ``pread`` (~0.5 µs), not mapped: the first connection to open a
  wal-index nobody holds truncates it, and the file this process opened by name may not be
  the one its own connection holds (an index linked into place under another name by its
  creator), so a mapping could outlive its bytes and a read of it kill the process with
  SIGBUS (seen once in tests/unit/test_durability.py's two writers). A short read is a
  change: the full check runs.
- Drops and re-creations commit nothing (the directory is renamed away): one in this
  process counts in ``note_drop``; one by another process is seen by the full check,
  which runs at least every ``STAT_EVERY_S``, whatever the header says.
"""

from __future__ import annotations

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

    __slots__ = ("_fd", "_seen", "_drops", "_due")

    def __init__(self, db_path: str) -> None:
        """Open ``db_path``'s ``-shm`` file to read its header; ``OSError`` or
        ``ValueError`` when it cannot be (no such file yet, shorter than the header)."""
        fd = os.open(db_path + "-shm", os.O_RDONLY)
        if os.fstat(fd).st_size < HEADER:
            os.close(fd)
            raise ValueError("the wal-index is shorter than its header")
        self._fd = fd
        self._seen: bytes | None = None
        self._drops = -1
        self._due = 0.0

    def unchanged(self) -> bool:
        """Nothing committed, dropped here or due a full check since ``checked``."""
        return (
            os.pread(self._fd, HEADER, 0) == self._seen
            and self._drops == _drops
            and time.monotonic() < self._due
        )

    def header(self) -> bytes:
        """The header now: read before a full check, handed to ``checked`` after it (a
        commit in between then shows as a change next time)."""
        return os.pread(self._fd, HEADER, 0)

    def checked(self, header: bytes, drops_then: int) -> None:
        """A full check ran, begun when the header read ``header`` and ``drops()`` was
        ``drops_then``."""
        # a short header (the file cut under us) never matches: full checks until reopened
        self._seen = header if len(header) == HEADER else None
        self._drops = drops_then
        self._due = time.monotonic() + STAT_EVERY_S

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
