"""The hot routes answered in front of FastAPI: near-vector search and get object.

Through FastAPI a search spent about as much CPU in the framework as in the search (in
process, 100k store: 634 µs of framework around a 586 µs search; 322 µs on this path):
route matching over every route, dependency solving (state, path, header), the body
validated through FastAPI's field machinery, two more middlewares. This pure ASGI middleware answers ``POST .../search/near-vector`` with
the same pieces the FastAPI route uses (the key ring, ``IndexRef.metered`` with its quota
check and usage accounting, the ``NearVector`` model, ``json_response``) and the app's own
exception handlers, so status, body and headers stay those of the FastAPI route.

``GET …/search/object/{id}`` is answered the same way (key, ``stored_object``, encoder).

Only requests it can answer exactly as FastAPI would take this path: a JSON body that
parses and validates; for get-object no query string or a plain ``include_vector``.
Anything else (no or another content type, an empty or malformed body, a validation
error, other query parameters, a repeated key header, a mounted app, a trailing slash)
goes on unchanged to FastAPI, which answers it with its own messages. ``tests/server/test_fast_path.py`` sends
the same requests through both paths and compares the answers byte for byte (but for the
search's own timing, ``usage.compute_ms``).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pydantic
import pydantic_core
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .deps import IndexRef
from .errors import error_response
from .fastjson import json_response
from .models import NearVector
from .routes_search import near_vector_kwargs, stored_object

if TYPE_CHECKING:
    from fastapi import FastAPI

    from .state import ServerState

# Starlette's `{name}` path parameter is `[^/]+`, matched against the whole path.
_NEAR_VECTOR = re.compile(r"/v1/indexes/([^/]+)/([^/]+)/search/near-vector")
# FastAPI reads a body as JSON for any application/json or application/*+json type; this
# path takes `application/json` alone or with parameters, and passes the rest on.
_JSON = b"application/json"
_OBJECT = re.compile(r"/v1/indexes/([^/]+)/([^/]+)/search/object/([^/]+)")
# The query strings of get-object taken here; FastAPI's lax bool (yes, 1, On...) and any
# other parameter go to FastAPI.
_INCLUDE_VECTOR = {b"": False, b"include_vector=false": False, b"include_vector=true": True}


class FastPath:
    """Pure ASGI middleware; ``app`` is the FastAPI app whose routes and handlers it mirrors."""

    def __init__(self, app: ASGIApp, fastapi_app: FastAPI, state: ServerState) -> None:
        self.app = app
        self.fastapi_app = fastapi_app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            method = scope["method"]
            if method == "POST":
                match = _NEAR_VECTOR.fullmatch(scope["path"])
                if match is not None:
                    await self._near_vector(scope, receive, send, match[1], match[2])
                    return
            elif method == "GET":
                match = _OBJECT.fullmatch(scope["path"])
                flag = _INCLUDE_VECTOR.get(scope["query_string"])
                if match is not None and flag is not None:
                    await self._object(scope, receive, send, match, flag)
                    return
        await self.app(scope, receive, send)

    async def _object(
        self, scope: Scope, receive: Receive, send: Send, match: re.Match[str], vector: bool
    ) -> None:
        """``GET …/search/object/{id}``: FastAPI encodes the record with pydantic-core, as
        ``json_response`` does (the parity tests compare the bytes)."""
        api_key, keys_seen = _api_key(scope)
        if keys_seen > 1:
            await self.app(scope, receive, send)
            return
        ns, idx, record_id = match[1], match[2], match[3]
        try:
            ref = IndexRef(self.state, ns, idx, self.state.keys.check(api_key, ns))
            obj = await run_in_threadpool(stored_object, ref, record_id, vector)
            response = json_response(obj)
        except Exception as exc:
            response = await self._answer(exc, scope, receive)
        await response(scope, receive, send)

    async def _near_vector(
        self, scope: Scope, receive: Receive, send: Send, ns: str, idx: str
    ) -> None:
        content_type: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value
                break
        api_key, keys_seen = _api_key(scope)
        messages, body = await _read_body(receive)
        replay = _replayer(messages, receive)
        body_is_json = content_type == _JSON or (
            content_type is not None and content_type.startswith(_JSON + b";")
        )
        if body is None or not body or not body_is_json or keys_seen > 1:
            await self.app(scope, replay, send)
            return
        try:
            # as fastjson.FastJSONRoute parses it (NaN/Infinity read; the store refuses them)
            data = pydantic_core.from_json(body, allow_inf_nan=True)
            query = NearVector.model_validate(data)
        except (ValueError, pydantic.ValidationError):
            await self.app(scope, replay, send)  # FastAPI words the error
            return
        try:
            # the order of the FastAPI route: the key (a dependency), then the search
            key = self.state.keys.check(api_key, ns)
            ref = IndexRef(self.state, ns, idx, key)
            kwargs = near_vector_kwargs(query)
            # on the thread pool, as the FastAPI route: run on the event loop, a search held
            # every other request while it ran (measured: 20-40% fewer req/s under load),
            # and a filtered or text search can take long
            search = lambda i: i.search.nearest(**kwargs)  # noqa: E731
            response = json_response(await run_in_threadpool(ref.metered, search))
        except Exception as exc:
            response = await self._answer(exc, scope, replay)
        await response(scope, replay, send)

    async def _answer(self, exc: Exception, scope: Scope, receive: Receive) -> Response:
        """The answer the app gives ``exc`` raised in the route: its exception handlers
        (looked up by class as Starlette does), else the route's own 5xx (fastjson.py)."""
        handlers = self.fastapi_app.exception_handlers
        handler = handlers.get(exc.status_code) if isinstance(exc, HTTPException) else None
        for cls in type(exc).__mro__:
            if handler is not None or cls is Exception:
                break  # Exception's handler is the outer one; the route answers first
            handler = handlers.get(cls)
        if handler is None:
            return error_response(exc)
        answer = handler(Request(scope, receive), exc)  # the app's handlers are async
        response: Response = await answer if inspect.isawaitable(answer) else answer
        exc.__traceback__ = None  # as Starlette: a reused exception would pile up frames
        return response


def _api_key(scope: Scope) -> tuple[str | None, int]:
    """The X-API-Key header as FastAPI reads it, and how many times it was sent."""
    key: str | None = None
    seen = 0
    for name, value in scope["headers"]:
        if name == b"x-api-key":
            seen += 1
            key = value.decode("latin-1")
    return key, seen


async def _read_body(receive: Receive) -> tuple[list[Message], bytes | None]:
    """The request's messages and its whole body (None: the client left before sending it)."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return messages, b"".join(chunks)


def _replayer(messages: list[Message], receive: Receive) -> Callable[[], Any]:
    """A ``receive`` that gives back ``messages`` first, then reads on."""
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
