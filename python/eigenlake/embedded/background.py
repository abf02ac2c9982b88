"""Work that overlaps the caller's: a function run on a worker thread, waited for later.

Bulk writes use it for work that runs without the GIL (``pwrite``/``fsync`` of the vector
file, NumPy's normalisation of the cache rows) while the calling thread encodes and
inserts the rows, which needs the GIL.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any


class Background:
    """``fn(*args)`` started on a daemon thread; ``wait`` joins it and re-raises its error."""

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(fn, args), daemon=True)
        self._thread.start()

    def _run(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            fn(*args)
        except BaseException as e:  # handed to the waiting thread
            self._error = e

    def wait(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error


@contextlib.contextmanager
def overlapping(fn: Callable[..., Any] | None, *args: Any) -> Iterator[None]:
    """Run ``fn(*args)`` in the background for the body's duration (nothing when ``fn`` is
    None). It is always waited for, even when the body fails (so nothing outlives the
    call); its error is raised only when the body's is not."""
    if fn is None:
        yield
        return
    job = Background(fn, *args)
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):
            job.wait()
        raise
    job.wait()
