"""Embedded client: indexes stored on local disk, computed in-process."""

from __future__ import annotations

import os

from ..api.closing import Closing
from .indexes import Indexes


def default_path() -> str:
    """``$EIGENLAKE_PATH``, else the user data directory (XDG on Linux)."""
    env = os.environ.get("EIGENLAKE_PATH")
    if env:
        return env
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share"
    )
    return os.path.join(base, "eigenlake")


class EmbeddedClient(Closing):
    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = os.path.abspath(os.fspath(path) if path is not None else default_path())
        os.makedirs(self.path, exist_ok=True)
        self.indexes = Indexes(self.path)
        self._closed = False

    def ready(self) -> bool:
        return not self._closed and os.path.isdir(self.path)

    def close(self) -> None:
        self.indexes.close()
        self._closed = True

    def __repr__(self) -> str:
        try:
            count = f", indexes={len(self.indexes.list())}"
        except Exception as e:  # a repr must not raise: say why instead
            count = f", unreadable: {type(e).__name__}"
        return f"EmbeddedClient(path={self.path!r}{count}, mode='embedded')"
