"""Natural-language analyses: a pluggable planner turns a request into an action + filter.

``run_query(index, query, **kw)`` is what ``index.agent.query`` calls. The default planner
(``RuleBasedPlanner``) is offline; plug another (e.g. an LLM) with ``planner=`` or
``set_default_planner``: anything with ``plan(query, context) -> Plan``.
"""

from .llm import LLMPlanner
from .plan import ACTIONS, FieldInfo, Plan, PlanContext, Planner
from .rules import RuleBasedPlanner
from .runner import plan_only, run_query, set_default_planner

__all__ = [
    "ACTIONS",
    "FieldInfo",
    "LLMPlanner",
    "Plan",
    "PlanContext",
    "Planner",
    "RuleBasedPlanner",
    "plan_only",
    "run_query",
    "set_default_planner",
]
