"""``index.manage``: drop the index, remove records by filter."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from ..errors import StorageError

if TYPE_CHECKING:
    from .index import Index


class Manage:
    def __init__(self, index: Index) -> None:
        self._index = index

    def delete(self) -> dict[str, Any]:
        """Drop the index and its files; later use of it raises ``NotFoundError``."""
        from .indexes import drop_index_dir

        index = self._index
        with index._lock:
            # NotFoundError when there is nothing to drop; a damaged index can still be
            # dropped, which is what its StorageError advises
            with contextlib.suppress(StorageError):
                index._ensure_open()
            index._drop_handles()
            drop_index_dir(index._dir)
            index._closed = True
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
