"""SQLite store of one index: the durable source of truth.

One database file per index (``<root>/<namespace>/<index>/index.sqlite``), WAL journal,
``synchronous=FULL``: a write is acknowledged only after its transaction commits, so it
survives ``kill -9`` and power loss. ``seq`` is the row sequence: strictly increasing, never
reused (kept in ``meta.next_seq``), the cursor of ``records.list``.

Uuids are unique without a SQL index: every writer holds the write lock (``BEGIN
IMMEDIATE``) while it checks them against a cache reloaded if anyone else committed.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL,
    vector BLOB NOT NULL,
    props TEXT NOT NULL
);
"""


class Store:
    def __init__(self, path: str) -> None:
        # autocommit mode: transactions are explicit (BEGIN IMMEDIATE) so locks are predictable
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=60)
        self.conn.execute("PRAGMA busy_timeout=60000")
        _retry_locked(lambda: self.conn.execute("PRAGMA journal_mode=WAL"))
        self.conn.execute("PRAGMA synchronous=FULL")
        _retry_locked(lambda: self.conn.executescript(_SCHEMA))

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction holding the database write lock from its start."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def data_version(self) -> int:
        """Changes when another connection commits (SQLite ``PRAGMA data_version``)."""
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    # ---- meta ---------------------------------------------------------------------------

    def get_meta(self, key: str) -> Any:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def set_meta(self, key: str, value: Any) -> None:
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value)),
        )

    def take_seqs(self, count: int) -> int:
        """Reserve ``count`` sequence numbers; returns the first. Call inside a transaction."""
        first = int(self.get_meta("next_seq") or 1)
        self.set_meta("next_seq", first + count)
        return first

    # ---- records ------------------------------------------------------------------------

    def insert(self, rows: Iterable[tuple[int, str, bytes | memoryview, str]]) -> None:
        self.conn.executemany(
            "INSERT INTO records(seq, uuid, vector, props) VALUES (?, ?, ?, ?)", rows
        )

    def delete_seqs(self, seqs: list[int]) -> None:
        for chunk in _chunks(seqs, 900):
            marks = ",".join("?" * len(chunk))
            self.conn.execute(f"DELETE FROM records WHERE seq IN ({marks})", chunk)

    def update_props(self, seq: int, props_json: str) -> None:
        self.conn.execute("UPDATE records SET props = ? WHERE seq = ?", (props_json, seq))

    def fetch(self, seqs: list[int], with_vector: bool) -> dict[int, tuple[str, str, bytes | None]]:
        """seq -> (uuid, props json, vector blob or None)."""
        out: dict[int, tuple[str, str, bytes | None]] = {}
        cols = "seq, uuid, props, vector" if with_vector else "seq, uuid, props, NULL"
        for chunk in _chunks(seqs, 900):
            marks = ",".join("?" * len(chunk))
            for seq, uid, props, vec in self.conn.execute(
                f"SELECT {cols} FROM records WHERE seq IN ({marks})", chunk
            ):
                out[seq] = (uid, props, vec)
        return out

    def count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM records").fetchone()[0])

    def scan(self, chunk: int = 8192) -> Iterator[list[tuple[int, str, bytes, str]]]:
        """Every record in sequence order, streamed in chunks (never all at once)."""
        cur = self.conn.execute("SELECT seq, uuid, vector, props FROM records ORDER BY seq")
        while rows := cur.fetchmany(chunk):
            yield rows


def _retry_locked(step: Callable[[], Any], seconds: float = 60.0) -> None:
    """Run ``step``, retrying while SQLite says "database is locked".

    Switching a new file to WAL needs an exclusive lock, and SQLite answers "locked" at
    once (without its busy handler) while another process is creating the same file.
    """
    deadline = time.monotonic() + seconds
    delay = 0.001
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.05)


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
