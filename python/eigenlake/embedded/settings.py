"""``index.settings``: what the index was created with (plus properties added by update)."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .index import Index


class Settings:
    def __init__(self, index: Index) -> None:
        self._index = index

    def dimensions(self) -> int:
        with self._index._lock:
            self._index._sync()
            return self._index.dimensions

    def schema(self) -> dict[str, Any]:
        with self._index._lock:
            self._index._sync()
            return copy.deepcopy(self._index._schema.source)

    def shards(self) -> dict[str, Any]:
        """One local shard holds everything; ``shard_count`` is kept as requested."""
        index = self._index
        with index._lock:
            index._sync()
            return {
                "shard_count": int(index.config.get("shard_count", 1)),
                "shards": [{"id": 0, "records": index._cache.live_count}],
            }

    def all(self) -> dict[str, Any]:
        """The wire protocol's settings answer: ``{"dims", "schema", "shards"}``."""
        return {"dims": self.dimensions(), "schema": self.schema(), "shards": self.shards()}
