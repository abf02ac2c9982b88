"""Index lifecycle: get-or-create, describe, settings, delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ..api.options import check_create
from .deps import ApiKey, Ref, State
from .fastjson import FastJSONRoute
from .models import CreateIndex

router = APIRouter(prefix="/v1/indexes", tags=["indexes"], route_class=FastJSONRoute)


def describe(namespace: str, name: str, idx: Any, *, wire: bool = False) -> dict[str, Any]:
    """The settings answer (``wire``: exactly `{"dims", "schema", "shards"}`) or a description."""
    s = idx.settings
    dims, schema, shards = int(s.dimensions()), s.schema(), s.shards()
    if wire:
        return {"dims": dims, "schema": schema, "shards": shards}
    return {
        "namespace": namespace,
        "index": name,
        "dimensions": dims,
        "metric": s.metric(),
        "schema": schema,
        "shards": shards,
    }


@router.post("/get-or-create")
def get_or_create(body: CreateIndex, state: State, x_api_key: ApiKey = None) -> dict[str, Any]:
    state.keys.check(x_api_key, body.namespace)
    # the store checks these too; here they hold whatever client serves (422, never a 500)
    check_create(
        dimensions=body.dimensions,
        schema=body.schema_,
        index_options=body.index_options,
        shard_count=body.shard_count,
        record_id_property=body.record_id_property,
    )
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
        return describe(body.namespace, body.index, idx)


@router.get("")
def list_indexes(state: State, x_api_key: ApiKey = None) -> dict[str, Any]:
    """Every index this key may see (as Qdrant's and Chroma's list-collections)."""
    state.keys.check(x_api_key, None)
    found = state.client.indexes.list()
    visible = [i for i in found if state.keys.allows(x_api_key, i["namespace"])]
    return {"indexes": visible}


@router.get("/{ns}/{idx}")
def get_index(ref: Ref) -> dict[str, Any]:
    return ref.call(lambda idx: describe(ref.namespace, ref.name, idx))


@router.get("/{ns}/{idx}/settings")
def settings(ref: Ref) -> dict[str, Any]:
    return ref.call(lambda idx: describe(ref.namespace, ref.name, idx, wire=True))


@router.delete("/{ns}/{idx}")
def delete_index(
    ref: Ref, ensure_remote: bool = True, drop_keys_table: bool = True
) -> dict[str, Any]:
    # ensure_remote / drop_keys_table are accepted for the PyPI client; a local store has
    # neither a remote copy nor a separate keys table.
    with ref.state.lock:
        # through the client, not an opened index: a damaged index can still be dropped
        ref.state.client.indexes.delete(namespace=ref.namespace, index=ref.name)
    return {"deleted": True}
