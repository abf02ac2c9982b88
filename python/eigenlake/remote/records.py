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


def _chunks(items: Iterable[Any], size: int) -> Iterable[builtins.list[Any]]:
    chunk: builtins.list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class RemoteRecords:
    def __init__(self, index: RemoteIndex) -> None:
        self._i = index

    def _url(self, suffix: str) -> str:
        return f"{self._i.path}/records/{suffix}"

    def add(
        self,
        *,
        properties: dict[str, Any],
        vector: Any,
        id: str | None = None,
        on_duplicate: str = "error",
    ) -> str:
        body = {
            "properties": properties,
            "vector": to_list(vector),
            "uuid": id,
            "on_duplicate": on_duplicate,
        }
        # Retrying is safe only when the uuid is fixed: a second attempt is then a duplicate.
        resp = self._i.t.post(
            self._url("insert"), json=body, idempotent=id is not None and on_duplicate != "error"
        )
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
        """One request per ``batch_size`` records (each request is atomic on the server)."""
        if batch_size < 1:
            raise ValidationError("batch_size must be >= 1")
        uuids: builtins.list[str] = []
        failed: builtins.list[FailedRecord] = []
        for chunk in _chunks(rows(records), batch_size):
            body = {
                "objects": [_record(r) for r in chunk],
                "on_duplicate": on_duplicate,
                "on_error": on_error,
                "batch_size": batch_size,
            }
            resp = self._i.t.post(self._url("insert-many"), json=body)
            uuids += [str(u) for u in resp.get("uuids") or []]
            failed += [
                FailedRecord(id=str(f.get("uuid") or ""), error=str(f.get("error") or ""))
                for f in resp.get("failed_objects") or []
            ]
        return AddManyResult(uuids, failed_records=failed)

    def add_vectors(
        self, vectors: Any, *, batch_size: int = 500, max_workers: int = 1
    ) -> AddManyResult:
        def item(v: Any) -> dict[str, Any]:
            if isinstance(v, dict):
                out = {"vector": to_list(v.get("vector"))}
                rid = v.get("id", v.get("uuid"))
                return {**out, "uuid": str(rid)} if rid is not None else out
            return {"vector": to_list(v)}

        uuids: builtins.list[str] = []
        failed: builtins.list[FailedRecord] = []
        for chunk in _chunks(rows(vectors), max(1, batch_size)):
            body = {"vectors": [item(v) for v in chunk], "batch_size": batch_size}
            resp = self._i.t.post(self._url("insert-vectors"), json=body) or {}
            uuids += [str(u) for u in resp.get("uuids") or []]
            failed += [
                FailedRecord(str(f.get("uuid") or ""), str(f.get("error") or ""))
                for f in resp.get("failed_objects") or []
            ]
        return AddManyResult(uuids, failed_records=failed)

    def get(
        self, id: str, *, return_data: bool = True, return_metadata: bool = True
    ) -> dict[str, Any] | None:
        body = {"uuid": str(id), "return_data": return_data, "return_metadata": return_metadata}
        obj: dict[str, Any] | None = self._i.t.post(
            self._url("get-by-id"), json=body, idempotent=True
        )["object"]
        return obj

    def exists(self, id: str) -> bool:
        return bool(self._i.t.get(self._url(f"exists/{quote(str(id), safe='')}"))["exists"])

    def remove(self, id: str) -> None:
        self._i.t.delete(self._url(quote(str(id), safe="")))

    def remove_many(
        self,
        *,
        filter: dict[str, Any],
        limit: int | None = None,
        on_missing: str = "skip",
        background: bool = False,
        wait: bool = True,
    ) -> dict[str, Any]:
        """Delete matches; with ``background`` the server runs a job, awaited unless ``wait=False``."""
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
    ) -> None:
        body = {"properties": properties, "vector": None if vector is None else to_list(vector)}
        self._i.t.patch(self._url(quote(str(id), safe="")), json=body)

    def replace(self, *, id: str, properties: dict[str, Any], vector: Any = None) -> None:
        body = {"properties": properties, "vector": None if vector is None else to_list(vector)}
        self._i.t.put(self._url(quote(str(id), safe="")), json=body)

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
