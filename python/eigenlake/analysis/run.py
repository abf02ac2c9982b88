"""One entry for the analyses of ``index.search``: what every in-process mode (embedded,
and distributed where it gathers rows to the driver) runs over a snapshot."""

from __future__ import annotations

import logging
from typing import Any

from ..api import usage
from .snapshot import Snapshot

log = logging.getLogger("eigenlake")


def run_analysis(
    kind: str, snapshot: Snapshot, *, filter: Any, limit: Any, settings: dict[str, Any]
) -> dict[str, Any]:
    """The answer of ``search.<kind>(filter=..., limit=..., **settings)`` over ``snapshot``
    (the rows already selected by ``filter`` and ``limit``, which the answer reports)."""
    if kind == "cluster":
        from .cluster import run_cluster

        result = dict(run_cluster(snapshot, filter=filter, limit=limit, **settings))
    elif kind == "outliers":
        from .outliers import run_outliers

        result = dict(run_outliers(snapshot, filter=filter, limit=limit, **settings))
    elif kind == "topics":
        from .topics import run_topics

        result = dict(run_topics(snapshot, limit=limit, **settings))
    else:
        raise ValueError(f"unknown analysis {kind!r}")
    matched = len(snapshot) if snapshot.matched is None else snapshot.matched
    dims = snapshot.vectors.shape[1] if snapshot.vectors.ndim == 2 else 0
    result["usage"] = usage.scanned(len(snapshot), dims)
    return report_matched(kind, result, matched, len(snapshot))


def report_matched(
    kind: str, result: dict[str, Any], matched: int, analysed: int
) -> dict[str, Any]:
    """Say in the answer's ``parameters`` how many records matched the filter
    (``num_matched``) besides how many were analysed (``num_records``), and warn when a
    ``limit`` left some out: a sample taken silently reads like the whole collection."""
    params = result.get("parameters")
    if isinstance(params, dict):
        params["num_matched"] = int(matched)
    if matched > analysed:
        log.warning(
            "%s analysed the first %d of %d matching records (limit=%d); "
            "pass limit=None to analyse them all",
            kind,
            analysed,
            matched,
            analysed,
        )
    return result
