"""Parameter checks shared by the analyses; each error names the parameter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..api.checks import MAX_INT
from ..errors import ValidationError

METRICS = ("cosine", "euclidean")

# Most clusters one k-means run may be asked for (``num_clusters``, ``num_topics``). Each
# iteration costs O(n·k·d) and the answer lists every cluster; beyond a few thousand groups
# k-means is the wrong tool (use DBSCAN or a finer filter). Any k is also capped at the rows.
MAX_NUM_CLUSTERS = 10_000
# Most clusters ``auto_tune`` may try (``max_clusters``, so also ``min_clusters``). It runs
# one k-means and one silhouette per k in [min_clusters, max_clusters], so its cost grows
# with the square of max_clusters: 256 is already ~33,000 k-means "cluster-runs" (sum of k).
MAX_AUTO_TUNE_CLUSTERS = 256


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ValidationError(f"{name} must be one of {list(choices)}, got {value!r}")
    return str(value)


def check_int(
    name: str,
    value: Any,
    *,
    minimum: int,
    maximum: int | None = None,
    why: str = "",
    optional: bool = False,
) -> int | None:
    """``value`` as an int in [minimum, maximum]; ``why`` explains the maximum."""
    if value is None and optional:
        return None
    # bool is an int subclass; True as a cluster count is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValidationError(f"{name} must be >= {minimum}, got {value}")
    if maximum is None:  # no cap of its own: still one the core's integers can hold
        maximum, why = MAX_INT, " (the largest count accepted anywhere)"
    if value > maximum:
        raise ValidationError(f"{name} must be <= {maximum}{why}, got {value}")
    return value


def check_positive_float(name: str, value: Any, *, optional: bool = False) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationError(f"{name} must be a number, got {value!r}")
    if not value > 0:
        raise ValidationError(f"{name} must be > 0, got {value}")
    return float(value)


def check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(f"{name} must be true or false, got {value!r}")
    return value


def check_text_fields(value: Any) -> list[str] | None:
    """None, a field name, or a list of field names; an empty list means none."""
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(f, str) for f in value):
        raise ValidationError(f"text_fields must be a list of property names, got {value!r}")
    return list(value) or None
