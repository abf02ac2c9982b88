"""FastAPI app factory for `eigenlake serve`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from .. import __version__
from . import errors
from .auth import KeyRing
from .deps import ApiKey
from .fastpath import FastPath
from .limits import BodyLimit
from .routes_indexes import router as indexes_router
from .routes_records import router as records_router
from .routes_search import router as search_router
from .state import ServerState

DEFAULT_MAX_BODY = 64 * 1024 * 1024


def create_app(
    client: Any = None,
    *,
    path: str | None = None,
    keys: KeyRing | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY,
    fast_path: bool = True,
) -> FastAPI:
    """An app serving ``client`` (an embedded client), or the embedded store at ``path``.

    A store the app opened itself is closed at shutdown; a passed-in client stays open.
    ``fast_path=False`` leaves every request to FastAPI (``fastpath.py``; tests compare).
    """
    owns = client is None
    if client is None:
        from ..embedded.client import EmbeddedClient

        client = EmbeddedClient(path=path)
    state = ServerState(client, keys, owns_client=owns)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        # uvicorn has drained in-flight requests by now; finish queued jobs, then close.
        state.shutdown()

    app = FastAPI(title="EigenLake", version=__version__, lifespan=lifespan)
    app.state.eigenlake = state
    if fast_path:  # added first: the innermost middleware, behind the body limit and guard
        app.add_middleware(FastPath, fastapi_app=app, state=state)
    errors.install(app)

    @app.get("/v1/health/ready", tags=["health"])
    def ready() -> dict[str, bool]:
        return {"ready": True}

    @app.get("/v1/usage", tags=["usage"])
    async def usage(x_api_key: ApiKey = None) -> dict[str, Any]:
        """Search units per key and index since the ledger began, and per key today (UTC):
        every key's for an admin key, the caller's own otherwise (``api/usage.py``)."""
        return state.usage.report(state.keys.check(x_api_key, None))

    app.include_router(indexes_router)
    app.include_router(records_router)
    app.include_router(search_router)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    return app
