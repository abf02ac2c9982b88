"""Progress of long analyses: a tqdm bar on stderr that advances at the analysis's safe
points (each k an auto-tune tries, each k-means restart, each DBSCAN eps candidate: the
points where it can also be cancelled, ``analysis/cancel.py``), with the elapsed time.

``progress=None`` shows it only when stderr is a terminal and the analysis covers more than
``SHOW_ABOVE`` records; ``True``/``False`` force it. The analysis reports its steps through
a context variable, so it works where the analysis runs in the caller's thread (embedded,
and the gathered path of a sharded index); a server's analysis cannot report to a client,
so remote calls show none.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

SHOW_ABOVE = 50_000

_step: ContextVar[Callable[[], None] | None] = ContextVar("eigenlake_progress", default=None)


def step() -> None:
    """One safe point passed (a no-op without a bar)."""
    tick = _step.get()
    if tick is not None:
        tick()


@contextmanager
def analysis_bar(progress: bool | None, kind: str, records: int | None) -> Iterator[None]:
    """Show a bar of ``kind``'s steps while the block runs (see the module docstring)."""
    if progress is None:
        show = sys.stderr.isatty() and (records or 0) > SHOW_ABOVE
    else:
        show = bool(progress)
    if not show:
        yield
        return
    from tqdm import tqdm

    with tqdm(desc=kind, unit=" steps", file=sys.stderr, total=None) as bar:
        reset = _step.set(lambda: bar.update(1))
        try:
            yield
        finally:
            _step.reset(reset)
