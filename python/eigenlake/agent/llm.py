"""Plug a language model in as the planner: ``LLMPlanner(complete)``.

``complete(prompt) -> str`` is any function that sends a prompt to a model and returns its
text (EigenLake ships none and needs no network). The model is asked for a JSON object
``{"action": ..., "filter": ..., "explanation": ...}``; an answer that is not such an object,
or names an unknown action, falls back to the rule-based planner, so a bad completion never
turns into a silent wrong filter.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from .plan import ACTIONS, Plan, PlanContext, Planner
from .rules import RuleBasedPlanner

MAX_VALUES_IN_PROMPT = 30

PROMPT = """You turn a request about records in a vector database into a JSON plan.
Properties (name: type, filterable, some known values):
{fields}
Filters are Mongo-style: {{"length": {{"$gte": 100}}}}, {{"organism": {{"$eq": "Homo sapiens"}}}},
operators $eq $ne $gt $gte $lt $lte $in $nin $exists $contains $and $or $not; datetimes are
ISO-8601 strings; now is {now}. Time windows use the property "{time_field}"; failures are
"{failure_field}" in {failure_values}.
Actions: cluster (group/themes), filter (show/find/list), outliers (unusual), topics, none
(when the request cannot be answered from these properties).
Answer with one JSON object only: {{"action": "...", "filter": {{...}} or null, "explanation": "..."}}
Request: {query}
"""


class LLMPlanner:
    def __init__(self, complete: Callable[[str], str], fallback: Planner | None = None) -> None:
        self.complete = complete
        self.fallback = fallback or RuleBasedPlanner()

    def prompt(self, query: str, context: PlanContext) -> str:
        lines = []
        for f in context.fields.values():
            values = ", ".join(f.values[:MAX_VALUES_IN_PROMPT]) if f.values else ""
            more = " ..." if len(f.values) > MAX_VALUES_IN_PROMPT else ""
            lines.append(
                f"- {f.name}: {f.type}, {'filterable' if f.filterable else 'not filterable'}"
                + (f"; values: {values}{more}" if values else "")
            )
        return PROMPT.format(
            fields="\n".join(lines),
            now=context.now.isoformat(),
            time_field=context.time_field,
            failure_field=context.failure_field,
            failure_values=context.failure_values,
            query=query,
        )

    def plan(self, query: str, context: PlanContext) -> Plan:
        text = self.complete(self.prompt(query, context))
        m = re.search(r"\{.*\}", text, re.DOTALL)  # models like to wrap JSON in prose
        try:
            answer = json.loads(m.group(0)) if m else None
        except json.JSONDecodeError:
            answer = None
        if (
            not isinstance(answer, dict)
            or answer.get("action") not in ACTIONS
            or not isinstance(answer.get("filter"), (dict, type(None)))
        ):
            plan = self.fallback.plan(query, context)
            plan.explanation = f"model answer unusable, rule-based plan: {plan.explanation}"
            return plan
        return Plan(
            action=answer["action"],
            filter=answer.get("filter") or None,
            explanation=str(answer.get("explanation") or "planned by the model"),
        )
