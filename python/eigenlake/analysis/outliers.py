"""``search.outliers``: Local Outlier Factor over a snapshot (``_core.lof``).

``score`` is the LOF (about 1 for inliers, larger = more outlying), i.e. minus scikit-learn's
``negative_outlier_factor_``. A record is an outlier when its negative factor is below the
offset: -1.5 for ``contamination="auto"`` (scikit-learn's choice, from the LOF paper), or the
``contamination`` quantile of the factors for a float in (0, 0.5].
``n_neighbors`` is capped at n - 1, as scikit-learn does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _core
from ..api.checks import check_bool, check_choice, check_int, short_repr
from ..errors import ValidationError
from ._params import METRICS
from .snapshot import Snapshot

AUTO_OFFSET = -1.5


def run_outliers(
    snapshot: Snapshot,
    *,
    n_neighbors: int = 20,
    contamination: float | str = "auto",
    distance_metric: str = "cosine",
    max_results: int | None = None,
    return_all: bool = False,
    filter: dict[str, Any] | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """Rank records by LOF; ``outliers`` holds the flagged ones, most outlying first
    (``return_all=True``: every analysed record with its score and ``is_outlier``).

    ``max_results`` cuts the ranked list (``outlier_count`` still counts every flagged
    record); ``filter``/``limit`` are applied by the caller when it takes the snapshot
    (``limit`` is re-applied here).
    """
    k = check_int("n_neighbors", n_neighbors, minimum=1) or 1
    metric = check_choice("distance_metric", distance_metric, METRICS)
    max_results = check_int("max_results", max_results, minimum=0, optional=True)
    return_all = check_bool("return_all", return_all)
    limit = check_int("limit", limit, minimum=1, optional=True)
    _check_contamination(contamination)

    n = len(snapshot) if limit is None else min(limit, len(snapshot))
    params: dict[str, Any] = {
        "n_neighbors": k,
        "contamination": contamination,
        "distance_metric": metric,
        "num_records": n,
        "offset": None,
        "return_all": return_all,
        "max_results": max_results,
    }
    if n < 2:  # LOF needs at least one neighbour
        return {"outliers": [], "outlier_count": 0, "parameters": params}
    k_used = min(k, n - 1)
    x = np.ascontiguousarray(np.asarray(snapshot.vectors, dtype=np.float32)[:n])
    factor = np.asarray(_core.lof(x, k_used, metric), dtype=np.float64)
    offset = (
        AUTO_OFFSET
        if contamination == "auto"
        else float(np.percentile(factor, 100.0 * float(contamination)))
    )
    flagged = factor < offset
    # Most outlying first; ties keep row order.
    order = np.argsort(factor, kind="stable")
    if not return_all:
        order = order[flagged[order]]
    if max_results is not None:
        order = order[:max_results]
    params.update(n_neighbors=k_used, offset=offset)
    listed = order.tolist()
    uuids = snapshot.uuids
    # properties are read for the listed rows only
    return {
        "outliers": [
            {"uuid": uuids[i], "metadata": m, "score": -f, "is_outlier": o}
            for i, m, f, o in zip(
                listed,
                snapshot.properties(listed),
                factor[order].tolist(),
                flagged[order].tolist(),
                strict=True,
            )
        ],
        "outlier_count": int(flagged.sum()),
        "parameters": params,
    }


def _check_contamination(value: Any) -> None:
    if isinstance(value, str) and value == "auto":  # not `value == "auto"`: arrays broadcast
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 0.5:
        raise ValidationError(
            f'contamination must be "auto" or a number in (0, 0.5], got {short_repr(value)}'
        )
