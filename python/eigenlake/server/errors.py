"""The one place where exceptions become HTTP status codes and `{"detail": ...}` bodies."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import EigenlakeError, StorageError

log = logging.getLogger("eigenlake.server")

# Names the error class of a 5xx answer the remote client maps back (the body stays
# `{"detail": str}`); only for classes a bare status cannot tell apart.
ERROR_HEADER = "x-eigenlake-error"
# BaseExceptions that stop the server or a task: passed on, never turned into an answer.
_PASS_ON = (KeyboardInterrupt, SystemExit, GeneratorExit, asyncio.CancelledError)


def status_for(exc: BaseException) -> int:
    """Status code of an exception raised by the embedded store."""
    if isinstance(exc, EigenlakeError):
        return int(exc.status_code)
    # Builtins raised on bad input deep in the store (e.g. NumPy shape errors) are the
    # caller's fault; answering 5xx would make clients retry a request that cannot succeed.
    if isinstance(exc, (ValueError, TypeError, KeyError)):
        return 422
    # A feature whose module is not in this build (e.g. an analysis not installed).
    if isinstance(exc, (ImportError, NotImplementedError)):
        return 501
    return 500


def _error(status: int, detail: Any) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def error_response(exc: BaseException) -> JSONResponse:
    """The answer to an exception no specific handler took (5xx logged, details hidden)."""
    if isinstance(exc, StorageError):
        return storage_response(exc)
    status = status_for(exc)
    if status == 501:
        return _error(status, f"not available in this build: {exc}")
    if status >= 500:
        log.error("internal error", exc_info=exc)
        return _error(status, "internal server error")
    return _error(status, str(exc) or type(exc).__name__)


def storage_response(exc: StorageError) -> JSONResponse:
    """Damage is the operator's to repair: the answer says what and where (not "internal
    server error"), and names the class for the remote client."""
    log.error("damaged storage: %s", exc.message)
    answer = _error(status_for(exc), storage_detail(exc))
    answer.headers[ERROR_HEADER] = "StorageError"
    return answer


def storage_detail(exc: StorageError) -> str:
    """The damage message without the server's data root: the file is named from its
    namespace directory on (``<namespace>/<index>/index.sqlite``), as clients know it."""
    path = exc.filename
    if not isinstance(path, str) or not path:
        return exc.message
    root = os.path.dirname(os.path.dirname(os.path.dirname(path)))
    return exc.message.replace(root + os.sep, "") if root else exc.message


class PanicGuard:
    """Pure ASGI middleware: a BaseException that is not an Exception (a Rust panic
    surfaces as ``pyo3_runtime.PanicException``) passes every Starlette handler and would
    reach the client as a plain-text 500; answer it as the JSON error shape instead."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            raise  # the handlers installed below answered or chose not to
        except BaseException as exc:
            if _passes_on(exc) or started:
                raise  # a stop or cancel; or half an answer already sent (nothing to fix)
            log.error("internal error (panic)", exc_info=exc)
            body = json.dumps({"detail": "internal server error"}).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})


def _passes_on(exc: BaseException) -> bool:
    inner = getattr(exc, "exceptions", None)  # a BaseExceptionGroup (from a task group)
    if isinstance(inner, tuple):
        return any(_passes_on(e) for e in inner if isinstance(e, BaseException))
    return isinstance(exc, _PASS_ON)


def _describe_validation(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        parts.append(f"{loc or 'body'}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def install(app: FastAPI) -> None:
    """Register handlers so every error answer is `{"detail": str}`."""

    @app.exception_handler(EigenlakeError)
    async def _eigenlake(_: Request, exc: EigenlakeError) -> JSONResponse:
        if isinstance(exc, StorageError):
            return storage_response(exc)
        return _error(status_for(exc), exc.message or str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        json_broken = any(e.get("type") == "json_invalid" for e in exc.errors())
        return _error(400 if json_broken else 422, _describe_validation(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
        )

    async def _other(_: Request, exc: Exception) -> JSONResponse:
        return error_response(exc)

    # Listed one by one so they are handled inside the app, not by the outer 500 middleware.
    for cls in (ValueError, TypeError, KeyError, ImportError, NotImplementedError, Exception):
        app.add_exception_handler(cls, _other)
    app.add_middleware(PanicGuard)
