"""`index.search` over HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..api import protocols
from ..api.answers import as_nearest
from ..api.checks import check_filter_arg, check_nesting
from .http import path_id
from .vectors import to_list

if TYPE_CHECKING:
    from .index import RemoteIndex


class RemoteSearch(protocols.Search):
    """``search.nearest``/``get``/``list``/``iterate`` and the analyses are written once in
    ``api.protocols`` (checked there before anything is sent); these are the requests."""

    def __init__(self, index: RemoteIndex) -> None:
        self._i = index

    @property
    def _records(self) -> protocols.Records:
        return self._i.records

    def _post(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        # Searches and analyses store nothing, so they are safe to retry.
        resp: dict[str, Any] = self._i.t.post(
            f"{self._i.path}/search/{name}", json=body, idempotent=True
        )
        return resp

    def _nearest(
        self, vector: Any, limit: int, filter: Any, after: str | None, with_vector: bool
    ) -> dict[str, Any]:
        """``POST …/search/near-vector`` (``limit`` is ``top_k`` on the wire)."""
        check_nesting(filter)  # before encoding it: a very deep one would exhaust the stack
        body: dict[str, Any] = {
            "vector": to_list(vector, "query"),
            "top_k": limit,
            "filter": filter,
        }
        if after is not None:
            body["after"] = after
        if with_vector:
            body["include_vector"] = True
        return self._post("near-vector", body)

    def _nearest_text(
        self,
        texts: list[str],
        single: bool,
        limit: int,
        filter: Any,
        after: str | None,
        with_vector: bool,
    ) -> Any:
        """``nearest(text=...)``: ``POST …/search/near-vector`` with ``text`` (a str, or
        a list: one answer per text). The server embeds it with the index's embedder, as
        it embeds the records written without a vector, so both use one model."""
        check_nesting(filter)
        body: dict[str, Any] = {
            "text": texts[0] if single else texts,
            "top_k": limit,
            "filter": filter,
        }
        if after is not None:
            body["after"] = after
        if with_vector:
            body["include_vector"] = True
        resp: Any = self._i.t.post(f"{self._i.path}/search/near-vector", json=body, idempotent=True)
        return as_nearest(resp)

    def _embed_queries(self, texts: list[str]) -> np.ndarray:
        """Not used over HTTP (``_nearest_text`` sends the texts: the server embeds)."""
        raise NotImplementedError("the server embeds the texts of nearest(text=...)")

    def _prepare(self) -> dict[str, Any]:
        """``POST …/search/prepare``: the server answers once its graph covers every row
        (it stores nothing: safe to retry, a retry waits for the same build)."""
        return self._post("prepare", {})

    def _analyse(
        self, kind: str, filter: Any, limit: Any, settings: dict[str, Any]
    ) -> dict[str, Any]:
        """``cluster``/``outliers``/``topics`` (written once in ``api.protocols.Analyses``):
        ``POST …/search/<kind>``; the server checks every argument and names it."""
        check_filter(filter)
        return self._post(kind, {"filter": filter, "limit": limit, **settings})

    def _get(self, id: str, with_vector: bool) -> dict[str, Any] | None:
        """``GET …/search/object/{id}``: a missing record is a 404 on the wire, so this
        raises ``NotFoundError`` (embedded and distributed return None)."""
        path = f"{self._i.path}/search/object/{path_id(id)}"
        resp: dict[str, Any] | None = self._i.t.get(
            path, params={"include_vector": _b(with_vector)}
        )
        return resp

    def _list(
        self, limit: int, offset: int, with_vector: bool, with_properties: bool, newest_first: bool
    ) -> dict[str, Any]:
        """``GET …/search/objects``."""
        params = {
            "limit": limit,
            "offset": offset,
            "include_vector": _b(with_vector),
            "include_properties": _b(with_properties),
            "newest_first": _b(newest_first),
        }
        resp: dict[str, Any] = self._i.t.get(f"{self._i.path}/search/objects", params=params)
        return resp


def check_filter(value: Any, name: str = "filter") -> None:
    """A filter argument before it is sent: a dict or None, not nested so deep that
    encoding it would exhaust the stack (the server checks everything else)."""
    check_filter_arg(value, name)
    check_nesting(value, name)


def _b(flag: bool) -> str:
    """Query-string booleans as the server (and the PyPI client) spell them."""
    return "true" if flag else "false"
