"""``index.manage``: drop the index; ``remove_by_filter`` is written once in
``api.protocols.Manage`` (it is ``records.remove_many``)."""

from __future__ import annotations

from typing import Any

from ..api.protocols import Manage as ManageSurface
from ..api.protocols import Records
from .internal import IndexAccess


class Manage(ManageSurface):
    def __init__(self, index: IndexAccess) -> None:
        self._index = index

    @property
    def _records(self) -> Records:
        return self._index.records

    def delete(self) -> dict[str, Any]:
        """Drop the index and its files; later use of it raises ``NotFoundError``."""
        self._index.drop()
        return {"deleted": True}
