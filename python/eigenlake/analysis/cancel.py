"""Cooperative cancellation of long analyses (e.g. ``cluster(auto_tune=True)`` on many rows).

A caller that may give up (the HTTP server, when its client disconnects) runs the analysis
inside ``scope(token)`` and sets the ``threading.Event`` token from elsewhere; the analysis
calls ``check()`` at its safe points (between the ks of an auto-tune, between eps candidates,
between k-means restarts) and stops there with :class:`Cancelled`. Without a token ``check()``
is one ``ContextVar.get``: embedded calls never stop on their own.

The variable is per context, so set the scope in the thread that runs the analysis.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from ..api import progress
from ..errors import EigenlakeError

__all__ = ["Cancelled", "check", "scope"]


class Cancelled(EigenlakeError):
    """The analysis was stopped at a safe point because its token was set (the HTTP client
    went away). Status 499, nginx's "client closed request": nobody reads the answer."""

    status_code = 499


_token: ContextVar[threading.Event | None] = ContextVar("eigenlake_cancel_token", default=None)


def check() -> None:
    """Raise :class:`Cancelled` if the current scope's token is set; a no-op without one.
    A safe point is also a step of the caller's progress bar (``api/progress.py``)."""
    progress.step()
    token = _token.get()
    if token is not None and token.is_set():
        raise Cancelled("analysis cancelled: the client closed the request")


@contextmanager
def scope(token: threading.Event | None) -> Iterator[threading.Event | None]:
    """Make ``token`` the current one for the code run inside (None: not cancellable)."""
    reset = _token.set(token)
    try:
        yield token
    finally:
        _token.reset(reset)
