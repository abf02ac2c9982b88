"""A remote index: the embedded Index's surface (records, search, settings, manage, batch, agent)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ..api.batch import Batch
from ..api.protocols import Agent as AgentSurface
from ..api.protocols import Manage as ManageSurface
from ..api.protocols import Settings as SettingsSurface
from ..api.reprs import index_repr
from ..errors import ValidationError
from ..schema import describe_value
from .http import Transport
from .records import RemoteRecords
from .search import RemoteSearch, check_filter


class RemoteSettings(SettingsSurface):
    def __init__(self, index: RemoteIndex) -> None:
        self._i = index

    def all(self) -> dict[str, Any]:
        """One request for the three answers (the wire's settings route)."""
        resp: dict[str, Any] = self._i.t.get(f"{self._i.path}/settings")
        return resp

    def dimensions(self) -> int:
        return int(self.all()["dims"])

    def metric(self) -> str:
        """From the index's description (``GET …/{ns}/{idx}``); the settings answer keeps
        the wire's three fields."""
        described: dict[str, Any] = self._i.t.get(self._i.path)
        return str(described.get("metric") or "cosine")

    def schema(self) -> dict[str, Any]:
        return dict(self.all().get("schema") or {})

    def shards(self) -> dict[str, Any]:
        return dict(self.all().get("shards") or {})


class RemoteManage(ManageSurface):
    def __init__(self, index: RemoteIndex) -> None:
        self._i = index

    @property
    def _records(self) -> RemoteRecords:
        return self._i.records

    def delete(self) -> dict[str, Any]:
        """Drop the index: ``{"deleted": True}`` as embedded."""
        resp: dict[str, Any] = self._i.t.delete(self._i.path, gone={"deleted": True})
        return resp


class RemoteAgent(AgentSurface):
    """``index.agent`` over HTTP (``query`` is written once in ``api.protocols.Agent``)."""

    def __init__(self, index: RemoteIndex) -> None:
        self._i = index

    def _query(self, query: str, settings: dict[str, Any]) -> dict[str, Any]:
        check_filter(settings["filter"])
        body = {"query": query, **settings}
        if body["failure_values"] is None:  # the server's default list stands
            del body["failure_values"]
        resp: dict[str, Any] = self._i.t.post(
            f"{self._i.path}/agent/query", json=body, idempotent=True
        )
        # always a filter dict, also from a server that answers null for "none inferred"
        if isinstance(resp, dict) and resp.get("filter") is None:
            resp["filter"] = {}
        return resp


class RemoteIndex:
    def __init__(self, transport: Transport, namespace: str, name: str) -> None:
        self.t = transport
        self.namespace = namespace
        self.name = name
        self.path = f"/v1/indexes/{_segment('namespace', namespace)}/{_segment('index', name)}"
        self.records = RemoteRecords(self)
        self.search = RemoteSearch(self)
        self.settings = RemoteSettings(self)
        self.manage = RemoteManage(self)
        self.batch = Batch(lambda: self.records)
        self.agent = RemoteAgent(self)

    def __repr__(self) -> str:
        return index_repr("RemoteIndex", "remote", self, url=self.t.base_url)


def _segment(kind: str, name: Any) -> str:
    """A namespace or index name as a URL path segment, refused as embedded mode refuses
    it when it cannot be one (not a string, empty, a lone surrogate); "." and ".." are
    escaped so the URL is not normalised to another route."""
    if not isinstance(name, str) or not name:
        raise ValidationError(f"{kind} must be a non-empty string, got {describe_value(name)}")
    try:
        seg = quote(name, safe="")
    except UnicodeEncodeError:  # a lone surrogate: no URL can hold it
        raise ValidationError(f"{kind} {describe_value(name)} is not valid Unicode") from None
    return seg.replace(".", "%2E") if seg in (".", "..") else seg
