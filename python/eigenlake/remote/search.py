"""`index.search` over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .vectors import to_list

if TYPE_CHECKING:
    from .index import RemoteIndex


class RemoteSearch:
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
        body: dict[str, Any] = {"vector": to_list(vector), "top_k": limit, "filter": filter}
        if after is not None:
            body["after"] = after
        if with_vector:
            body["include_vector"] = True
        return self._post("near-vector", body)

    def cluster(self, **kwargs: Any) -> dict[str, Any]:
        """Same keyword arguments as the embedded ``search.cluster``."""
        return self._post("cluster", kwargs)

    def outliers(self, **kwargs: Any) -> dict[str, Any]:
        return self._post("outliers", kwargs)

    def topics(self, **kwargs: Any) -> dict[str, Any]:
        return self._post("topics", kwargs)

    def get(self, id: str, *, with_vector: bool = False) -> dict[str, Any] | None:
        path = f"{self._i.path}/search/object/{quote(str(id), safe='')}"
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
        """Every record once, oldest first, by cursor (as embedded: appends are seen)."""
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


def _b(flag: bool) -> str:
    """Query-string booleans as the server (and the PyPI client) spell them."""
    return "true" if flag else "false"
