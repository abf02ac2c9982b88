"""Calling shard actors: fan out, wait, and surface the shard's own EigenLake error."""

from __future__ import annotations

from typing import Any

from ..errors import EigenlakeError, NetworkError


def gather(refs: list[Any]) -> list[Any]:
    """``ray.get`` that re-raises an ``EigenlakeError`` raised inside a shard as itself, so
    callers catch the same classes as in embedded mode."""
    import ray
    from ray.exceptions import RayActorError, RayTaskError

    try:
        return list(ray.get(refs))
    except RayTaskError as e:
        cause = getattr(e, "cause", None)
        if isinstance(cause, EigenlakeError):
            raise cause from None
        raise
    except RayActorError as e:  # a shard died: its data is on disk, reconnect to recover
        raise NetworkError(f"a shard actor is unavailable: {e}") from e


def one(ref: Any) -> Any:
    return gather([ref])[0]
