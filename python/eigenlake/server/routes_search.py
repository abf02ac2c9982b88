"""Search and analysis: near-vector, cluster, outliers, topics, object listing, agent."""

from __future__ import annotations

import inspect
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from starlette.responses import Response

from .._args import MAX_INT, MAX_LIMIT
from ..errors import APIError, NotFoundError, ValidationError
from .deps import Ref
from .fastjson import FastJSONRoute, json_response
from .models import AgentQuery, Cluster, NearVector, empty_to_none

router = APIRouter(prefix="/v1/indexes/{ns}/{idx}", tags=["search"], route_class=FastJSONRoute)


@router.post("/search/near-vector", response_model=None)
def near_vector(ref: Ref, body: NearVector) -> Response:
    kwargs: dict[str, Any] = {"vector": body.vector, "limit": body.top_k}
    kwargs["filter"] = empty_to_none(body.filter)
    if body.after is not None:
        kwargs["after"] = body.after
    if body.include_vector:
        kwargs["with_vector"] = True
    return json_response(ref.call(lambda idx: idx.search.nearest(**kwargs)))


@router.post("/search/cluster")
def cluster(ref: Ref, body: Cluster) -> dict[str, Any]:
    kwargs = body.model_dump()
    kwargs["filter"] = empty_to_none(kwargs["filter"])
    kwargs["text_fields"] = kwargs["text_fields"] or None
    result: dict[str, Any] = ref.call(lambda idx: idx.search.cluster(**kwargs))
    return result


def _analysis(ref: Ref, name: str, args: dict[str, Any]) -> dict[str, Any]:
    """Outliers/topics take the Python method's keyword arguments by the same names."""

    def run(idx: Any) -> Any:
        fn = getattr(idx.search, name, None)
        if fn is None:
            raise APIError(f"search/{name} is not available in this build", status_code=501)
        args["filter"] = empty_to_none(args.get("filter"))
        if not args.get("text_fields"):
            args.pop("text_fields", None)
        try:
            inspect.signature(fn).bind(**args)
        except TypeError as exc:
            raise ValidationError(f"search/{name}: {exc}") from exc
        return fn(**args)

    result: dict[str, Any] = ref.call(run)
    return result


@router.post("/search/outliers")
def outliers(ref: Ref, body: dict[str, Any] = Body(default_factory=dict)) -> dict[str, Any]:  # noqa: B008
    return _analysis(ref, "outliers", dict(body))


@router.post("/search/topics")
def topics(ref: Ref, body: dict[str, Any] = Body(default_factory=dict)) -> dict[str, Any]:  # noqa: B008
    return _analysis(ref, "topics", dict(body))


@router.get("/search/object/{record_id}")
def get_object(ref: Ref, record_id: str, include_vector: bool = False) -> Any:
    obj = ref.call(lambda idx: idx.search.get(record_id, with_vector=include_vector))
    if obj is None:
        # 404, so the PyPI client and ours raise NotFoundError (API.md, "Additions"); the
        # embedded search.get answers None, and get-by-id keeps {"object": null}
        raise NotFoundError(f"record {record_id} does not exist in {ref.namespace}/{ref.name}")
    return obj


@router.get("/search/objects")
def list_objects(
    ref: Ref,
    # query strings are text: lax ints here, bounded as in the embedded search.list
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
    include_vector: bool = False,
    include_properties: bool = True,
    newest_first: bool = True,
) -> dict[str, Any]:
    page: dict[str, Any] = ref.call(
        lambda idx: idx.search.list(
            limit=limit,
            offset=offset,
            with_vector=include_vector,
            with_properties=include_properties,
            newest_first=newest_first,
        )
    )
    objects = page.get("objects") or []
    # The PyPI client's iterate() restarts from 0 when next_offset is missing or 0.
    return {**page, "objects": objects, "next_offset": offset + len(objects)}


@router.post("/agent/query")
def agent_query(ref: Ref, body: AgentQuery) -> dict[str, Any]:
    kwargs = body.model_dump()
    query = kwargs.pop("query")
    kwargs["filter"] = empty_to_none(kwargs["filter"])
    kwargs["text_fields"] = kwargs["text_fields"] or None
    result: dict[str, Any] = ref.call(lambda idx: idx.agent.query(query, **kwargs))
    return result
