"""``index.manage``: drop the index, remove records by filter."""

from __future__ import annotations

from typing import Any

from .internal import IndexAccess


class Manage:
    def __init__(self, index: IndexAccess) -> None:
        self._index = index

    def delete(self) -> dict[str, Any]:
        """Drop the index and its files; later use of it raises ``NotFoundError``."""
        self._index.drop()
        return {"deleted": True}

    def remove_by_filter(
        self,
        *,
        filter: dict[str, Any],
        limit: int | None = None,
        on_missing: str = "skip",
        **_: Any,
    ) -> dict[str, int]:
        """``records.remove_many`` by another name (the wire's delete-by-filter); the
        arguments are checked there. Other keywords of the protocol are accepted."""
        return self._index.records.remove_many(filter=filter, limit=limit, on_missing=on_missing)
