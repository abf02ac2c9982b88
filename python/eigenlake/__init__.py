"""EigenLake: an open vector database for analysing embedded collections.

``connect()`` opens an embedded store on disk; ``connect(url=...)`` a remote server.
Both return clients with the same methods, results and exceptions.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from . import errors, schema
from .errors import (
    APIError,
    AuthenticationError,
    ConflictError,
    EigenlakeError,
    NetworkError,
    NotFoundError,
    StorageError,
    ValidationError,
)

if TYPE_CHECKING:
    from .embedded.client import EmbeddedClient
    from .remote.aio import AsyncClient
    from .remote.client import RemoteClient

__version__ = "0.1.0"

# Silent unless the application configures logging, as a library should be: what was
# built, cut by a limit, retried or slow goes to logging.getLogger("eigenlake").
logging.getLogger("eigenlake").addHandler(logging.NullHandler())


def connect(
    *,
    url: str | None = None,
    api_key: str | None = None,
    path: str | None = None,
    timeout: float = 20.0,
    retries: int = 2,
) -> EmbeddedClient | RemoteClient:
    """Open a client.

    ``url=None`` opens the embedded store in the directory ``path`` (default:
    ``$EIGENLAKE_PATH``, else the user's data directory). An ``http(s)://`` url opens a
    remote client of an ``eigenlake serve`` server.
    """
    if url is None:
        from .embedded.client import EmbeddedClient

        return EmbeddedClient(path=path)
    from .remote.client import RemoteClient

    return RemoteClient(url=url, api_key=api_key, timeout=timeout, retries=retries)


def connect_async(
    *, url: str, api_key: str | None = None, timeout: float = 20.0, retries: int = 2
) -> AsyncClient:
    """An async client of an ``eigenlake serve`` server: the remote surface with ``await``
    (``await idx.search.nearest(...)``), over ``httpx.AsyncClient``; ``async with``
    closes it.

    >>> async with eigenlake.connect_async(url="http://localhost:8000") as client:  # doctest: +SKIP
    ...     idx = await client.indexes.open(namespace="ns", index="docs")
    """
    from .remote.aio import AsyncClient

    return AsyncClient(url, api_key=api_key, timeout=timeout, retries=retries)


def connect_local(
    *,
    host: str = "http://localhost",
    port: int = 8000,
    api_key: str | None = None,
    timeout: float = 20.0,
    retries: int = 2,
) -> RemoteClient:
    """A remote client of a server on this machine (``eigenlake serve``)."""
    from .remote.client import RemoteClient

    return RemoteClient(url=f"{host}:{port}", api_key=api_key, timeout=timeout, retries=retries)


# The compiled core is imported on first use, not here: a remote client never loads it.


def build_info() -> dict[str, Any]:
    """Version, active SIMD kernel set (``simd``), thread count and CPU architecture."""
    from . import _core

    return dict(_core.build_info())


def set_num_threads(n: int) -> None:
    """Resize the compute thread pool (0 = the default); at most 4096 threads."""
    from . import _core

    _core.set_num_threads(n)


__all__ = [
    "connect",
    "connect_local",
    "connect_async",
    "build_info",
    "set_num_threads",
    "schema",
    "errors",
    "EigenlakeError",
    "AuthenticationError",
    "NotFoundError",
    "ConflictError",
    "ValidationError",
    "APIError",
    "NetworkError",
    "StorageError",
]
