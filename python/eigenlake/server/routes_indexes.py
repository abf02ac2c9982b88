"""Index lifecycle: get-or-create, describe, settings, delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from .deps import ApiKey, Ref, State
from .models import CreateIndex

router = APIRouter(prefix="/v1/indexes", tags=["indexes"])


def describe(namespace: str, name: str, idx: Any) -> dict[str, Any]:
    settings = idx.settings
    return {
        "namespace": namespace,
        "index": name,
        "dimensions": int(settings.dimensions()),
        "schema": settings.schema(),
        "shards": settings.shards(),
    }


@router.post("/get-or-create")
def get_or_create(body: CreateIndex, state: State, x_api_key: ApiKey = None) -> dict[str, Any]:
    state.keys.check(x_api_key, body.namespace)
    with state.lock:
        idx = state.client.indexes.create_or_get(
            namespace=body.namespace,
            index=body.index,
            dimensions=body.dimensions,
            schema=body.schema_,
            index_options=body.index_options,
            shard_count=body.shard_count,
            record_id_property=body.record_id_property,
        )
        state.remember(body.namespace, body.index, idx)
        return describe(body.namespace, body.index, idx)


@router.get("/{ns}/{idx}")
def get_index(ref: Ref) -> dict[str, Any]:
    return ref.call(lambda idx: describe(ref.namespace, ref.name, idx))


@router.get("/{ns}/{idx}/settings")
def settings(ref: Ref) -> dict[str, Any]:
    def read(idx: Any) -> dict[str, Any]:
        s = idx.settings
        return {"dims": int(s.dimensions()), "schema": s.schema(), "shards": s.shards()}

    return ref.call(read)


@router.delete("/{ns}/{idx}")
def delete_index(
    ref: Ref, ensure_remote: bool = True, drop_keys_table: bool = True
) -> dict[str, Any]:
    # ensure_remote / drop_keys_table are accepted for the PyPI client; a local store has
    # neither a remote copy nor a separate keys table.
    with ref.state.lock:
        ref.index().manage.delete()
        ref.state.forget(ref.namespace, ref.name)
    return {"deleted": True}
