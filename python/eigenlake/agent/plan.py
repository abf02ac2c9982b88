"""What a planner sees (``PlanContext``) and returns (``Plan``), and the ``Planner`` protocol.

A planner turns a request into an action and a filter. The shipped one is rule-based and
offline (``rules.RuleBasedPlanner``); an LLM planner only has to implement ``plan``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

ACTIONS = ("cluster", "filter", "outliers", "topics", "none")


@dataclass
class FieldInfo:
    """One property of the index as the planner needs it."""

    name: str
    type: str  # string, integer, number, boolean, datetime, date, array
    filterable: bool = True
    values: list[str] = field(default_factory=list)  # known distinct values (strings, enums)
    distinct_ratio: float = 0.0  # distinct values / records in the sample (1.0 = an id)


@dataclass
class PlanContext:
    fields: dict[str, FieldInfo]
    time_field: str = "created_at"
    failure_field: str = "status"
    failure_values: list[str] = field(default_factory=lambda: ["failure", "failed", "error"])
    recent_days: int = 7
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))

    def numeric_fields(self) -> list[FieldInfo]:
        return [f for f in self.fields.values() if f.filterable and f.type in ("integer", "number")]


@dataclass
class Plan:
    """``action`` in ACTIONS; ``filter`` a filter dict or None; ``unresolved`` lists parts of
    the request that could not be turned into a filter (the runner then refuses to act)."""

    action: str
    filter: dict[str, Any] | None
    explanation: str
    unresolved: list[str] = field(default_factory=list)


@runtime_checkable
class Planner(Protocol):
    def plan(self, query: str, context: PlanContext) -> Plan: ...
