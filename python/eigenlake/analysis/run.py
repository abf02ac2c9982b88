"""One entry for the analyses of ``index.search``: what every in-process mode (embedded,
and distributed where it gathers rows to the driver) runs over a snapshot."""

from __future__ import annotations

from typing import Any

from .snapshot import Snapshot


def run_analysis(
    kind: str, snapshot: Snapshot, *, filter: Any, limit: Any, settings: dict[str, Any]
) -> dict[str, Any]:
    """The answer of ``search.<kind>(filter=..., limit=..., **settings)`` over ``snapshot``
    (the rows already selected by ``filter`` and ``limit``, which the answer reports)."""
    if kind == "cluster":
        from .cluster import run_cluster

        return dict(run_cluster(snapshot, filter=filter, limit=limit, **settings))
    if kind == "outliers":
        from .outliers import run_outliers

        return dict(run_outliers(snapshot, filter=filter, limit=limit, **settings))
    if kind == "topics":
        from .topics import run_topics

        return dict(run_topics(snapshot, limit=limit, **settings))
    raise ValueError(f"unknown analysis {kind!r}")
