"""The one place where exceptions become HTTP status codes and `{"detail": ...}` bodies."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import EigenlakeError

log = logging.getLogger("eigenlake.server")


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
    status = status_for(exc)
    if status == 501:
        return _error(status, f"not available in this build: {exc}")
    if status >= 500:
        log.error("internal error", exc_info=exc)
        return _error(status, "internal server error")
    return _error(status, str(exc) or type(exc).__name__)


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
