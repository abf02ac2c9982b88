"""Result types every mode returns: ``add_many``'s ``AddManyResult`` (the stored uuids, a
list) and the ``FailedRecord`` entries of what was refused."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass
class FailedRecord:
    """A record ``add_many`` did not store: its id (when known) and why."""

    id: str | None
    error: str
    position: int | None = None


class AddManyResult(list[str]):
    """The uuids stored by ``add_many``, plus the records that failed."""

    def __init__(self, uuids: Iterable[str] = (), failed: list[FailedRecord] | None = None):
        super().__init__(uuids)
        self.failed_records: list[FailedRecord] = failed or []

    @property
    def number_errors(self) -> int:
        return len(self.failed_records)


__all__ = ["AddManyResult", "FailedRecord"]
