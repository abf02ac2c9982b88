"""EigenLake: an open vector database for analysing embedded collections.

``connect()`` opens an embedded store on disk; ``connect(url=...)`` a remote server.
Both return clients with the same methods, results and exceptions.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, overload

from . import errors, schema
from .errors import (
    APIError,
    AuthenticationError,
    ConflictError,
    EigenlakeError,
    NetworkError,
    NotFoundError,
    QuotaExceededError,
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


@overload
def connect(
    *,
    url: None = None,
    api_key: str | None = None,
    path: str | None = None,
    timeout: float = 20.0,
    retries: int = 2,
) -> EmbeddedClient: ...


@overload
def connect(
    *,
    url: str,
    api_key: str | None = None,
    path: str | None = None,
    timeout: float = 20.0,
    retries: int = 2,
) -> RemoteClient: ...


def connect(
    *,
    url: str | None = None,
    api_key: str | None = None,
    path: str | None = None,
    timeout: float = 20.0,
    retries: int = 2,
) -> EmbeddedClient | RemoteClient:
    """Open a client: an embedded store on disk, or a remote server.

    Parameters
    ----------
    url : str or None, default None
        None opens the embedded store; an ``http(s)://`` url opens a remote client of an
        ``eigenlake serve`` server.
    api_key : str or None, default None
        Remote: the server's API key (sent as the ``X-API-Key`` header); ignored when
        embedded.
    path : str or None, default None
        Embedded: the store's directory (default: ``$EIGENLAKE_PATH``, else the user's
        data directory); ignored when remote.
    timeout : float, default 20.0
        Remote: seconds each request may take.
    retries : int, default 2
        Remote: extra attempts, with backoff, of an idempotent request that failed on
        the network or with a 5xx.

    Returns
    -------
    EmbeddedClient or RemoteClient
        A client (a context manager) with ``indexes``, ``ready()`` and ``close()``. A
        remote client makes no request here: a server that cannot be reached raises
        ``NetworkError`` at the first call (``ready()`` answers False).

    Examples
    --------
    >>> with eigenlake.connect(path="./lake") as client:  # doctest: +SKIP
    ...     idx = client.indexes.open(namespace="demo", index="papers")
    """
    if url is None:
        from .embedded.client import EmbeddedClient

        return EmbeddedClient(path=path)
    from .remote.client import RemoteClient

    return RemoteClient(url=url, api_key=api_key, timeout=timeout, retries=retries)


def connect_async(
    *, url: str, api_key: str | None = None, timeout: float = 20.0, retries: int = 2
) -> AsyncClient:
    """An async client of an ``eigenlake serve`` server.

    The remote surface with ``await`` (``await idx.search.nearest(...)``), over
    ``httpx.AsyncClient``; ``async with`` closes it.

    Parameters
    ----------
    url : str
        The server's ``http(s)://`` url.
    api_key : str or None, default None
        The server's API key (sent as the ``X-API-Key`` header).
    timeout : float, default 20.0
        Seconds each request may take.
    retries : int, default 2
        Extra attempts, with backoff, of an idempotent request that failed on the
        network or with a 5xx.

    Returns
    -------
    AsyncClient
        The client: ``indexes`` and ``await ready()``/``close()``; no request is made
        here.

    Examples
    --------
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
    """A remote client of a server on this machine (``eigenlake serve``).

    Parameters
    ----------
    host : str, default "http://localhost"
        The server's scheme and host; the url is ``f"{host}:{port}"``.
    port : int, default 8000
        The server's port.
    api_key : str or None, default None
        The server's API key (sent as the ``X-API-Key`` header).
    timeout : float, default 20.0
        Seconds each request may take.
    retries : int, default 2
        Extra attempts, with backoff, of an idempotent request that failed on the
        network or with a 5xx.

    Returns
    -------
    RemoteClient
        The client, as ``connect(url=...)`` returns it; no request is made here.

    Examples
    --------
    >>> with eigenlake.connect_local(port=8000) as client:  # doctest: +SKIP
    ...     client.ready()
    """
    from .remote.client import RemoteClient

    return RemoteClient(url=f"{host}:{port}", api_key=api_key, timeout=timeout, retries=retries)


# The compiled core is imported on first use, not here: a remote client never loads it.


def build_info() -> dict[str, Any]:
    """What the compiled core was built as and runs with.

    Returns
    -------
    dict
        The version, the active SIMD kernel set (``simd``), the thread count and the
        CPU architecture.

    Examples
    --------
    >>> eigenlake.build_info()["simd"]  # doctest: +SKIP
    'avx2'
    """
    from . import _core

    return dict(_core.build_info())


def set_num_threads(n: int) -> None:
    """Resize the compute thread pool of this process.

    Parameters
    ----------
    n : int
        Threads, 0 to 4096; 0: the default (``$EIGENLAKE_NUM_THREADS``, else the CPU
        count).

    Raises
    ------
    ValueError
        ``n`` is negative or above 4096.
    TypeError
        ``n`` is not an integer.

    Examples
    --------
    >>> eigenlake.set_num_threads(2)  # doctest: +SKIP
    """
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
    "QuotaExceededError",
]
