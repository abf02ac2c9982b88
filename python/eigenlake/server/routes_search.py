"""Search and analysis: near-vector, cluster, outliers, topics, object listing, agent.

The analyses (cluster, outliers, topics, agent query) can run for minutes; each runs on a
worker thread while the event loop polls for the client's disconnect, and a disconnect sets
the analysis' cancellation token so it stops at its next safe point (``analysis.cancel``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import anyio
import anyio.to_thread
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from ..analysis import cancel
from ..api.checks import MAX_INT, MAX_LIMIT
from ..errors import NotFoundError
from .deps import IndexRef, Ref
from .fastjson import FastJSONRoute, json_response
from .models import AgentQuery, Cluster, NearVector, Outliers, Topics, empty_to_none

router = APIRouter(prefix="/v1/indexes/{ns}/{idx}", tags=["search"], route_class=FastJSONRoute)
log = logging.getLogger("eigenlake.server")

# How often (seconds) a running analysis checks whether its client is still there.
DISCONNECT_POLL = 0.25

T = TypeVar("T")


async def run_cancellable(request: Request, fn: Callable[[], T]) -> T:
    """``fn()`` on a worker thread; if the client disconnects first, the analysis is told
    to stop (its token is set) and ``cancel.Cancelled`` comes back: logged here, answered
    499 by the error handlers (nobody reads it)."""
    token = threading.Event()

    def work() -> tuple[bool, Any]:
        # The scope is set in the thread itself (no reliance on context propagation); the
        # outcome is returned, not raised, so it leaves the task group unwrapped.
        with cancel.scope(token):
            try:
                return True, fn()
            except BaseException as exc:  # re-raised below, on the event loop
                return False, exc

    async def watch() -> None:
        while not await request.is_disconnected():
            await anyio.sleep(DISCONNECT_POLL)
        token.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(watch)
        ok, outcome = await anyio.to_thread.run_sync(work)
        tg.cancel_scope.cancel()
    if ok:
        result: T = outcome
        return result
    if isinstance(outcome, cancel.Cancelled):
        log.info("%s %s: client disconnected; analysis stopped", request.method, request.url.path)
    raise outcome


def near_vector_kwargs(body: NearVector) -> dict[str, Any]:
    """The embedded ``search.nearest`` arguments of a near-vector body (this route's and
    the fast path's, ``fastpath.py``)."""
    kwargs: dict[str, Any] = {"vector": body.vector, "limit": body.top_k}
    if body.text is not None:
        kwargs["text"] = body.text
    kwargs["filter"] = empty_to_none(body.filter)
    if body.after is not None:
        kwargs["after"] = body.after
    if body.include_vector:
        kwargs["with_vector"] = True
    return kwargs


# Served by the fast path in front of FastAPI (fastpath.py); this route answers what that
# path passes on (bodies that do not parse or validate) and apps built without it.
@router.post("/search/near-vector", response_model=None)
def near_vector(ref: Ref, body: NearVector) -> Response:
    kwargs = near_vector_kwargs(body)
    return json_response(ref.metered(lambda idx: idx.search.nearest(**kwargs)))


@router.post("/search/prepare")
def prepare(ref: Ref) -> dict[str, Any]:
    """Answer once searches go through a graph covering every stored row (the embedded
    ``search.prepare()``); runs on a worker thread, like every sync route."""
    out: dict[str, Any] = ref.call(lambda idx: idx.search.prepare())
    return out


@router.post("/search/cluster")
async def cluster(ref: Ref, body: Cluster, request: Request) -> dict[str, Any]:
    kwargs = body.model_dump()
    kwargs["filter"] = empty_to_none(kwargs["filter"])
    kwargs["text_fields"] = kwargs["text_fields"] or None
    result: dict[str, Any] = await run_cancellable(
        request, lambda: ref.metered(lambda idx: idx.search.cluster(**kwargs))
    )
    return result


@router.post("/search/outliers")
async def outliers(ref: Ref, body: Outliers, request: Request) -> dict[str, Any]:
    kwargs = body.model_dump()
    kwargs["filter"] = empty_to_none(kwargs["filter"])
    result: dict[str, Any] = await run_cancellable(
        request, lambda: ref.metered(lambda idx: idx.search.outliers(**kwargs))
    )
    return result


@router.post("/search/topics")
async def topics(ref: Ref, body: Topics, request: Request) -> dict[str, Any]:
    kwargs = body.model_dump()
    kwargs["filter"] = empty_to_none(kwargs["filter"])
    result: dict[str, Any] = await run_cancellable(
        request, lambda: ref.metered(lambda idx: idx.search.topics(**kwargs))
    )
    return result


def stored_object(ref: IndexRef, record_id: str, include_vector: bool) -> Any:
    """The record (this route's and the fast path's answer, ``fastpath.py``)."""
    obj = ref.call(lambda idx: idx.search.get(record_id, with_vector=include_vector))
    if obj is None:
        # 404, so the PyPI client and ours raise NotFoundError (API.md, "Additions"); the
        # embedded search.get answers None, and get-by-id keeps {"object": null}
        raise NotFoundError(f"record {record_id} does not exist in {ref.namespace}/{ref.name}")
    return obj


@router.get("/search/object/{record_id}")
def get_object(ref: Ref, record_id: str, include_vector: bool = False) -> Any:
    return stored_object(ref, record_id, include_vector)


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
async def agent_query(ref: Ref, body: AgentQuery, request: Request) -> dict[str, Any]:
    kwargs = body.model_dump()
    query = kwargs.pop("query")
    kwargs["filter"] = empty_to_none(kwargs["filter"])
    kwargs["text_fields"] = kwargs["text_fields"] or None
    result: dict[str, Any] = await run_cancellable(
        request, lambda: ref.metered(lambda idx: idx.agent.query(query, **kwargs))
    )
    return result
