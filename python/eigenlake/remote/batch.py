"""`index.batch.with_size(...)`: buffer records client-side, send them in insert-many calls."""

from __future__ import annotations

import uuid
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .._args import check_choice, check_int
from ..ids import canonical_id
from .results import FailedRecord

if TYPE_CHECKING:
    from .index import RemoteIndex


class RemoteBatch:
    def __init__(self, index: RemoteIndex) -> None:
        self._i = index
        self.failed_records: list[FailedRecord] = []

    def with_size(
        self, *, batch_size: int = 200, max_workers: int = 1, on_error: str = "continue"
    ) -> BatchWriter:
        # checked now, as embedded: a bad setting found at the first flush would lose the
        # buffered adds
        check_int("batch_size", batch_size, minimum=1)
        check_int("max_workers", max_workers, minimum=1)
        check_choice("on_error", on_error, ("raise", "continue"))
        return BatchWriter(self, int(batch_size), on_error)


class BatchWriter:
    def __init__(self, owner: RemoteBatch, batch_size: int, on_error: str) -> None:
        self._owner = owner
        self._size = batch_size
        self._on_error = on_error
        self._buffer: list[dict[str, Any]] = []
        self.failed_records: list[FailedRecord] = []
        self.uuids: list[str] = []

    @property
    def number_errors(self) -> int:
        return len(self.failed_records)

    def __enter__(self) -> BatchWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:  # as embedded: an exception inside the block discards the buffer
            self.flush()
        self._owner.failed_records = list(self.failed_records)

    def add(self, *, properties: dict[str, Any] | None = None, vector: Any, id: Any = None) -> str:
        """Buffer one record; returns its uuid (a new uuid4 when none is given)."""
        rid = canonical_id(id) if id is not None else str(uuid.uuid4())
        self._buffer.append({"properties": properties, "vector": vector, "id": rid})
        if len(self._buffer) >= self._size:
            self.flush()
        return rid

    def flush(self) -> None:
        if not self._buffer:
            return
        pending, self._buffer = self._buffer, []
        result = self._owner._i.records.add_many(
            pending, on_error=self._on_error, batch_size=self._size
        )
        self.uuids += result
        self.failed_records += result.failed_records
