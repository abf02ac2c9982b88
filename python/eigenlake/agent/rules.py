"""The offline rule-based planner: intent words + conditions read off the index's schema/data."""

from __future__ import annotations

import re
from typing import Any

from .intents import detect_intent
from .numbers import comparisons
from .plan import Plan, PlanContext
from .text import Condition, Request
from .values import value_matches
from .windows import failures, time_windows

_NUMBER = re.compile(r"\b\d+(?:[.,]\d+)*\b")


class RuleBasedPlanner:
    """Reads a request with fixed rules; needs no network and no model.

    Conditions are taken in this order, each masking the words it used: time windows,
    failure words, numeric comparisons, then values of string properties (longest first).
    """

    def plan(self, query: str, context: PlanContext) -> Plan:
        req = Request(query)
        unresolved: list[str] = []
        conds: list[Condition] = []
        conds += time_windows(req, context, unresolved)
        conds += failures(req, context, unresolved)
        conds += comparisons(req, context, unresolved)
        conds += value_matches(req, context)
        flt = combine([c.filter for c in conds])
        action, word = detect_intent(req.lower)
        if action == "filter?":
            action, word = ("filter", word) if conds else ("none", None)
        if action is None:
            action, word = ("filter", None) if conds else ("none", None)
        parts = [f"action {action}" + (f" (from '{word}')" if word else "")]
        parts.append("filter: " + ("; ".join(c.description for c in conds) if conds else "none"))
        leftover = [m.group(0) for m in req.matches(_NUMBER)]
        if leftover:  # said, but not part of any condition: say so rather than drop it quietly
            parts.append("ignored numbers: " + ", ".join(leftover))
        if unresolved:
            parts.append("not understood: " + "; ".join(unresolved))
        elif action == "none":
            parts.append(
                "no action (cluster, list, outliers, topics) and no known value, number or time "
                "window found in the request"
            )
        return Plan(action=action, filter=flt, explanation="; ".join(parts), unresolved=unresolved)


def combine(filters: list[dict[str, Any]]) -> dict[str, Any] | None:
    """None, the one filter, or their ``$and``."""
    if not filters:
        return None
    return filters[0] if len(filters) == 1 else {"$and": filters}
