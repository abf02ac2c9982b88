"""Parameter checks shared by the analyses; each error names the parameter. They are the
``api.checks`` functions (one message, one refusal for every argument), with the analyses'
defaults: ``check_int``'s maximum is ``MAX_INT`` unless given."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..api import checks
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
    return checks.check_choice(name, value, choices)


def check_int(
    name: str,
    value: Any,
    *,
    minimum: int,
    maximum: int | None = None,
    why: str = "",
    optional: bool = False,
) -> int | None:
    """``value`` as an int in [minimum, maximum] (NumPy integers too, as everywhere);
    ``why`` explains the maximum."""
    if maximum is None:  # no cap of its own: still one the core's integers can hold
        maximum, why = MAX_INT, " (the largest count accepted anywhere)"
    return checks.check_int(
        name, value, minimum=minimum, maximum=maximum, why=why, optional=optional
    )


def check_positive_float(name: str, value: Any, *, optional: bool = False) -> float | None:
    return checks.check_positive_number(name, value, optional=optional)


def check_bool(name: str, value: Any) -> bool:
    return checks.check_bool(name, value)


def check_text_fields(value: Any) -> list[str] | None:
    """None, a field name, or a list of field names; an empty list means none."""
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(f, str) for f in value):
        raise ValidationError(f"text_fields must be a list of property names, got {value!r}")
    return list(value) or None
