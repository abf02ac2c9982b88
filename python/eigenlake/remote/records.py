"""`index.records` over HTTP."""

from __future__ import annotations

import builtins
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..errors import ValidationError
from .results import AddManyResult, FailedRecord
from .vectors import rows, to_list

if TYPE_CHECKING:
    from .index import RemoteIndex

# ~40 MB of JSON per request: below the server's default body limit (64 MiB).
_VALUES_PER_REQUEST = 2_000_000


def _record(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ValidationError(
            f"a record must be a dict with 'properties' and 'vector', got {type(item).__name__}"
        )
    out: dict[str, Any] = {
        "properties": item.get("properties") or {},
        "vector": to_list(item.get("vector")),
    }
    rid = item.get("id", item.get("uuid"))
    if rid is not None:
        out["uuid"] = str(rid)
    return out


def _vector_item(item: Any) -> dict[str, Any]:
    if isinstance(item, dict):
        out = {"vector": to_list(item.get("vector"))}
        rid = item.get("id", item.get("uuid"))
        return {**out, "uuid": str(rid)} if rid is not None else out
    return {"vector": to_list(item)}


class RemoteRecords:
    def __init__(self, index: RemoteIndex) -> None:
        self._i = index

    def _url(self, suffix: str) -> str:
        return f"{self._i.path}/records/{suffix}"

    def _rec_url(self, id: str) -> str:
        return self._url(quote(str(id), safe=""))

    def add(
        self,
        *,
        properties: dict[str, Any] | None = None,
        vector: Any,
        id: str | None = None,
        on_duplicate: str = "error",
    ) -> str:
        body = {
            "properties": properties or {},
            "vector": to_list(vector),
            "uuid": None if id is None else str(id),
            "on_duplicate": on_duplicate,
        }
        # A retry is harmless only when a second attempt cannot store a second record.
        safe = id is not None and on_duplicate != "error"
        resp = self._i.t.post(self._url("insert"), json=body, idempotent=safe)
        return str(resp["uuid"])

    def add_many(
        self,
        records: Iterable[dict[str, Any]],
        *,
        on_duplicate: str = "error",
        on_error: str = "raise",
        batch_size: int = 500,
        max_workers: int = 1,
    ) -> AddManyResult:
        """Requests of up to ~2M vector values (at least ``batch_size`` records) each.

        Each request is one transaction on the server, so a call that fits in one request
        keeps the embedded rule: with ``on_error="raise"`` nothing of a failing call is stored.
        """
        items = [_record(r) for r in rows(records)]
        opts = {"on_duplicate": on_duplicate, "on_error": on_error}
        return self._send("insert-many", "objects", items, batch_size, opts)

    def add_vectors(
        self, vectors: Any, *, batch_size: int = 500, max_workers: int = 1
    ) -> AddManyResult:
        items = [_vector_item(v) for v in rows(vectors)]
        return self._send("insert-vectors", "vectors", items, batch_size, {})

    def _send(
        self,
        route: str,
        key: str,
        items: builtins.list[dict[str, Any]],
        batch_size: int,
        opts: dict[str, Any],
    ) -> AddManyResult:
        if batch_size < 1:
            raise ValidationError("batch_size must be >= 1")
        dims = len(items[0]["vector"]) if items else 1
        per_request = max(batch_size, _VALUES_PER_REQUEST // max(dims, 1))
        uuids: builtins.list[str] = []
        failed: builtins.list[FailedRecord] = []
        for start in range(0, len(items), per_request):
            body = {key: items[start : start + per_request], "batch_size": batch_size, **opts}
            resp = self._i.t.post(self._url(route), json=body) or {}
            uuids += [str(u) for u in resp.get("uuids") or []]
            for f in resp.get("failed_objects") or []:
                pos = f.get("position")
                at = None if pos is None else start + int(pos)
                failed.append(FailedRecord(f.get("uuid"), str(f.get("error") or ""), at))
        return AddManyResult(uuids, failed)

    def get(
        self, id: str, *, return_data: bool = True, return_metadata: bool = True
    ) -> dict[str, Any] | None:
        body = {"uuid": str(id), "return_data": return_data, "return_metadata": return_metadata}
        resp = self._i.t.post(self._url("get-by-id"), json=body, idempotent=True)
        obj: dict[str, Any] | None = resp["object"]
        return obj

    def exists(self, id: str) -> bool:
        return bool(self._i.t.get(self._url(f"exists/{quote(str(id), safe='')}"))["exists"])

    def remove(self, id: str) -> dict[str, Any]:
        resp: dict[str, Any] = self._i.t.delete(self._rec_url(id), gone={"deleted": 1})
        return resp

    def remove_many(
        self,
        *,
        filter: dict[str, Any],
        limit: int | None = None,
        on_missing: str = "skip",
        background: bool = False,
        wait: bool = True,
    ) -> dict[str, Any]:
        """``{"deleted": n}``; ``background=True`` runs a server job (awaited unless ``wait=False``)."""
        body = {
            "where": filter,
            "limit": limit,
            "on_missing_keys": on_missing,
            "background": background,
        }
        resp: dict[str, Any] = self._i.t.post(self._url("delete-many"), json=body)
        if background and wait:
            return self.wait_job(int(resp["job_id"]))
        return resp

    def job(self, job_id: int) -> dict[str, Any]:
        resp: dict[str, Any] = self._i.t.get(self._url(f"delete-jobs/{int(job_id)}"))
        return resp

    def wait_job(self, job_id: int, *, timeout: float = 300.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            job = self.job(job_id)
            if job["status"] in ("completed", "failed") or time.monotonic() > deadline:
                return job
            time.sleep(0.05)

    def update(
        self, id: str, *, properties: dict[str, Any] | None = None, vector: Any = None
    ) -> dict[str, Any]:
        body = {"properties": properties, "vector": None if vector is None else to_list(vector)}
        resp: dict[str, Any] = self._i.t.patch(self._rec_url(id), json=body)
        return resp

    def replace(
        self, *, id: str, properties: dict[str, Any] | None = None, vector: Any = None
    ) -> dict[str, Any]:
        body = {
            "properties": properties or {},
            "vector": None if vector is None else to_list(vector),
        }
        resp: dict[str, Any] = self._i.t.put(self._rec_url(id), json=body)
        return resp

    def list(
        self,
        *,
        filter: dict[str, Any] | None = None,
        limit: int = 100,
        after: str | None = None,
        with_vector: bool = False,
        with_properties: bool = True,
    ) -> dict[str, Any]:
        body = {
            "where": filter,
            "limit": limit,
            "after": after,
            "include_vector": with_vector,
            "include_properties": with_properties,
        }
        resp: dict[str, Any] = self._i.t.post(
            self._url("get-by-filter"), json=body, idempotent=True
        )
        return resp
