"""What the routes share: the embedded client, opened indexes, the key ring, jobs."""

from __future__ import annotations

import threading
from typing import Any

from ..errors import NotFoundError
from .auth import KeyRing
from .jobs import Jobs


class ServerState:
    """Holds the embedded store behind the server.

    Every call into the store goes through ``self.lock``: the embedded Index is written
    for one caller at a time, and the heavy compute inside it releases the GIL anyway.
    """

    def __init__(
        self, client: Any, keys: KeyRing | None = None, *, owns_client: bool = False
    ) -> None:
        self.client = client
        self.owns_client = owns_client
        self.keys = keys or KeyRing()
        self.jobs = Jobs()
        self.lock = threading.RLock()
        self._indexes: dict[tuple[str, str], Any] = {}

    def index(self, namespace: str, name: str) -> Any:
        """The opened index, or NotFoundError (404)."""
        key = (namespace, name)
        with self.lock:
            idx = self._indexes.get(key)
            if idx is None:
                idx = self.client.indexes.open(namespace=namespace, index=name)
                self._indexes[key] = idx
            return idx

    def remember(self, namespace: str, name: str, idx: Any) -> None:
        with self.lock:
            self._indexes[(namespace, name)] = idx

    def forget(self, namespace: str, name: str) -> None:
        with self.lock:
            self._indexes.pop((namespace, name), None)

    def shutdown(self) -> None:
        """Finish queued jobs; close the store only if this server opened it."""
        self.jobs.drain()
        if not self.owns_client:
            return
        with self.lock:
            self._indexes.clear()
            close = getattr(self.client, "close", None)
            if close is not None:
                close()


__all__ = ["ServerState", "NotFoundError"]
