"""`RemoteClient`: what `eigenlake.connect(url=...)` returns."""

from __future__ import annotations

from typing import Any

from ..api.closing import Closing
from ..api.protocols import Indexes as IndexesSurface
from ..errors import EigenlakeError
from .http import Sender, Transport
from .index import RemoteIndex


class RemoteIndexes(IndexesSurface[RemoteIndex]):
    """``client.indexes`` over HTTP; ``create_or_get`` is written once in
    ``api.protocols.Indexes`` over ``_create_or_get``."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def _create_or_get(self, namespace: str, index: str, **settings: Any) -> RemoteIndex:
        # The settings were checked (``create_or_get``) by the checks the embedded store runs
        # (the server runs them too), so a bad setting is refused with the embedded message,
        # and a schema too deep to encode is refused as a schema; sent as given, never
        # int()-ed (True is not 1).
        body = {"namespace": namespace, "index": index, **settings}
        # Get-or-create gives the same answer when repeated, so it may be retried.
        self._t.post("/v1/indexes/get-or-create", json=body, idempotent=True)
        return RemoteIndex(self._t, namespace, index)

    def open(self, *, namespace: str, index: str) -> RemoteIndex:
        ref = RemoteIndex(self._t, namespace, index)
        self._t.get(ref.path)  # NotFoundError when missing
        return ref

    def ref(self, *, namespace: str, index: str) -> RemoteIndex:
        return RemoteIndex(self._t, namespace, index)

    def list(self) -> list[dict[str, str]]:
        """``[{"namespace", "index"}]`` of every index the key may see."""
        found: list[dict[str, str]] = self._t.get("/v1/indexes")["indexes"]
        return found

    def delete(self, *, namespace: str, index: str) -> dict[str, Any]:
        resp: dict[str, Any] = self._t.delete(
            self.ref(namespace=namespace, index=index).path, gone={"deleted": True}
        )
        return resp


class RemoteClient(Closing):
    def __init__(
        self,
        url: str,
        api_key: str | None = None,
        timeout: float = 20.0,
        retries: int = 2,
        *,
        sender: Sender | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self._t = Transport(
            self.url, api_key=api_key, timeout=timeout, retries=retries, client=sender
        )
        self.indexes = RemoteIndexes(self._t)

    def ready(self) -> bool:
        try:
            return bool((self._t.get("/v1/health/ready") or {}).get("ready"))
        except EigenlakeError:
            return False

    def usage(self) -> dict[str, Any]:
        """The server's search-unit totals (``GET /v1/usage``): ``{"day", "totals": [{"key",
        "namespace", "index", "calls", "records_scanned", "compute_ms", "search_units"}],
        "today": {key: units}, "key", "daily_search_units"}`` — an admin key sees every
        key's rows, another key its own. What a unit is: ``eigenlake.api.usage``."""
        resp: dict[str, Any] = self._t.get("/v1/usage")
        return resp

    def close(self) -> None:
        self._t.close()

    def __repr__(self) -> str:
        return f"RemoteClient(url={self.url!r}, mode='remote')"
