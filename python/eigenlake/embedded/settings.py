"""``index.settings``: what the index was created with (plus properties added by update)."""

from __future__ import annotations

import copy
from typing import Any

from ..api.protocols import Settings as SettingsSurface
from .internal import IndexAccess


class Settings(SettingsSurface):
    def __init__(self, index: IndexAccess) -> None:
        self._index = index

    def dimensions(self) -> int:
        with self._index.reading() as view:
            return view.dimensions

    def metric(self) -> str:
        with self._index.reading() as view:
            return view.metric

    def schema(self) -> dict[str, Any]:
        with self._index.reading() as view:
            return copy.deepcopy(view.schema.source)

    def shards(self) -> dict[str, Any]:
        """One local shard holds everything; ``shard_count`` is kept as requested."""
        with self._index.reading() as view:
            return {
                "shard_count": int(view.config.get("shard_count", 1)),
                "shards": [{"id": 0, "records": view.cache.live_count}],
            }
