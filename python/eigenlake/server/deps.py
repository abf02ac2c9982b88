"""Dependencies shared by the routes: the server state, the key check, the opened index."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

from fastapi import Depends, Header, Path, Request

from .auth import KeyEntry
from .state import ServerState

if TYPE_CHECKING:
    from ..api import protocols as api

T = TypeVar("T")

ApiKey = Annotated[str | None, Header(alias="X-API-Key", include_in_schema=True)]


# The dependencies are `async`: they do no I/O, and FastAPI runs a sync dependency on its
# thread pool, one hand-off per dependency per request (measured: 4 hand-offs a search).
async def get_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.eigenlake
    return state


State = Annotated[ServerState, Depends(get_state)]


class IndexRef:
    """An authorised, opened index and where it lives."""

    def __init__(
        self, state: ServerState, namespace: str, name: str, key: KeyEntry | None = None
    ) -> None:
        self.state = state
        self.namespace = namespace
        self.name = name
        self.key = key  # the caller's key (None: a server without keys)

    @property
    def owner(self) -> tuple[str, str]:
        return (self.namespace, self.name)

    def index(self) -> api.Index:
        return self.state.index(self.namespace, self.name)

    def call(self, fn: Callable[[api.Index], T]) -> T:
        """Run ``fn(index)`` on the opened index (404 when it does not exist)."""
        return fn(self.index())

    def metered(self, fn: Callable[[api.Index], T]) -> T:
        """``call`` for a search or an analysis: refused (429) when the key has used its
        search units for the day; its answer's ``usage`` is added to the key's totals."""
        ledger = self.state.usage
        ledger.check_quota(self.key)
        answer = fn(self.index())
        ledger.record(self.key, self.namespace, self.name, answer)
        return answer


async def index_ref(
    state: State,
    ns: Annotated[str, Path(min_length=1)],
    idx: Annotated[str, Path(min_length=1)],
    x_api_key: ApiKey = None,
) -> IndexRef:
    key = state.keys.check(x_api_key, ns)
    return IndexRef(state, ns, idx, key)


Ref = Annotated[IndexRef, Depends(index_ref)]
