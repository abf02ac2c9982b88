"""SQLite store of one index: the durable source of truth.

One database file per index (``<root>/<namespace>/<index>/index.sqlite``), WAL journal,
``synchronous=FULL``: a write is acknowledged only after its transaction commits, so it
survives ``kill -9`` and power loss. ``seq`` is the row sequence: strictly increasing, never
reused (kept in ``meta.next_seq``), the cursor of ``records.list``.

Uuids are unique without a SQL index: every writer holds the write lock (``BEGIN
IMMEDIATE``) while it checks them against a cache reloaded if anyone else committed; a
duplicate can only come from damage, and the cache load reports it.

A database is created whole under a temporary name and linked into place (``create``), so
an ``index.sqlite`` that is empty, lacks its tables or its settings is damage, reported as
:class:`~eigenlake.errors.StorageError`, never taken for a missing index.

Bulk writes (``insert_block``) keep their vectors out of the SQLite pages: the raw float32
rows are appended to the index's vector file (``vectors-<index uid>.f32`` next to the
database) and fsynced *before* the transaction that references them commits; the record's
``vector`` column then holds an 11-byte pointer (``_PTR_TAG`` + little-endian offset) in
place of the ``4 * dimensions`` bytes of an inline vector (never 11 bytes long), and
``meta.vec_end`` (committed with the rows) is where the next block goes. A write that never
commits leaves bytes past ``vec_end``, overwritten by the next one; committed bytes are
never rewritten, so a reader's older snapshot always finds its vectors. ``scan`` and
``fetch`` resolve pointers, so callers see vector bytes either way; stores written before
the file existed (every vector inline) read as they always did. Removed records' bytes stay
in the file (reclaimed when the index is dropped).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import sqlite3
import struct
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import numpy as np

from ..errors import StorageError
from . import watch

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL,
    vector BLOB NOT NULL,
    props TEXT NOT NULL
);
"""
_COLUMNS = {"meta": {"key", "value"}, "records": {"seq", "uuid", "vector", "props"}}
_MAGIC = b"SQLite format 3\x00"
# a database being created (see `create`): not yet the index's, never damage
CREATING = ".creating-"
UID_KEY = "index_uid"
# A dropped index's directory is first renamed to a tomb in its namespace directory. The
# "@" makes the name one no index can have: names are percent-encoded ("@" -> "%40").
TOMB_PREFIX = ".deleted@"
# bulk-written vectors: see the module docstring
VECTOR_FILE = "vectors-{uid}.f32"
VEC_END_KEY = "vec_end"
_PTR = struct.Struct("<3sQ")
_PTR_TAG = b"\x00EL"
POINTER_SIZE = _PTR.size  # 11: never 4 * dimensions
# a span of pointed-to vectors read with one pread when it is at most this much larger
# than the bytes its rows need (rows of one bulk write are contiguous in the file)
_SPAN_SLACK = 2


class Store:
    """An index's database. ``create=False`` (opening an existing index) never creates or
    repairs anything: a file that is not a whole index raises ``StorageError``."""

    def __init__(self, path: str, *, create: bool = False) -> None:
        self.path = path
        self._vfd: int | None = None  # the vector file, opened on first use
        self._vname: str | None = None
        if not create:
            _check_header(path)
        # mode=rw: a file removed meanwhile is an error, not silently re-created empty
        uri = f"file:{quote(path)}?mode={'rwc' if create else 'rw'}"
        try:
            # autocommit mode: transactions are explicit (BEGIN IMMEDIATE) so locks are
            # predictable
            self.conn = sqlite3.connect(
                uri, uri=True, isolation_level=None, check_same_thread=False, timeout=60
            )
        except sqlite3.OperationalError:
            if not create and not os.path.exists(path):
                raise FileNotFoundError(errno.ENOENT, "no such file", path) from None
            raise
        try:
            self.conn.execute("PRAGMA busy_timeout=60000")
            _retry_locked(lambda: self.conn.execute("PRAGMA journal_mode=WAL"))
            self.conn.execute("PRAGMA synchronous=FULL")
            if create:
                _retry_locked(lambda: self.conn.executescript(_SCHEMA))
            else:
                self.verify()
        except BaseException as e:
            self.conn.close()
            if _is_damage(e):
                raise self.damaged(f"cannot be read as an SQLite database ({e})") from e
            raise

    def damaged(self, problem: str) -> StorageError:
        return StorageError.damaged(self.path, problem)

    def verify(self) -> None:
        """Raise ``StorageError`` unless the database holds a whole index: both tables,
        the settings and a sequence counter ahead of every record. Cheap (no scan)."""
        try:
            tables = {
                row[0]
                for row in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            for table, columns in _COLUMNS.items():
                if table not in tables:
                    raise self.damaged(f"its table {table!r} is missing")
                have = {row[1] for row in self.conn.execute(f"PRAGMA table_info({table})")}
                if not columns <= have:
                    raise self.damaged(f"table {table!r} lacks column(s) {sorted(columns - have)}")
            # one statement, one snapshot: a writer committing between two reads would
            # make the counter look behind its records
            raw_settings, raw_next, last = self.conn.execute(
                "SELECT (SELECT value FROM meta WHERE key = 'settings'),"
                " (SELECT value FROM meta WHERE key = 'next_seq'),"
                " (SELECT MAX(seq) FROM records)"
            ).fetchone()
        except sqlite3.DatabaseError as e:
            if not _is_damage(e):
                raise
            raise self.damaged(f"cannot be read as an SQLite database ({e})") from e
        settings = _json(raw_settings)
        dims = settings.get("dimensions") if isinstance(settings, dict) else None
        if not _positive_int(dims):
            raise self.damaged(
                "its settings (table 'meta', key 'settings') are missing or unreadable"
            )
        next_seq = _json(raw_next)
        if not _positive_int(next_seq):
            raise self.damaged(
                "its sequence counter (table 'meta', key 'next_seq') is missing or unreadable"
            )
        if last is not None and (not isinstance(last, int) or last >= next_seq):
            raise self.damaged(f"its records reach seq {last!r}, past its counter {next_seq}")
        self._verify_vector_file()

    def _verify_vector_file(self) -> None:
        """The vector file holds every byte ``meta.vec_end`` says was committed."""
        row = self.conn.execute(
            "SELECT (SELECT value FROM meta WHERE key = ?), (SELECT value FROM meta WHERE key = ?)",
            (VEC_END_KEY, UID_KEY),
        ).fetchone()
        end, uid = _json(row[0]), _json(row[1])
        if end is None or end == 0:
            return
        if not isinstance(end, int) or isinstance(end, bool) or end < 0 or not uid:
            raise self.damaged(
                f"its vector file end (table 'meta', key {VEC_END_KEY!r}) is unreadable"
            )
        path = self._vector_path(str(uid))
        try:
            size = os.stat(path).st_size
        except FileNotFoundError:
            raise self.damaged(f"its vector file {os.path.basename(path)} is missing") from None
        if size < end:
            raise self.damaged(
                f"its vector file {os.path.basename(path)} holds {size} bytes, its records"
                f" need {end}"
            )

    def index_uid(self) -> str:
        """The random id the index got at creation (ties its saved graph to it); an index
        made before ids existed gets one now."""
        uid = self.get_meta(UID_KEY)
        if isinstance(uid, str) and uid:
            return uid
        try:
            with self.transaction():
                uid = self.get_meta(UID_KEY)
                if not (isinstance(uid, str) and uid):
                    uid = uuid.uuid4().hex
                    self.set_meta(UID_KEY, uid)
        except sqlite3.OperationalError:
            # e.g. a read-only store: an id for this session only (saved graphs are rebuilt)
            return uuid.uuid4().hex
        return str(uid)

    def close(self) -> None:
        self.conn.close()
        if self._vfd is not None:
            os.close(self._vfd)
            self._vfd = None

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

    def insert_block(
        self, seqs: list[int], uuids: list[str], matrix: Any, props_json: list[str]
    ) -> None:
        """Insert rows whose vectors (``matrix``: C-contiguous float32, one row per record,
        as sent) go to the vector file: appended and fsynced here, before the caller's
        transaction commits; each row holds a pointer. Call inside a transaction."""
        k = len(seqs)
        if k == 0:
            return
        data = memoryview(matrix).cast("B")
        step = len(data) // k
        uid = self.get_meta(UID_KEY)
        if not (isinstance(uid, str) and uid):
            uid = uuid.uuid4().hex
            self.set_meta(UID_KEY, uid)
        start = self.get_meta(VEC_END_KEY) or 0
        fd = self._vector_fd(uid, create=True)
        _pwrite_all(fd, data, start)
        os.fsync(fd)  # durable before the rows that point at it commit
        self.set_meta(VEC_END_KEY, start + len(data))
        offsets = np.arange(start, start + k * step, step, dtype="<u8")
        ptrs = np.empty(k, dtype=np.dtype([("tag", "S3"), ("offset", "<u8")]))
        ptrs["tag"] = _PTR_TAG
        ptrs["offset"] = offsets
        raw = ptrs.tobytes()
        size = POINTER_SIZE
        blobs = [raw[i : i + size] for i in range(0, k * size, size)]
        self.conn.executemany(
            "INSERT INTO records(seq, uuid, vector, props) VALUES (?, ?, ?, ?)",
            zip(seqs, uuids, blobs, props_json, strict=True),
        )

    def _vector_path(self, uid: str) -> str:
        return os.path.join(os.path.dirname(self.path), VECTOR_FILE.format(uid=uid))

    def _vector_fd(self, uid: str, *, create: bool = False) -> int:
        name = self._vector_path(uid)
        if self._vfd is not None and self._vname == name:
            return self._vfd
        if self._vfd is not None:
            os.close(self._vfd)
            self._vfd = None
        try:
            fd = os.open(name, os.O_RDWR | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            if not create:
                raise self.damaged(f"its vector file {os.path.basename(name)} is missing") from None
            fd = os.open(name, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
            _fsync_dir(os.path.dirname(name))  # the new file's entry survives power loss
        except PermissionError:
            fd = os.open(name, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        self._vfd, self._vname = fd, name
        return fd

    def _resolve(self, rows: list[Any], at: int) -> list[Any]:
        """``rows`` with the pointer at tuple position ``at`` replaced by the vector bytes
        it points to (rows holding their vector inline are left as they are)."""
        marked = [
            i
            for i, r in enumerate(rows)
            if r[at] is not None and len(r[at]) == POINTER_SIZE and r[at][:3] == _PTR_TAG
        ]
        if not marked:
            return rows
        uid = self.get_meta(UID_KEY)
        fd = self._vector_fd(str(uid))
        settings = self.get_meta("settings") or {}
        step = 4 * int(settings.get("dimensions") or 0)
        offsets = [_PTR.unpack(rows[i][at])[1] for i in marked]
        lo, hi = min(offsets), max(offsets) + step
        out = list(rows)
        if hi - lo <= _SPAN_SLACK * step * len(marked):
            buf = os.pread(fd, hi - lo, lo)
            if len(buf) < hi - lo:
                raise self.damaged("its vector file is shorter than its records need")
            for i, off in zip(marked, offsets, strict=True):
                r = out[i]
                a = off - lo
                out[i] = (*r[:at], buf[a : a + step], *r[at + 1 :])
            return out
        for i, off in zip(marked, offsets, strict=True):
            vec = os.pread(fd, step, off)
            if len(vec) < step:
                raise self.damaged("its vector file is shorter than its records need")
            r = out[i]
            out[i] = (*r[:at], vec, *r[at + 1 :])
        return out

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
            rows = self.conn.execute(
                f"SELECT {cols} FROM records WHERE seq IN ({marks})", chunk
            ).fetchall()
            if with_vector:
                rows = self._resolve(rows, 3)
            for seq, uid, props, vec in rows:
                out[seq] = (uid, props, vec)
        return out

    def count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM records").fetchone()[0])

    def scan(self, chunk: int = 8192) -> Iterator[list[tuple[int, str, bytes, str]]]:
        """Every record in sequence order, streamed in chunks (never all at once)."""
        cur = self.conn.execute("SELECT seq, uuid, vector, props FROM records ORDER BY seq")
        while rows := cur.fetchmany(chunk):
            yield self._resolve(rows, 2)


def create(path: str, settings: dict[str, Any]) -> None:
    """Create the index database at ``path`` whole: built under a temporary name, then
    linked into place, so no reader ever sees a half-made one. When another process
    linked its own first, that one stands (the caller checks its settings)."""
    tmp = f"{path}{CREATING}{os.getpid()}-{uuid.uuid4().hex}"
    try:
        store = Store(tmp, create=True)
        try:
            with store.transaction():
                store.set_meta("settings", settings)
                store.set_meta("next_seq", 1)
                store.set_meta(UID_KEY, uuid.uuid4().hex)
        finally:
            store.close()  # the last connection checkpoints the WAL into the file (synced)
        try:
            os.link(tmp, path)  # unlike rename, never replaces a database linked meanwhile
        except FileExistsError:
            return
        except OSError:  # no hard links on this file system
            if os.path.exists(path):
                return
            os.rename(tmp, path)
        _fsync_dir(os.path.dirname(path))
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(tmp + suffix)


def check_no_leftovers(directory: str, path: str) -> None:
    """The database ``path`` is missing: fine when its directory is gone or empty (the
    index does not exist), damage when the directory still holds the index's other files
    (write-ahead log, graph)."""
    try:
        names = os.listdir(directory)
    except (FileNotFoundError, NotADirectoryError):
        return
    others = sorted(name for name in names if CREATING not in name)
    if os.path.basename(path) in others:
        return  # linked into place meanwhile by a creator
    if others:
        shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
        raise StorageError.damaged(path, f"is missing while its directory holds {shown}")


def drop_index_dir(directory: str) -> None:
    """Remove an index's directory: renamed first, so a concurrent open never sees a
    half-deleted directory."""
    watch.note_drop()  # the open indexes of this process check their files again
    parent = os.path.dirname(directory)
    tomb = os.path.join(parent, f"{TOMB_PREFIX}{os.getpid()}-{time.time_ns()}")
    os.rename(directory, tomb)
    shutil.rmtree(tomb, ignore_errors=True)


def _check_header(path: str) -> None:
    """``StorageError`` for a file SQLite would take for a new empty database (0 bytes)
    or that is not SQLite at all; ``FileNotFoundError`` when it is missing."""
    try:
        with open(path, "rb") as f:
            head = f.read(len(_MAGIC))
    except IsADirectoryError:
        raise StorageError.damaged(path, "is a directory, not a database file") from None
    if not head:
        raise StorageError.damaged(path, "is empty (0 bytes)")
    if head != _MAGIC:
        raise StorageError.damaged(path, "is not an SQLite database (wrong file header)")


def _is_damage(exc: BaseException) -> bool:
    """SQLite errors that mean a bad file ("not a database", "malformed"); operational
    ones (locked, busy, I/O) are not."""
    return isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError)


def _json(raw: Any) -> Any:
    if not isinstance(raw, str):
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _pwrite_all(fd: int, data: memoryview, offset: int) -> None:
    done = 0
    while done < len(data):
        done += os.pwrite(fd, data[done:], offset + done)


def _fsync_dir(directory: str) -> None:
    """Make a new directory entry survive power loss (not all systems can)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


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
