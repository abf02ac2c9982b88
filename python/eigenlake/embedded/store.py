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

A bulk write whose seqs run without gaps is stored as *segments* rather than rows: one
``segments`` row per up to ``SEGMENT_ROWS`` records holds their first seq and count, where
their vectors start in the vector file (back to back), their uuids as one text (36
characters each) and their property JSON texts concatenated, with the end of each in
``ends``. One insert per segment instead of one per record is most of what makes bulk
ingest fast. A seq is in exactly one of ``records`` and ``segments``. Changing or removing
a record of a segment first turns that segment into ordinary rows (pointers to the same
vectors), so every other write sees rows as before; reads that take several statements
run in one read transaction, so they never see a segment half turned into rows.
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
from .background import Background

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL,
    vector BLOB NOT NULL,
    props TEXT NOT NULL
);
"""
# Bulk-written records, SEGMENT_ROWS at most a row (see the module docstring). Created with
# the database, or by the first bulk write into a store made before segments existed.
_SEGMENTS = """
CREATE TABLE IF NOT EXISTS segments (
    first_seq INTEGER PRIMARY KEY,
    count INTEGER NOT NULL,
    vec_start INTEGER NOT NULL,
    uuids TEXT NOT NULL,
    props TEXT NOT NULL,
    ends BLOB NOT NULL
);
"""
SEGMENT_ROWS = 8192
_UUID_LEN = 36
_COLUMNS = {"meta": {"key", "value"}, "records": {"seq", "uuid", "vector", "props"}}
_SEGMENT_COLUMNS = {"first_seq", "count", "vec_start", "uuids", "props", "ends"}
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
        self._segmented = create  # the segments table exists (once seen, it stays)
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
                _retry_locked(lambda: self.conn.executescript(_SCHEMA + _SEGMENTS))
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
            segmented = "segments" in tables
            if segmented:
                have = {row[1] for row in self.conn.execute("PRAGMA table_info(segments)")}
                if not have >= _SEGMENT_COLUMNS:
                    raise self.damaged(
                        f"table 'segments' lacks column(s) {sorted(_SEGMENT_COLUMNS - have)}"
                    )
            self._segmented = segmented
            # one statement, one snapshot: a writer committing between two reads would
            # make the counter look behind its records
            last_in_segments = (
                "(SELECT MAX(first_seq + count - 1) FROM segments)" if segmented else "NULL"
            )
            raw_settings, raw_next, last_row, last_seg = self.conn.execute(
                "SELECT (SELECT value FROM meta WHERE key = 'settings'),"
                " (SELECT value FROM meta WHERE key = 'next_seq'),"
                f" (SELECT MAX(seq) FROM records), {last_in_segments}"
            ).fetchone()
            last = max((v for v in (last_row, last_seg) if v is not None), default=None)
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
            self._segmented = False  # a segments table made in it is gone: look again
            raise
        self.conn.execute("COMMIT")

    @contextmanager
    def _snapshot(self) -> Iterator[None]:
        """Reads of several statements see one state of the database (another process may
        turn a segment into rows between two of them): inside a transaction they do
        already, otherwise a read transaction is held for them."""
        if self.conn.in_transaction:
            yield
            return
        self.conn.execute("BEGIN")
        try:
            yield
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
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
        with self.vector_block(matrix) as block:
            self.insert_pointed(block, seqs, uuids, RowTexts.of(props_json))

    @contextmanager
    def vector_block(self, matrix: Any) -> Iterator[VectorBlock]:
        """Start appending ``matrix`` (C-contiguous float32, a row per record) to the
        vector file on a worker thread, so the caller can encode and insert its rows
        meanwhile (``pwrite`` and ``fsync`` run without the GIL). On exit the write is
        waited for, even when the body failed (a later block must not race it), and
        re-raised if it failed; on success ``meta.vec_end`` moves past it. Call inside a
        transaction: the rows pointing at the block commit after its bytes are on disk."""
        data = memoryview(matrix).cast("B")
        uid = self.get_meta(UID_KEY)
        if not (isinstance(uid, str) and uid):
            uid = uuid.uuid4().hex
            self.set_meta(UID_KEY, uid)
        start = int(self.get_meta(VEC_END_KEY) or 0)
        fd = self._vector_fd(uid, create=True)
        block = VectorBlock(fd, data, start)
        try:
            yield block
        except BaseException:
            with contextlib.suppress(Exception):
                block.wait()  # the body's error is the one to report
            raise
        block.wait()
        self.set_meta(VEC_END_KEY, start + len(data))

    def insert_pointed(
        self, block: VectorBlock, seqs: list[int], uuids: list[str], props: RowTexts
    ) -> None:
        """Insert records whose vectors are ``block``'s rows, in order: as segments when
        their seqs run without gaps (the bulk case), else as rows holding a pointer each."""
        k = len(seqs)
        if k == 0:
            return
        step = len(block.data) // k
        if seqs[-1] - seqs[0] != k - 1 or seqs != sorted(seqs):
            self._insert_pointers(block.start, step, seqs, uuids, props.rows(0, k))
            return
        if not self._has_segments():
            self.conn.execute(_SEGMENTS)  # a store made before segments: in this transaction
            self._segmented = True
        for a, b in _segment_bounds(np.diff(props.ends)):
            ids = "".join(uuids[a:b])
            if len(ids) != _UUID_LEN * (b - a):  # not all canonical uuids: plain rows
                self._insert_pointers(
                    block.start + a * step, step, seqs[a:b], uuids[a:b], props.rows(a, b)
                )
                continue
            text, ends = props.span(a, b)
            self.conn.execute(
                "INSERT INTO segments(first_seq, count, vec_start, uuids, props, ends)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (seqs[a], b - a, block.start + a * step, ids, text, ends),
            )

    def _insert_pointers(
        self, start: int, step: int, seqs: list[int], uuids: list[str], props_json: list[str]
    ) -> None:
        """Rows whose vectors sit back to back in the vector file from ``start``."""
        k = len(seqs)
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

    # ---- segments: records of a bulk write, SEGMENT_ROWS to a database row ---------------

    def _has_segments(self) -> bool:
        """Whether the segments table exists (a store made before segments gets it with its
        first bulk write; once there it stays)."""
        if not self._segmented:
            self._segmented = (
                self.conn.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'segments'"
                ).fetchone()
                is not None
            )
        return self._segmented

    def _segment_table(self) -> np.ndarray:
        """(first_seq, count, vec_start) of every segment, in seq order, as an (s, 3) array."""
        if not self._has_segments():
            return np.empty((0, 3), dtype=np.int64)
        rows = self.conn.execute(
            "SELECT first_seq, count, vec_start FROM segments ORDER BY first_seq"
        ).fetchall()
        return np.array(rows, dtype=np.int64).reshape(-1, 3)

    def _by_segment(self, seqs: list[int]) -> list[tuple[int, int, int, list[int]]]:
        """The segments holding any of ``seqs``: (first_seq, count, vec_start, positions of
        those seqs in it)."""
        table = self._segment_table()
        if not len(table) or not seqs:
            return []
        arr = np.asarray(seqs, dtype=np.int64)
        at = np.searchsorted(table[:, 0], arr, side="right") - 1
        ok = at >= 0
        ok[ok] &= arr[ok] < table[at[ok], 0] + table[at[ok], 1]
        out = []
        for s in np.unique(at[ok]).tolist():
            first, count, vec_start = table[s].tolist()
            positions = (arr[ok & (at == s)] - first).tolist()
            out.append((first, count, vec_start, positions))
        return out

    def _segment_texts(self, first: int) -> tuple[str, str, np.ndarray]:
        """A segment's uuid text, properties text and property ends (count + 1 offsets)."""
        row = self.conn.execute(
            "SELECT uuids, props, ends FROM segments WHERE first_seq = ?", (first,)
        ).fetchone()
        if row is None:
            raise self.damaged(f"its segment at seq {first} vanished during a read")
        ids, props, ends = row
        return ids, props, np.frombuffer(ends, dtype="<u4").astype(np.int64)

    def _explode(self, seqs: list[int]) -> None:
        """Turn the segments holding any of ``seqs`` into ordinary rows (each pointing at its
        vector, which stays where it is), so those records can change one by one. Call
        inside a transaction."""
        if not self._has_segments():
            return
        step = self._step()
        for first, count, vec_start, _ in self._by_segment(seqs):
            ids, props, ends = self._segment_texts(first)
            e = ends.tolist()
            self._insert_pointers(
                vec_start,
                step,
                list(range(first, first + count)),
                [ids[i : i + _UUID_LEN] for i in range(0, _UUID_LEN * count, _UUID_LEN)],
                [props[e[i] : e[i + 1]] for i in range(count)],
            )
            self.conn.execute("DELETE FROM segments WHERE first_seq = ?", (first,))

    def _step(self) -> int:
        """Bytes of one stored vector."""
        settings = self.get_meta("settings") or {}
        return 4 * int(settings.get("dimensions") or 0)

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
        self._explode(seqs)
        for chunk in _chunks(seqs, 900):
            marks = ",".join("?" * len(chunk))
            self.conn.execute(f"DELETE FROM records WHERE seq IN ({marks})", chunk)

    def update_props(self, seq: int, props_json: str) -> None:
        self._explode([seq])
        self.conn.execute("UPDATE records SET props = ? WHERE seq = ?", (props_json, seq))

    def fetch(self, seqs: list[int], with_vector: bool) -> dict[int, tuple[str, str, bytes | None]]:
        """seq -> (uuid, props json, vector blob or None)."""
        out: dict[int, tuple[str, str, bytes | None]] = {}
        cols = "seq, uuid, props, vector" if with_vector else "seq, uuid, props, NULL"
        with self._snapshot():
            for chunk in _chunks(seqs, 900):
                marks = ",".join("?" * len(chunk))
                rows = self.conn.execute(
                    f"SELECT {cols} FROM records WHERE seq IN ({marks})", chunk
                ).fetchall()
                if with_vector:
                    rows = self._resolve(rows, 3)
                for seq, uid, props, vec in rows:
                    out[seq] = (uid, props, vec)
            if len(out) < len(seqs) and self._has_segments():
                self._fetch_segmented([q for q in seqs if q not in out], with_vector, out)
        return out

    def _fetch_segmented(
        self,
        seqs: list[int],
        with_vector: bool,
        out: dict[int, tuple[str, str, bytes | None]],
    ) -> None:
        step = self._step()
        for first, count, vec_start, positions in self._by_segment(seqs):
            if 8 * len(positions) >= count:  # many of its records: read it whole
                ids, props, ends = self._segment_texts(first)
                for p in positions:
                    out[first + p] = (
                        ids[_UUID_LEN * p : _UUID_LEN * (p + 1)],
                        props[int(ends[p]) : int(ends[p + 1])],
                        None,
                    )
            else:  # a few: their slices only
                raw = self.conn.execute(
                    "SELECT ends FROM segments WHERE first_seq = ?", (first,)
                ).fetchone()
                ends = np.frombuffer(raw[0], dtype="<u4").tolist()
                for p in positions:
                    uid, props_text = self.conn.execute(
                        "SELECT substr(uuids, ?, ?), substr(props, ?, ?) FROM segments"
                        " WHERE first_seq = ?",
                        (_UUID_LEN * p + 1, _UUID_LEN, ends[p] + 1, ends[p + 1] - ends[p], first),
                    ).fetchone()
                    out[first + p] = (uid, props_text, None)
            if with_vector:
                offsets = [vec_start + p * step for p in positions]
                for p, vec in zip(positions, self._read_vectors(offsets, step), strict=True):
                    uid, props_text, _ = out[first + p]
                    out[first + p] = (uid, props_text, vec)

    def _read_vectors(self, offsets: list[int], step: int) -> list[bytes]:
        """The vectors at these file offsets: one read for a dense span, else one each."""
        fd = self._vector_fd(str(self.get_meta(UID_KEY)))
        lo, hi = min(offsets), max(offsets) + step
        if hi - lo <= _SPAN_SLACK * step * len(offsets):
            buf = os.pread(fd, hi - lo, lo)
            if len(buf) < hi - lo:
                raise self.damaged("its vector file is shorter than its records need")
            return [buf[o - lo : o - lo + step] for o in offsets]
        out = []
        for off in offsets:
            vec = os.pread(fd, step, off)
            if len(vec) < step:
                raise self.damaged("its vector file is shorter than its records need")
            out.append(vec)
        return out

    def vectors(self, seqs: list[int]) -> np.ndarray:
        """The stored vectors of ``seqs`` (every one must exist), as a (k, d) float32 matrix:
        runs of records written together are read with one ``pread`` each."""
        step = self._step()
        out = np.empty((len(seqs), step // 4), dtype=np.float32)
        flat = out.reshape(-1).view(np.uint8)
        with self._snapshot():
            offsets = self._segment_offsets(np.asarray(seqs, dtype=np.int64), step)
            unplaced = np.flatnonzero(offsets < 0)
            where = dict(zip(np.asarray(seqs)[unplaced].tolist(), unplaced.tolist(), strict=True))
            rest = list(where)
            for chunk in _chunks(rest, 900):
                marks = ",".join("?" * len(chunk))
                for seq, blob in self.conn.execute(
                    f"SELECT seq, vector FROM records WHERE seq IN ({marks})", chunk
                ):
                    i = where[seq]
                    if len(blob) == POINTER_SIZE and blob[:3] == _PTR_TAG:
                        offsets[i] = _PTR.unpack(blob)[1]
                    elif len(blob) == step:
                        flat[i * step : (i + 1) * step] = np.frombuffer(blob, dtype=np.uint8)
                        offsets[i] = -2  # read inline
            if (offsets == -1).any():
                missing = np.asarray(seqs)[offsets == -1][:3].tolist()
                raise self.damaged(f"records {missing} are missing or unreadable")
            pointed = np.flatnonzero(offsets >= 0)
            if len(pointed):
                self._read_runs(offsets, pointed, step, flat)
        return out

    def _segment_offsets(self, seqs: np.ndarray, step: int) -> np.ndarray:
        """Each seq's vector offset in the vector file when a segment holds it, else -1."""
        offsets = np.full(len(seqs), -1, dtype=np.int64)
        table = self._segment_table()
        if not len(table) or not len(seqs):
            return offsets
        at = np.searchsorted(table[:, 0], seqs, side="right") - 1
        ok = at >= 0
        ok[ok] &= seqs[ok] < table[at[ok], 0] + table[at[ok], 1]
        seg = table[at[ok]]
        offsets[ok] = seg[:, 2] + (seqs[ok] - seg[:, 0]) * step
        return offsets

    def _read_runs(
        self, offsets: np.ndarray, rows: np.ndarray, step: int, flat: np.ndarray
    ) -> None:
        """Copy the vectors at ``offsets[rows]`` into ``flat``'s rows ``rows``, one ``pread``
        per run of rows stored back to back."""
        fd = self._vector_fd(str(self.get_meta(UID_KEY)))
        order = rows[np.argsort(offsets[rows], kind="stable")]
        offs = offsets[order]
        breaks = np.flatnonzero(np.diff(offs) != step) + 1
        for run in np.split(np.arange(len(order)), breaks):
            start = int(offs[run[0]])
            size = step * len(run)
            dest = order[run]
            if len(dest) == 1 or bool((np.diff(dest) == 1).all()):
                a = int(dest[0]) * step  # rows in output order too: read in place
                got = _pread_into(fd, flat[a : a + size], start)
            else:
                buf = np.empty(size, dtype=np.uint8)
                got = _pread_into(fd, buf, start)
                flat.reshape(-1, step)[dest] = buf.reshape(len(run), step)
            if got < size:
                raise self.damaged("its vector file is shorter than its records need")

    def count(self) -> int:
        if not self._has_segments():
            return int(self.conn.execute("SELECT COUNT(*) FROM records").fetchone()[0])
        return int(
            self.conn.execute(
                "SELECT (SELECT COUNT(*) FROM records)"
                " + (SELECT COALESCE(SUM(count), 0) FROM segments)"
            ).fetchone()[0]
        )

    def scan(self, chunk: int = 8192) -> Iterator[list[tuple[int, str, bytes, str]]]:
        """Every record in sequence order, streamed in chunks (never all at once)."""
        for got in self.scan_blocks(chunk):
            yield got.rows() if isinstance(got, RowBlock) else got

    def scan_blocks(
        self, chunk: int = 8192
    ) -> Iterator[list[tuple[int, str, bytes, str]] | RowBlock]:
        """``scan``, with a segment's records as ``RowBlock``s (their texts as stored,
        back to back: no str per record)."""
        if not self._has_segments():
            yield from self._scan_rows(None, None, chunk)
            return
        with self._snapshot():
            after = None
            for first, count, vec_start in self._segment_table().tolist():
                yield from self._scan_rows(after, first, chunk)
                yield from self._scan_segment(first, count, vec_start, chunk)
                after = first + count
            yield from self._scan_rows(after, None, chunk)

    def _scan_rows(
        self, lo: int | None, hi: int | None, chunk: int
    ) -> Iterator[list[tuple[int, str, bytes, str]]]:
        """Records rows with ``lo <= seq < hi`` (None: unbounded), in seq order."""
        bounds = [(f"seq {op} ?", v) for op, v in ((">=", lo), ("<", hi)) if v is not None]
        where = " WHERE " + " AND ".join(b[0] for b in bounds) if bounds else ""
        cur = self.conn.execute(
            f"SELECT seq, uuid, vector, props FROM records{where} ORDER BY seq",
            [b[1] for b in bounds],
        )
        while rows := cur.fetchmany(chunk):
            yield self._resolve(rows, 2)

    def _scan_segment(
        self, first: int, count: int, vec_start: int, chunk: int
    ) -> Iterator[RowBlock]:
        ids, props, ends = self._segment_texts(first)
        step = self._step()
        fd = self._vector_fd(str(self.get_meta(UID_KEY)))
        for a in range(0, count, chunk):
            b = min(a + chunk, count)
            buf = os.pread(fd, step * (b - a), vec_start + a * step)
            if len(buf) < step * (b - a):
                raise self.damaged("its vector file is shorter than its records need")
            lo, hi = int(ends[a]), int(ends[b])
            yield RowBlock(
                first + a,
                ids[_UUID_LEN * a : _UUID_LEN * b],
                buf,
                step,
                RowTexts(props[lo:hi], ends[a : b + 1] - lo),
            )


class RowBlock:
    """Consecutive records ``first..first + len`` of a segment: their uuid texts back to
    back (``uuids``, 36 characters each), raw vectors (``vectors``, ``step`` bytes each)
    and property texts (``texts``)."""

    def __init__(self, first: int, uuids: str, vectors: bytes, step: int, texts: RowTexts):
        self.first = first
        self.uuids = uuids
        self.vectors = vectors
        self.step = step
        self.texts = texts

    def __len__(self) -> int:
        return len(self.uuids) // _UUID_LEN

    def uuid_list(self) -> list[str]:
        u = self.uuids
        return [u[i : i + _UUID_LEN] for i in range(0, len(u), _UUID_LEN)]

    def rows(self) -> list[tuple[int, str, bytes, str]]:
        """The records as ``scan`` gives them: (seq, uuid, vector bytes, props text)."""
        step, buf = self.step, self.vectors
        texts = self.texts.rows(0, len(self))
        return [
            (self.first + i, u, buf[i * step : (i + 1) * step], t)
            for i, (u, t) in enumerate(zip(self.uuid_list(), texts, strict=True))
        ]


class RowTexts:
    """The property JSON texts of consecutive rows, back to back in ``text``; row ``i`` is
    ``text[ends[i]:ends[i + 1]]`` (``ends``: n + 1 offsets from 0)."""

    def __init__(self, text: str, ends: np.ndarray) -> None:
        self.text = text
        self.ends = ends

    @classmethod
    def of(cls, texts: list[str]) -> RowTexts:
        ends = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)), out=ends[1:])
        return cls("".join(texts), ends)

    def rows(self, a: int, b: int) -> list[str]:
        e, text = self.ends.tolist(), self.text
        return [text[e[i] : e[i + 1]] for i in range(a, b)]

    def span(self, a: int, b: int) -> tuple[str, bytes]:
        """Rows ``a..b`` as a segment stores them: their text and its ends (uint32 from 0)."""
        lo = int(self.ends[a])
        return self.text[lo : int(self.ends[b])], (self.ends[a : b + 1] - lo).astype(
            "<u4"
        ).tobytes()


class VectorBlock:
    """Raw rows being appended to the vector file at ``start`` in the background (see
    ``Store.vector_block``)."""

    def __init__(self, fd: int, data: memoryview, start: int) -> None:
        self.data = data
        self.start = start
        self._job = Background(self._write, fd)

    def _write(self, fd: int) -> None:
        _pwrite_all(fd, self.data, self.start)
        os.fsync(fd)  # durable before the rows that point at it commit

    def wait(self) -> None:
        self._job.wait()


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


def _pread_into(fd: int, out: np.ndarray, offset: int) -> int:
    """Read ``len(out)`` bytes at ``offset`` straight into ``out`` (uint8, contiguous);
    returns how many were read (fewer only at the end of the file)."""
    view = memoryview(out.data)
    done = 0
    while done < len(view):
        got = os.preadv(fd, [view[done:]], offset + done)
        if got == 0:
            break
        done += got
    return done


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


# a segment's properties text stays well below SQLite's 1e9-byte limit on one value
_SEGMENT_TEXT = 64 << 20


def _segment_bounds(lengths: np.ndarray) -> list[tuple[int, int]]:
    """Row ranges [a, b) of at most SEGMENT_ROWS rows and _SEGMENT_TEXT characters of
    properties each (a lone larger row gets a segment of its own)."""
    out = []
    a, k = 0, len(lengths)
    while a < k:
        b = min(a + SEGMENT_ROWS, k)
        total = np.cumsum(lengths[a:b])
        over = int(np.searchsorted(total, _SEGMENT_TEXT, side="right"))
        b = a + max(1, min(over, b - a))
        out.append((a, b))
        a = b
    return out
