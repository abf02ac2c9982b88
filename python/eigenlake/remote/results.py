"""Result types shared with the embedded client (re-exported from there when present)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass
class FailedRecord:
    id: str
    error: str


class AddManyResult(list[str]):
    """The inserted uuids, plus the records that failed (``on_error="continue"``)."""

    def __init__(
        self, ids: Iterable[str] = (), *, failed_records: list[FailedRecord] | None = None
    ):
        super().__init__(ids)
        self.failed_records: list[FailedRecord] = list(failed_records or [])

    @property
    def number_errors(self) -> int:
        return len(self.failed_records)
