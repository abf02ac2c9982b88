"""``index.agent.query``: plan a request, then run the action over the filtered records."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..analysis._params import check_text_fields
from ..analysis.cluster import run_cluster
from ..analysis.outliers import run_outliers
from ..analysis.run import report_matched
from ..analysis.topics import run_topics
from ..api import usage
from ..api.checks import (
    MAX_INT,
    check_bool,
    check_choice,
    check_filter_arg,
    check_int,
    check_number,
    check_str,
    short_repr,
)
from ..errors import ValidationError
from .context import build_context, take_snapshot
from .plan import ACTIONS, Plan, PlanContext, Planner
from .rules import RuleBasedPlanner, combine

MODES = ("auto", "cluster", "filter", "outliers", "topics")
DEFAULT_FAILURE_VALUES = ["failure", "failed", "error"]
ALGORITHMS = ("kmeans", "dbscan")
# "recent" reaches back this far at most: a century is any record's lifetime, and much
# further runs past year 1, where datetime arithmetic overflows.
MAX_RECENT_DAYS = 36_525
# A string property whose values are mostly distinct (ids, sequences) makes no keywords.
MAX_SUMMARY_DISTINCT_RATIO = 0.5

_default_planner: Planner = RuleBasedPlanner()


def set_default_planner(planner: Planner | None) -> None:
    """Use ``planner`` for every ``agent.query`` (None restores the rule-based one)."""
    global _default_planner
    _default_planner = planner or RuleBasedPlanner()


def run_query(
    index: Any,
    query: str,
    *,
    filter: dict[str, Any] | None = None,
    limit: int | None = 1000,
    mode: str = "auto",
    algorithm: str = "kmeans",
    num_clusters: int | None = None,
    text_fields: list[str] | None = None,
    auto_tune: bool = False,
    min_clusters: int = 2,
    max_clusters: int = 8,
    dbscan_eps: float | None = None,
    dbscan_min_samples: int = 5,
    time_field: str = "created_at",
    failure_field: str = "status",
    failure_values: list[str] | None = None,
    recent_days: int = 7,
    planner: Planner | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Answer a natural-language request: ``action``, ``filter``, ``explanation`` + results.

    ``mode`` other than "auto" forces the action; the filter is still inferred, and ANDed
    with ``filter`` when one is given. A request with parts the planner cannot turn into a
    filter is answered with action "none" and says which parts, rather than run on a guess.
    """
    if not isinstance(query, str) or not query.strip():
        raise ValidationError("query must be a non-empty string")
    # Every argument is checked here, before anything runs: an analysis the plan does not
    # reach (e.g. clustering settings on a listing) must not hide a bad value.
    mode = check_choice("mode", mode, MODES)
    check_filter_arg(filter)
    limit = check_int("limit", limit, minimum=1, maximum=MAX_INT, optional=True)
    algorithm = check_choice("algorithm", algorithm, ALGORITHMS)
    num_clusters = check_int("num_clusters", num_clusters, minimum=1, optional=True)
    auto_tune = check_bool("auto_tune", auto_tune)
    min_clusters = check_int("min_clusters", min_clusters, minimum=2) or 2
    max_clusters = check_int("max_clusters", max_clusters, minimum=2) or 2
    dbscan_eps = check_number("dbscan_eps", dbscan_eps, optional=True, positive=True)
    dbscan_min_samples = check_int("dbscan_min_samples", dbscan_min_samples, minimum=1) or 1
    time_field = check_str("time_field", time_field) or ""
    failure_field = check_str("failure_field", failure_field) or ""
    recent_days = check_int("recent_days", recent_days, minimum=1, maximum=MAX_RECENT_DAYS) or 1
    fields = check_text_fields(text_fields)
    if failure_values is not None and not (
        isinstance(failure_values, list) and all(isinstance(v, str) for v in failure_values)
    ):
        raise ValidationError(
            f"failure_values must be a list of strings, got {short_repr(failure_values)}"
        )

    ctx = build_context(
        index,
        time_field=time_field,
        failure_field=failure_field,
        failure_values=failure_values or list(DEFAULT_FAILURE_VALUES),
        recent_days=recent_days,
        now=now or dt.datetime.now(dt.timezone.utc),
    )
    plan = (planner or _default_planner).plan(query, ctx)
    if plan.action not in ACTIONS:
        raise ValidationError(f"planner returned unknown action {plan.action!r}")
    # the answer's filter is always a filter dict: {} when nothing was inferred
    answer: dict[str, Any] = {"query": query, "action": plan.action, "filter": plan.filter or {}}
    if plan.unresolved:
        answer.update(
            action="none",
            explanation=plan.explanation + ". Nothing was run: rephrase, or pass filter=...",
        )
        return answer
    action = plan.action if mode == "auto" else mode
    explanation = plan.explanation if action == plan.action else f"{plan.explanation}; mode={mode}"
    if action == "none":
        answer["explanation"] = explanation
        return answer

    if filter:
        take_snapshot(index, filter, 0)  # the caller's own filter is checked (and raises) first
    flt = combine([f for f in (filter, plan.filter) if f])
    try:
        snap = take_snapshot(index, flt, limit)
    except ValidationError as e:
        # A plug-in planner (e.g. a model) may name a property the index cannot filter on.
        answer.update(
            action="none", explanation=f"{explanation}; the planned filter is invalid: {e}"
        )
        return answer
    if len(snap) == 0:
        explanation += "; no records match this filter"
    answer.update(action=action, filter=flt or {}, explanation=explanation, count=len(snap))
    if action == "filter":
        answer["objects"] = [
            {"uuid": u, "metadata": m} for u, m in zip(snap.uuids, snap.metadata, strict=True)
        ]
    elif action == "cluster":
        result = run_cluster(
            snap,
            algorithm=algorithm,
            num_clusters=num_clusters,
            text_fields=fields or _summary_fields(ctx) or None,
            auto_tune=auto_tune,
            min_clusters=min_clusters,
            max_clusters=max_clusters,
            dbscan_eps=dbscan_eps,
            dbscan_min_samples=dbscan_min_samples,
        )
        for c in result["clusters"]:
            c.setdefault("summary", "")
        answer.update(result)
    elif action == "outliers":
        answer.update(run_outliers(snap))
    else:
        topic_fields = fields or _summary_fields(ctx)
        if not topic_fields:
            raise ValidationError("topics need text: pass text_fields=[...] (no string property)")
        answer.update(run_topics(snap, text_fields=topic_fields, num_topics=num_clusters))
    if action != "filter":
        matched = len(snap) if snap.matched is None else snap.matched
        report_matched(action, answer, matched, len(snap))
    answer["usage"] = usage.scanned(
        len(snap), snap.vectors.shape[1] if snap.vectors.ndim == 2 else 0
    )
    return answer


def plan_only(index: Any, query: str, **settings: Any) -> Plan:
    """The plan the default planner makes for ``query`` (nothing is run)."""
    return _default_planner.plan(query, build_context(index, **settings))


def _summary_fields(ctx: PlanContext) -> list[str]:
    """String properties that describe groups rather than identify records."""
    return [
        f.name
        for f in ctx.fields.values()
        if f.type == "string" and f.values and f.distinct_ratio <= MAX_SUMMARY_DISTINCT_RATIO
    ]
