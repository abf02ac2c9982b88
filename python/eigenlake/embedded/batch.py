"""``index.batch.with_size(...)``: buffer ``add`` calls and flush them in batches."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Any

from .._args import check_int
from ..ids import canonical_id, new_ids
from .ingest import check_mode
from .records import FailedRecord

if TYPE_CHECKING:
    from .index import Index


class Batch:
    def __init__(self, index: Index) -> None:
        self._index = index

    def with_size(
        self, *, batch_size: int = 200, max_workers: int = 1, on_error: str = "continue"
    ) -> BatchWriter:
        # checked now: a bad setting found at the first flush would lose the buffered adds
        check_int("batch_size", batch_size, minimum=1)
        check_int("max_workers", max_workers, minimum=1)
        check_mode("on_error", on_error, ("raise", "continue"))
        return BatchWriter(self._index, batch_size=batch_size, on_error=on_error)


class BatchWriter:
    """Context manager; leaving it flushes what is buffered."""

    def __init__(self, index: Index, *, batch_size: int, on_error: str) -> None:
        self._index = index
        self.batch_size = max(int(batch_size), 1)
        self.on_error = on_error
        self._buffer: list[dict[str, Any]] = []
        self.failed_records: list[FailedRecord] = []
        self.uuids: list[str] = []

    @property
    def number_errors(self) -> int:
        return len(self.failed_records)

    def add(self, *, properties: dict[str, Any] | None = None, vector: Any, id: Any = None) -> str:
        """Buffer one record; returns its uuid (a new uuid4 when none is given)."""
        uid = canonical_id(id) if id is not None else new_ids(1)[0]
        self._buffer.append({"properties": properties, "vector": vector, "id": uid})
        if len(self._buffer) >= self.batch_size:
            self.flush()
        return uid

    def flush(self) -> None:
        records, self._buffer = self._buffer, []
        if not records:
            return
        result = self._index.records.add_many(records, on_error=self.on_error)
        self.uuids.extend(result)
        self.failed_records.extend(result.failed_records)

    def __enter__(self) -> BatchWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.flush()
