"""``index.batch.with_size(...)``, written once over ``index.records.add_many``: every mode
(embedded, remote, distributed) gets the same buffering, ids and error reporting."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ..ids import canonical_id, new_ids
from .checks import check_choice, check_int
from .results import FailedRecord

if TYPE_CHECKING:
    from .protocols import Records


class Batch:
    """``index.batch``; ``records`` gives the index's ``records`` part when a batch flushes."""

    def __init__(self, records: Callable[[], Records]) -> None:
        self._records = records
        # the last writer's failures, kept after its block ends (the hosted client's habit)
        self.failed_records: list[FailedRecord] = []

    @property
    def number_errors(self) -> int:
        return len(self.failed_records)

    def with_size(
        self, *, batch_size: int = 200, max_workers: int = 1, on_error: str = "continue"
    ) -> BatchWriter:
        """A context manager whose ``add`` buffers records and stores them ``batch_size`` at
        a time; leaving the block stores the rest (an exception inside it drops them).

        >>> with index.batch.with_size(batch_size=500) as batch:  # doctest: +SKIP
        ...     for row in rows:
        ...         batch.add(properties=row["props"], vector=row["vec"])
        >>> batch.number_errors  # doctest: +SKIP
        0
        """
        # checked now: a bad setting found at the first flush would lose the buffered adds
        size = check_int("batch_size", batch_size, minimum=1) or 1
        check_int("max_workers", max_workers, minimum=1)
        check_choice("on_error", on_error, ("raise", "continue"))
        return BatchWriter(self, size, on_error)


class BatchWriter:
    """Buffers ``add`` calls; ``failed_records``/``number_errors`` report what was refused."""

    def __init__(self, owner: Batch, batch_size: int, on_error: str) -> None:
        self._owner = owner
        self.batch_size = batch_size
        self.on_error = on_error
        self._buffer: list[dict[str, Any]] = []
        self.failed_records: list[FailedRecord] = []
        self.uuids: list[str] = []

    @property
    def number_errors(self) -> int:
        return len(self.failed_records)

    def add(
        self, *, properties: dict[str, Any] | None = None, vector: Any = None, id: Any = None
    ) -> str:
        """Buffer one record; returns its uuid (a new uuid4 when none is given). ``vector``
        None: an index with an embedder embeds the record's text property."""
        uid = canonical_id(id) if id is not None else new_ids(1)[0]
        self._buffer.append({"properties": properties, "vector": vector, "id": uid})
        if len(self._buffer) >= self.batch_size:
            self.flush()
        return uid

    def flush(self) -> None:
        """Store what is buffered now."""
        records, self._buffer = self._buffer, []
        if not records:
            return
        result = self._owner._records().add_many(
            records, on_error=self.on_error, batch_size=self.batch_size
        )
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
        self._owner.failed_records = list(self.failed_records)
