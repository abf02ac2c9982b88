"""The argument checkers outside ``api/checks.py`` (the analyses' ``_params``, ingest's
``check_mode``) are ``api.checks``: a NumPy array, a huge number or a NumPy integer gets
the same answer everywhere, never a raw Python error; and ``check_nesting`` walks only a
filter's containers, not each of its scalars."""

from __future__ import annotations

import tracemalloc
from typing import Any

import numpy as np
import pytest

from eigenlake.analysis import _params
from eigenlake.api import checks
from eigenlake.api.checks import MAX_FILTER_DEPTH, TOO_DEEP, check_nesting
from eigenlake.embedded.ingest import check_mode
from eigenlake.errors import ValidationError

ARRAY = np.array(["kmeans", "dbscan"])


@pytest.mark.parametrize(
    ("check", "name"),
    [
        (lambda v: check_mode("on_duplicate", v, ("error", "skip")), "on_duplicate"),
        (lambda v: _params.check_choice("algorithm", v, ("kmeans", "dbscan")), "algorithm"),
        (lambda v: checks.check_choice("algorithm", v, ("kmeans", "dbscan")), "algorithm"),
    ],
)
@pytest.mark.parametrize("value", [ARRAY, np.array(["kmeans"]), ["kmeans"], 1, None])
def test_choices_refuse_non_strings_by_name(check: Any, name: str, value: Any) -> None:
    with pytest.raises(ValidationError, match=f"^{name} must be one of "):
        check(value)


def test_choices_take_their_strings() -> None:
    check_mode("on_duplicate", "skip", ("error", "skip"))
    assert _params.check_choice("algorithm", "dbscan", ("kmeans", "dbscan")) == "dbscan"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        pytest.param(10**400, "finite", id="10**400"),  # float() raised OverflowError
        (float("inf"), "finite"),
        (float("nan"), "finite"),
        (0, "> 0"),
        (-0.5, "> 0"),
        (np.float32(0), "> 0"),
        (True, "a number"),
        (np.True_, "a number"),
        ("0.5", "a number"),
        (1 + 0j, "a number"),
        (ARRAY, "a number"),
    ],
)
def test_positive_numbers_refuse_by_name(value: Any, problem: str) -> None:
    for check in (_params.check_positive_float, checks.check_positive_number):
        with pytest.raises(ValidationError, match=f"^dbscan_eps must be .*{problem}"):
            check("dbscan_eps", value)


@pytest.mark.parametrize("value", [0.5, 2, np.float32(0.5), np.float64(0.5), np.int64(2)])
def test_positive_numbers_take_numpy_numbers(value: Any) -> None:
    out = _params.check_positive_float("dbscan_eps", value)
    assert type(out) is float and out == pytest.approx(float(value))
    assert _params.check_positive_float("dbscan_eps", None, optional=True) is None


@pytest.mark.parametrize("value", [np.int64(3), np.int32(3), np.uint8(3), 3])
def test_analysis_counts_take_numpy_integers_as_every_count_does(value: Any) -> None:
    out = _params.check_int("num_clusters", value, minimum=1, maximum=10)
    assert type(out) is int and out == 3
    assert checks.check_limit(value) == 3


@pytest.mark.parametrize("value", [True, np.True_, 3.0, "3", ARRAY, None])
def test_analysis_counts_refuse_what_is_not_an_integer(value: Any) -> None:
    with pytest.raises(ValidationError, match="^num_clusters must be an integer"):
        _params.check_int("num_clusters", value, minimum=1)


def test_analysis_counts_explain_their_maximum() -> None:
    with pytest.raises(ValidationError, match=r"^k must be <= 10,000 \(MAX_NUM_CLUSTERS\), got"):
        _params.check_int(
            "k", np.int64(10**9), minimum=1, maximum=10_000, why=" (MAX_NUM_CLUSTERS)"
        )
    with pytest.raises(ValidationError, match=r"\(the largest count accepted anywhere\)"):
        _params.check_int("k", 2**64, minimum=1)
    with pytest.raises(ValidationError, match=r"^k must be <= 5 \(five\), got 6$"):
        checks.check_int("k", 6, maximum=5, why=" (five)")


def test_check_nesting_does_not_push_the_scalars_of_a_filter() -> None:
    """{"p": {"$in": [100,000 ids]}} pushed 100,000 (value, depth) pairs (~27 ms a query,
    ~7 MB); only containers are walked now."""
    flt = {"p": {"$in": list(range(100_000))}, "q": {"$in": [str(i) for i in range(1000)]}}
    tracemalloc.start()
    try:
        check_nesting(flt)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 100_000, peak


def _nested(levels: int) -> dict[str, Any]:
    flt: dict[str, Any] = {"p": {"$in": [1, 2, [3], {"x": 4}]}}
    for i in range(levels):
        flt = {"$not": flt} if i % 2 else {"$and": [flt, {"q": {"$eq": 1}}]}
    return flt


def test_check_nesting_depth_is_unchanged() -> None:
    check_nesting(_nested(MAX_FILTER_DEPTH))
    check_nesting({"$and": [1, "x", None, 2.5]})
    check_nesting(5)  # not a container: the filter parser names the problem
    deep: Any = 1
    for _ in range(2 * MAX_FILTER_DEPTH + 3):  # the most containers allowed
        deep = [deep]
    check_nesting(deep)
    for too_deep in ([deep], (deep,), {"k": deep}, _nested(2 * MAX_FILTER_DEPTH)):
        with pytest.raises(ValidationError, match=f"^where: {TOO_DEEP.replace('$', '[$]')}"):
            check_nesting(too_deep, "where")
