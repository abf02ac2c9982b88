"""mypy's check that every mode implements the one surface (``api/protocols.py``).

Nothing here runs: each function only asks mypy whether a mode's class can stand where the
protocol is expected. A drift (a missing method, a renamed or retyped argument) fails
``make lint``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .api import protocols as api
    from .embedded.client import EmbeddedClient
    from .embedded.index import Index as EmbeddedIndex
    from .remote.client import RemoteClient
    from .remote.index import RemoteIndex

    def embedded_client(c: EmbeddedClient) -> api.Client:
        return c

    def embedded_index(i: EmbeddedIndex) -> api.Index:
        return i

    def remote_client(c: RemoteClient) -> api.Client:
        return c

    def remote_index(i: RemoteIndex) -> api.Index:
        return i

    from .remote.client import RemoteIndexes

    def remote_indexes(i: RemoteIndexes) -> api.Indexes:
        return i

    from .distributed.client import ShardedClient, ShardedIndexes
    from .distributed.sharded import ShardedIndex

    def distributed_client(c: ShardedClient) -> api.Client:
        return c

    def distributed_indexes(i: ShardedIndexes) -> api.Indexes:
        return i

    def distributed_index(i: ShardedIndex) -> api.Index:
        return i
