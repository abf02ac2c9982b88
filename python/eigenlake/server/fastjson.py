"""The route class of every `/v1` route: fast JSON bodies, faults answered in the route.

FastAPI reads bodies with ``json.loads``; for an insert-many of 500 x 384 floats that alone
costs ~120 ms, five times pydantic-core's parser. The route fills Starlette's cached
``request._json`` first; FastAPI then validates as usual, and a body the fast parser refuses
is left for FastAPI, which reports it as a 400 like any malformed JSON.

An unexpected exception is answered here as a 5xx ``{"detail"}``: left to Starlette's outer
error middleware, it would be re-raised to uvicorn, which then drops the keep-alive connection.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import pydantic_core
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..errors import EigenlakeError
from .errors import error_response, status_for

_HANDLED = (EigenlakeError, HTTPException, RequestValidationError)
_TOO_DEEP = (
    "request body: JSON nests too deeply to parse (a filter may nest at most 32 levels, "
    "a property value at most 32)"
)


class FastJSONRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            if request.headers.get("content-type", "").startswith("application/json"):
                body = await request.body()
                # NaN/Infinity allowed, as json.loads does; the store rejects them.
                if body:
                    try:
                        request._json = pydantic_core.from_json(body, allow_inf_nan=True)
                    except ValueError as exc:
                        # json.loads would recurse on and fail with no word of why
                        if "recursion limit" in str(exc):
                            return JSONResponse({"detail": _TOO_DEEP}, status_code=400)
            try:
                return await handler(request)
            except _HANDLED:
                raise
            except Exception as exc:
                if status_for(exc) < 500:
                    raise  # builtins that mean bad input: the app's handlers answer 422
                return error_response(exc)

        return route_handler


def json_response(content: Any) -> Response:
    """A JSON answer encoded by pydantic-core in one call. A route that returns a plain
    dict has FastAPI validate it against the return annotation on the thread pool and walk
    it with ``jsonable_encoder``; for the hot search route both cost more than the search."""
    return Response(pydantic_core.to_json(content), media_type="application/json")
