"""``index.agent.query``: plan a request, then run the action over the filtered records."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..analysis._params import check_choice, check_int, check_text_fields
from ..analysis.cluster import run_cluster
from ..analysis.outliers import run_outliers
from ..analysis.topics import run_topics
from ..errors import ValidationError
from .context import build_context
from .plan import ACTIONS, Plan, PlanContext, Planner
from .rules import RuleBasedPlanner, combine

MODES = ("auto", "cluster", "filter", "outliers", "topics")
DEFAULT_FAILURE_VALUES = ["failure", "failed", "error"]
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
    limit: int = 1000,
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
    mode = check_choice("mode", mode, MODES)
    limit = check_int("limit", limit, minimum=1) or 1
    recent_days = check_int("recent_days", recent_days, minimum=1) or 1
    fields = check_text_fields(text_fields)
    if failure_values is not None and not (
        isinstance(failure_values, list) and all(isinstance(v, str) for v in failure_values)
    ):
        raise ValidationError(f"failure_values must be a list of strings, got {failure_values!r}")
    if filter is not None and not isinstance(filter, dict):
        raise ValidationError(f"filter must be a filter dict, got {filter!r}")

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
    answer: dict[str, Any] = {"query": query, "action": plan.action, "filter": plan.filter}
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
        index._snapshot(filter, 0)  # the caller's own filter is checked (and raises) first
    flt = combine([f for f in (filter, plan.filter) if f])
    try:
        snap = index._snapshot(flt, limit)
    except ValidationError as e:
        # A plug-in planner (e.g. a model) may name a property the index cannot filter on.
        answer.update(
            action="none", explanation=f"{explanation}; the planned filter is invalid: {e}"
        )
        return answer
    if len(snap) == 0:
        explanation += "; no records match this filter"
    answer.update(action=action, filter=flt, explanation=explanation, count=len(snap))
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
