"""Run the app on uvicorn, exiting 0 after a graceful SIGTERM/SIGINT shutdown.

On a signal uvicorn stops accepting, lets in-flight requests finish, then runs the app's
lifespan shutdown (queued jobs, store close). Stock uvicorn then re-raises the signal, which
makes a clean stop look like a kill to supervisors and tests; this server does not.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from typing import Any

import uvicorn

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class GracefulServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        previous = {s: signal.signal(s, self.handle_exit) for s in _SIGNALS}
        try:
            yield
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)


def run(app: Any, *, host: str, port: int, log_level: str = "info") -> None:
    config = uvicorn.Config(
        app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=30
    )
    GracefulServer(config).run()
