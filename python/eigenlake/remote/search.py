"""`index.search` over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..api.checks import (
    check_bool,
    check_filter_arg,
    check_limit,
    check_nesting,
    check_offset,
    cursor_text,
)
from ..api.protocols import Analyses
from .http import path_id
from .vectors import to_list

if TYPE_CHECKING:
    from .index import RemoteIndex


class RemoteSearch(Analyses):
    def __init__(self, index: RemoteIndex) -> None:
        self._i = index

    def _post(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        # Searches and analyses store nothing, so they are safe to retry.
        resp: dict[str, Any] = self._i.t.post(
            f"{self._i.path}/search/{name}", json=body, idempotent=True
        )
        return resp

    def nearest(
        self,
        *,
        vector: Any,
        limit: int = 10,
        filter: dict[str, Any] | None = None,
        after: str | None = None,
        with_vector: bool = False,
    ) -> dict[str, Any]:
        # Checked here too, so the error names the Python argument (``top_k`` on the wire).
        limit = check_limit(limit)
        check_filter(filter)
        after = cursor_text(after, "nearest")
        with_vector = check_bool("with_vector", with_vector)
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

    def _analyse(
        self, kind: str, filter: Any, limit: Any, settings: dict[str, Any]
    ) -> dict[str, Any]:
        """``cluster``/``outliers``/``topics`` (written once in ``api.protocols.Analyses``):
        ``POST …/search/<kind>``; the server checks every argument and names it."""
        check_filter(filter)
        return self._post(kind, {"filter": filter, "limit": limit, **settings})

    def get(self, id: str, *, with_vector: bool = False) -> dict[str, Any] | None:
        """The record. A missing one is a 404 on the wire (``GET …/search/object/{id}``),
        so this raises ``NotFoundError``, as the PyPI client does (API.md, "Additions");
        embedded ``search.get`` returns None. ``records.get`` returns None in both modes."""
        with_vector = check_bool("with_vector", with_vector)
        path = f"{self._i.path}/search/object/{path_id(id)}"
        resp: dict[str, Any] | None = self._i.t.get(
            path, params={"include_vector": _b(with_vector)}
        )
        return resp

    def list(
        self,
        *,
        limit: int = 100,
        offset: int = 0,
        with_vector: bool = False,
        with_properties: bool = True,
        newest_first: bool = True,
    ) -> dict[str, Any]:
        limit = check_limit(limit)
        offset = check_offset(offset)
        for name, flag in (
            ("with_vector", with_vector),
            ("with_properties", with_properties),
            ("newest_first", newest_first),
        ):
            check_bool(name, flag)
        params = {
            "limit": limit,
            "offset": offset,
            "include_vector": _b(with_vector),
            "include_properties": _b(with_properties),
            "newest_first": _b(newest_first),
        }
        resp: dict[str, Any] = self._i.t.get(f"{self._i.path}/search/objects", params=params)
        return resp

    def iterate(
        self, *, page_size: int = 500, with_vector: bool = False, with_properties: bool = True
    ) -> Iterator[dict[str, Any]]:
        """Every record once, oldest first, by cursor (as embedded: appends are seen).
        The arguments are checked when called, not at the first ``next()``."""
        page_size = check_limit(page_size, "page_size")
        check_bool("with_vector", with_vector)
        check_bool("with_properties", with_properties)
        return self._iterate(page_size, with_vector, with_properties)

    def _iterate(
        self, page_size: int, with_vector: bool, with_properties: bool
    ) -> Iterator[dict[str, Any]]:
        after = None
        while True:
            page = self._i.records.list(
                limit=page_size,
                after=after,
                with_vector=with_vector,
                with_properties=with_properties,
            )
            yield from page["objects"]
            after = page.get("next_after")
            if after is None:
                return


def check_filter(value: Any, name: str = "filter") -> None:
    """A filter argument before it is sent: a dict or None, not nested so deep that
    encoding it would exhaust the stack (the server checks everything else)."""
    check_filter_arg(value, name)
    check_nesting(value, name)


def _b(flag: bool) -> str:
    """Query-string booleans as the server (and the PyPI client) spell them."""
    return "true" if flag else "false"
