"""The context manager every client is: ``with eigenlake.connect(...) as client:`` closes
it on leaving, whatever the mode (written once here)."""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar

_C = TypeVar("_C", bound="Closing")


class Closing:
    """Base of the clients: ``__enter__`` gives the client, ``__exit__`` calls ``close``."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self: _C) -> _C:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
