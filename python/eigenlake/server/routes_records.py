"""Record writes and reads: `/v1/indexes/{ns}/{idx}/records/...`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from ..api.checks import MAX_INT
from ..errors import NotFoundError
from .deps import Ref
from .fastjson import FastJSONRoute
from .models import (
    CountBody,
    DeleteByFilter,
    DeleteMany,
    GetByFilter,
    GetById,
    Insert,
    InsertMany,
    InsertVectors,
    Patch,
    Put,
    empty_to_none,
)

router = APIRouter(prefix="/v1/indexes/{ns}/{idx}", tags=["records"], route_class=FastJSONRoute)


@router.post("/records/insert")
def insert(ref: Ref, body: Insert) -> dict[str, Any]:
    uuid = ref.call(
        lambda idx: idx.records.add(
            properties=body.properties,
            vector=body.vector,
            id=body.uuid,
            on_duplicate=body.on_duplicate,
        )
    )
    return {"uuid": str(uuid)}


def _failed(result: Any) -> list[dict[str, Any]]:
    # `position` (index in the request) lets the remote client rebuild FailedRecord exactly.
    return [
        {"uuid": f.id, "error": str(f.error), "position": getattr(f, "position", None)}
        for f in getattr(result, "failed_records", None) or []
    ]


@router.post("/records/insert-many")
def insert_many(ref: Ref, body: InsertMany) -> dict[str, Any]:
    # an empty uuid is passed on (and refused like on insert), not read as "no uuid"
    records = [
        {
            "properties": o.properties,
            "vector": o.vector,
            **({"id": o.uuid} if o.uuid is not None else {}),
        }
        for o in body.objects
    ]
    result = ref.call(
        lambda idx: idx.records.add_many(
            records,
            on_duplicate=body.on_duplicate,
            on_error=body.on_error,
            batch_size=body.batch_size,
        )
    )
    failed = _failed(result)
    return {
        "uuids": [str(u) for u in result],
        "failed_objects": failed,
        "number_errors": len(failed),
    }


@router.post("/records/insert-vectors")
def insert_vectors(ref: Ref, body: InsertVectors) -> dict[str, Any]:
    items = [
        {"vector": v.vector, **({"id": v.uuid} if v.uuid is not None else {})} for v in body.vectors
    ]
    result = ref.call(lambda idx: idx.records.add_vectors(items, batch_size=body.batch_size))
    uuids = [str(u) for u in result] if result is not None else []
    return {"uuids": uuids, "failed_objects": _failed(result)}


@router.post("/records/get-by-id")
def get_by_id(ref: Ref, body: GetById) -> dict[str, Any]:
    obj = ref.call(
        lambda idx: idx.records.get(
            body.uuid, return_data=body.return_data, return_metadata=body.return_metadata
        )
    )
    return {"object": obj}


@router.get("/records/exists/{record_id}")
def exists(ref: Ref, record_id: str) -> dict[str, Any]:
    return {"exists": bool(ref.call(lambda idx: idx.records.exists(record_id)))}


@router.delete("/records/{record_id}")
def remove(
    ref: Ref, record_id: str, batch_size: Annotated[int, Query(ge=1, le=MAX_INT)] = 500
) -> dict[str, Any]:
    out: dict[str, Any] = ref.call(lambda idx: idx.records.remove(record_id)) or {"deleted": 1}
    return out


@router.patch("/records/{record_id}")
def update(ref: Ref, record_id: str, body: Patch) -> dict[str, Any]:
    out = ref.call(
        lambda idx: idx.records.update(record_id, properties=body.properties, vector=body.vector)
    )
    return out or {"uuid": record_id}


@router.put("/records/{record_id}")
def replace(ref: Ref, record_id: str, body: Put) -> dict[str, Any]:
    out = ref.call(
        lambda idx: idx.records.replace(
            id=record_id, properties=body.properties, vector=body.vector
        )
    )
    return out or {"uuid": record_id}


def _delete(
    ref: Ref, where: dict[str, Any], limit: int | None, on_missing: str, background: bool
) -> dict[str, Any]:
    def run() -> int:
        result = ref.call(
            lambda idx: idx.records.remove_many(filter=where, limit=limit, on_missing=on_missing)
        )
        return int(result["deleted"])

    if not background:
        return {"deleted": run()}
    # A missing index (404) or a bad filter (422) is answered now, not as a failed job later.
    ref.call(lambda idx: idx.records.list(filter=where, limit=1, with_properties=False))
    return ref.state.jobs.submit(ref.owner, run)


@router.post("/records/delete-many")
def delete_many(ref: Ref, body: DeleteMany) -> dict[str, Any]:
    return _delete(ref, body.where, body.limit, body.on_missing_keys, body.background)


@router.post("/manage/delete-by-filter")
def delete_by_filter(ref: Ref, body: DeleteByFilter) -> dict[str, Any]:
    return _delete(ref, body.where, body.limit_object_ids, body.on_missing_keys, body.background)


@router.get("/records/delete-jobs/{job_id}")
def delete_job(ref: Ref, job_id: int) -> dict[str, Any]:
    job = ref.state.jobs.get(ref.owner, job_id)
    if job is None:
        raise NotFoundError(f"no delete job {job_id} on {ref.namespace}/{ref.name}")
    return job


@router.post("/records/get-by-filter")
def get_by_filter(ref: Ref, body: GetByFilter) -> dict[str, Any]:
    page: dict[str, Any] = ref.call(
        lambda idx: idx.records.list(
            filter=empty_to_none(body.where),
            limit=body.limit,
            after=body.after,
            with_vector=body.include_vector,
            with_properties=body.include_properties,
        )
    )
    return page


@router.post("/records/count")
def count(ref: Ref, body: CountBody) -> dict[str, Any]:
    """``{"count": n}``: the records matching ``where`` (API.md, "Additions")."""
    return {"count": ref.call(lambda idx: idx.records.count(empty_to_none(body.where)))}
