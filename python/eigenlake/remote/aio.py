"""``eigenlake.connect_async``: the remote surface with ``await``, over ``httpx.AsyncClient``.

Built on the one surface, not beside it, so it cannot drift: every awaited call runs the
remote client's own method (its argument checks, request bodies, answers and errors) in a
worker thread, and that method's requests are sent by an ``httpx.AsyncClient`` on the
caller's event loop. The loop stays free while a call waits on the network; the thread
only runs the checks and the JSON work. The method names, arguments and docstrings are the
protocols' (``api/protocols.py``).

>>> async with eigenlake.connect_async(url="http://localhost:8000") as client:  # doctest: +SKIP
...     idx = await client.indexes.open(namespace="ns", index="docs")
...     hits = await idx.search.nearest(vector=q, limit=5)
"""

from __future__ import annotations

import asyncio
import functools
import itertools
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Any

import httpx

from ..api import protocols
from .client import RemoteClient
from .http import auth_headers
from .index import RemoteIndex

_PAGE = 500  # records an async ``iterate`` takes per thread hop


class _LoopSender:
    """Sends a worker thread's requests through the ``httpx.AsyncClient`` on the event loop
    that awaits the call (the loop is free meanwhile: it awaits the thread)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.loop: asyncio.AbstractEventLoop | None = None

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        assert self.loop is not None  # set by the awaited call that runs this thread
        coro = self.client.request(method, url, **kwargs)
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def close(self) -> None:
        """Nothing here: ``AsyncClient.close`` closes the httpx client on its loop."""


def _public(proto: type) -> frozenset[str]:
    return frozenset(n for n in dir(proto) if not n.startswith("_"))


class _AsyncPart:
    """The async face of one part of a remote index (``records``, ``search``, …): each
    public method of ``proto`` becomes a coroutine function running the sync method."""

    def __init__(self, part: Any, proto: type, sender: _LoopSender) -> None:
        self._part = part
        self._names = _public(proto)
        self._sender = sender

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name not in self._names:
            raise AttributeError(f"{type(self._part).__name__} has no async method {name!r}")
        fn = getattr(self._part, name)
        if name == "iterate":
            return functools.wraps(fn)(functools.partial(_iterate, fn, self._sender))

        @functools.wraps(fn)
        async def call(*args: Any, **kwargs: Any) -> Any:
            return await _run(self._sender, fn, *args, **kwargs)

        return call

    def __dir__(self) -> list[str]:
        return sorted(self._names)

    def __repr__(self) -> str:
        return f"async {self._part!r}"


async def _run(sender: _LoopSender, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    sender.loop = asyncio.get_running_loop()
    return await asyncio.to_thread(fn, *args, **kwargs)


async def _iterate(
    fn: Callable[..., Any], sender: _LoopSender, *args: Any, **kwargs: Any
) -> AsyncIterator[dict[str, Any]]:
    """``async for record in idx.search.iterate(...)``: pages taken in the worker thread."""
    it = await _run(sender, fn, *args, **kwargs)
    while page := await _run(sender, lambda: list(itertools.islice(it, _PAGE))):
        for record in page:
            yield record


class AsyncIndex:
    """One index: ``records``, ``search``, ``settings``, ``manage``, ``agent``, each with
    the methods of the sync surface as coroutines (``index.batch`` is the sync client's
    only: buffer with ``records.add_many`` instead)."""

    def __init__(self, index: RemoteIndex, sender: _LoopSender) -> None:
        self.namespace = index.namespace
        self.name = index.name
        self.records = _AsyncPart(index.records, protocols.Records, sender)
        self.search = _AsyncPart(index.search, protocols.Search, sender)
        self.settings = _AsyncPart(index.settings, protocols.Settings, sender)
        self.manage = _AsyncPart(index.manage, protocols.Manage, sender)
        self.agent = _AsyncPart(index.agent, protocols.Agent, sender)

    def __repr__(self) -> str:
        return f"AsyncIndex(namespace={self.namespace!r}, index={self.name!r})"


class AsyncIndexes:
    """``client.indexes``: ``await create_or_get/open/list/delete``; ``ref`` needs no round
    trip and is not awaited."""

    def __init__(self, client: RemoteClient, sender: _LoopSender) -> None:
        self._indexes = client.indexes
        self._sender = sender

    async def create_or_get(self, **settings: Any) -> AsyncIndex:
        """The awaited form of ``Indexes.create_or_get``: the index, created when missing.

        Parameters
        ----------
        **settings
            The keyword arguments of ``Indexes.create_or_get`` (``namespace``,
            ``index``, ``dimensions``, ``schema``, ...), checked the same way.

        Returns
        -------
        AsyncIndex
            The index, its parts' methods awaited.

        Raises
        ------
        ValidationError
            A bad name or setting.
        ConflictError
            The index exists with other settings.

        Examples
        --------
        >>> idx = await client.indexes.create_or_get(namespace="ns", index="docs", dimensions=384)  # doctest: +SKIP
        """
        index = await _run(self._sender, self._indexes.create_or_get, **settings)
        return AsyncIndex(index, self._sender)

    async def open(self, *, namespace: str, index: str) -> AsyncIndex:
        """The awaited form of ``Indexes.open``: an existing index.

        Parameters
        ----------
        namespace : str
            The index's namespace.
        index : str
            The index's name.

        Returns
        -------
        AsyncIndex
            The index, its parts' methods awaited.

        Raises
        ------
        NotFoundError
            No such index.

        Examples
        --------
        >>> idx = await client.indexes.open(namespace="ns", index="docs")  # doctest: +SKIP
        """
        found = await _run(self._sender, self._indexes.open, namespace=namespace, index=index)
        return AsyncIndex(found, self._sender)

    def ref(self, *, namespace: str, index: str) -> AsyncIndex:
        """A handle without a round trip, not awaited (errors surface on first use).

        Parameters
        ----------
        namespace : str
            The index's namespace.
        index : str
            The index's name.

        Returns
        -------
        AsyncIndex
            The index; a missing one raises ``NotFoundError`` when first used.

        Examples
        --------
        >>> idx = client.indexes.ref(namespace="ns", index="docs")  # doctest: +SKIP
        """
        return AsyncIndex(self._indexes.ref(namespace=namespace, index=index), self._sender)

    async def list(self) -> list[dict[str, str]]:
        """The awaited form of ``Indexes.list``: every index the key may see.

        Returns
        -------
        list of dict
            ``[{"namespace", "index"}]``.

        Examples
        --------
        >>> await client.indexes.list()  # doctest: +SKIP
        [{'namespace': 'ns', 'index': 'docs'}]
        """
        found: list[dict[str, str]] = await _run(self._sender, self._indexes.list)
        return found

    async def delete(self, *, namespace: str, index: str) -> dict[str, Any]:
        """The awaited form of ``Indexes.delete``: drop an index (also a damaged one).

        Parameters
        ----------
        namespace : str
            The index's namespace.
        index : str
            The index's name.

        Returns
        -------
        dict
            ``{"deleted": True}``.

        Raises
        ------
        NotFoundError
            No such index.

        Examples
        --------
        >>> await client.indexes.delete(namespace="ns", index="docs")  # doctest: +SKIP
        {'deleted': True}
        """
        done: dict[str, Any] = await _run(
            self._sender, self._indexes.delete, namespace=namespace, index=index
        )
        return done


class AsyncClient:
    """What ``eigenlake.connect_async(url=...)`` returns: ``async with`` closes it."""

    def __init__(
        self,
        url: str,
        api_key: str | None = None,
        timeout: float = 20.0,
        retries: int = 2,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        http = httpx.AsyncClient(
            base_url=self.url,
            timeout=float(timeout),
            headers=auth_headers(api_key),
            transport=transport,
        )
        self._sender = _LoopSender(http)
        self._sync = RemoteClient(self.url, api_key, timeout, retries, sender=self._sender)
        self.indexes = AsyncIndexes(self._sync, self._sender)

    async def ready(self) -> bool:
        """The awaited form of ``Client.ready``: whether the server answers ready.

        Returns
        -------
        bool
            True when the server answers ready; False when it cannot be reached.

        Examples
        --------
        >>> await client.ready()  # doctest: +SKIP
        True
        """
        ok: bool = await _run(self._sender, self._sync.ready)
        return ok

    async def close(self) -> None:
        """Close the connection pool (``async with`` does it on leaving).

        Examples
        --------
        >>> await client.close()  # doctest: +SKIP
        """
        await self._sender.client.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"AsyncClient({self.url!r})"
