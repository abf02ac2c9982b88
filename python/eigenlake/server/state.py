"""What the routes share: the embedded client, the key ring, the delete jobs."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from .auth import KeyRing
from .jobs import Jobs
from .usage import Ledger

if TYPE_CHECKING:
    from ..api import protocols as api


class ServerState:
    """Holds the embedded store behind the server.

    The embedded Index locks itself per call, so requests run concurrently on the
    threadpool; ``lock`` only orders index creation and deletion.
    """

    def __init__(
        self, client: api.Client, keys: KeyRing | None = None, *, owns_client: bool = False
    ) -> None:
        self.client = client
        self.owns_client = owns_client
        self.keys = keys or KeyRing()
        self.jobs = Jobs()
        self.lock = threading.RLock()
        root = getattr(client, "path", None)  # the embedded store's folder
        self.usage = Ledger(str(root) if root else None)

    def index(self, namespace: str, name: str) -> api.Index:
        """The opened index (the client caches it), or NotFoundError (404)."""
        return self.client.indexes.open(namespace=namespace, index=name)

    def shutdown(self) -> None:
        """Finish queued jobs; close the store only if this server opened it."""
        self.jobs.drain()
        self.usage.save()
        if self.owns_client:
            with self.lock:
                self.client.close()
