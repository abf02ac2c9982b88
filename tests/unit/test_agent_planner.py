"""The rule-based planner, table-driven: request -> (action, filter)."""

from __future__ import annotations

import datetime as dt

import pytest

from eigenlake.agent import FieldInfo, Plan, PlanContext, RuleBasedPlanner

NOW = dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.timezone.utc)


def ago(days: float) -> str:
    return (NOW - dt.timedelta(days=days)).isoformat()


def context(**kw: object) -> PlanContext:
    fields = [
        FieldInfo("accession", "string", values=["P0C1Z0", "Q9XZ11"], distinct_ratio=1.0),
        FieldInfo(
            "organism",
            "string",
            values=[
                "Homo sapiens (Human)",
                "Mus musculus (Mouse)",
                "Naja naja (Indian cobra)",
                "Naja kaouthia (Monocled cobra)",
                "Conus geographus (Geography cone)",
                "Unknown",
            ],
        ),
        FieldInfo(
            "protein_family",
            "string",
            values=[
                "Phospholipase A2 family",
                "Snake three-finger toxin family",
                "Conotoxin O1 superfamily",
            ],
        ),
        FieldInfo("status", "string", values=["open", "closed", "FAILED", "error"]),
        FieldInfo("sequence", "string", filterable=False, values=["MKTLLIL"]),
        FieldInfo("length", "integer"),
        FieldInfo("priority", "integer"),
        FieldInfo("score", "number"),
        FieldInfo("created_at", "datetime"),
        FieldInfo("tags", "array", values=["venom", "secreted"]),
    ]
    return PlanContext(fields={f.name: f for f in fields}, now=NOW, **kw)  # type: ignore[arg-type]


HUMAN = {"organism": {"$eq": "Homo sapiens (Human)"}}
FAILED = {"status": {"$in": ["FAILED", "error"]}}
CASES: list[tuple[str, str, dict | None]] = [
    # intents without conditions
    ("Cluster proteins by structural family", "cluster", None),
    ("group these records", "cluster", None),
    ("What themes are there?", "cluster", None),
    ("segment the collection into groups", "cluster", None),
    ("find unusual sequences", "outliers", None),
    ("anything anomalous here?", "outliers", None),
    ("show me the outliers", "outliers", None),
    ("what topics do the notes cover", "topics", None),
    ("list everything", "filter", None),
    # string values: case-insensitive, aliases, longest match, several values, negation
    ("show proteins from Homo sapiens", "filter", HUMAN),
    ("show proteins from HOMO SAPIENS (HUMAN)", "filter", HUMAN),
    ("human proteins", "filter", HUMAN),
    ("cluster the mouse sequences", "cluster", {"organism": {"$eq": "Mus musculus (Mouse)"}}),
    (
        "list Naja naja and Naja kaouthia toxins",
        "filter",
        {"organism": {"$in": ["Naja naja (Indian cobra)", "Naja kaouthia (Monocled cobra)"]}},
    ),
    (
        "group the Indian cobra proteins",
        "cluster",
        {"organism": {"$eq": "Naja naja (Indian cobra)"}},
    ),
    (
        "show the phospholipase a2 family",
        "filter",
        {"protein_family": {"$eq": "Phospholipase A2 family"}},
    ),
    (
        "cluster snake three-finger toxin family members",
        "cluster",
        {"protein_family": {"$eq": "Snake three-finger toxin family"}},
    ),
    (
        "list proteins not from Homo sapiens",
        "filter",
        {"organism": {"$ne": "Homo sapiens (Human)"}},
    ),
    ("show open tickets", "filter", {"status": {"$eq": "open"}}),
    ("find closed or open items", "filter", {"status": {"$in": ["closed", "open"]}}),
    ("show P0C1Z0", "filter", {"accession": {"$eq": "P0C1Z0"}}),
    ("find venom records", "filter", {"tags": {"$contains": "venom"}}),
    # numbers
    ("proteins longer than 300 residues", "filter", {"length": {"$gt": 300}}),
    ("show sequences shorter than 50 aa", "filter", {"length": {"$lt": 50}}),
    ("cluster proteins with length at least 100", "cluster", {"length": {"$gte": 100}}),
    ("find tickets with priority at least 5", "filter", {"priority": {"$gte": 5}}),
    ("priority 3 or more", "filter", {"priority": {"$gte": 3}}),
    ("score below 0.25", "filter", {"score": {"$lt": 0.25}}),
    ("score at most 0.9", "filter", {"score": {"$lte": 0.9}}),
    ("priority exactly 2", "filter", {"priority": {"$eq": 2}}),
    (
        "proteins between 100 and 200 residues long",
        "filter",
        {"$and": [{"length": {"$gte": 100}}, {"length": {"$lte": 200}}]},
    ),
    ("sequences of 1,000 residues or longer", "filter", {"length": {"$gte": 1000}}),
    ("length > 120", "filter", {"length": {"$gt": 120}}),
    ("priority no more than 4", "filter", {"priority": {"$lte": 4}}),
    # time windows
    ("show records from the last 7 days", "filter", {"created_at": {"$gte": ago(7)}}),
    ("cluster tickets from the past 24 hours", "cluster", {"created_at": {"$gte": ago(1)}}),
    ("anything unusual in the last month", "outliers", {"created_at": {"$gte": ago(30)}}),
    ("show recent records", "filter", {"created_at": {"$gte": ago(7)}}),
    ("list what came in during the last two weeks", "filter", {"created_at": {"$gte": ago(14)}}),
    # failures
    ("show failed jobs", "filter", FAILED),
    ("group the errors", "cluster", FAILED),
    (
        "cluster failures from the last 3 days",
        "cluster",
        {"$and": [{"created_at": {"$gte": ago(3)}}, FAILED]},
    ),
    # combinations
    (
        "cluster human proteins longer than 300 residues",
        "cluster",
        {"$and": [{"length": {"$gt": 300}}, HUMAN]},
    ),
    (
        "unusual mouse proteins with priority over 2",
        "outliers",
        {"$and": [{"priority": {"$gt": 2}}, {"organism": {"$eq": "Mus musculus (Mouse)"}}]},
    ),
    # nothing understood
    ("hello there", "none", None),
    ("please do the thing", "none", None),
    ("what is the weather like", "none", None),
    ("which proteins are from Homo sapiens?", "filter", HUMAN),
]


@pytest.mark.parametrize(("query", "action", "expected"), CASES)
def test_plan_table(query: str, action: str, expected: dict | None) -> None:
    plan = RuleBasedPlanner().plan(query, context())
    assert (plan.action, plan.filter) == (action, expected), plan.explanation
    assert not plan.unresolved
    assert plan.explanation


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize(
    ("query", "why"),
    [
        ("show records from the last 7 days", "time_field"),
        ("cluster the failed runs", "failure_field"),
    ],
)
def test_missing_fields_are_reported_not_guessed(query: str, why: str) -> None:
    ctx = context(time_field="opened", failure_field="state")
    plan = RuleBasedPlanner().plan(query, ctx)
    assert plan.unresolved and why in plan.explanation


def test_number_without_a_property_is_reported() -> None:
    plan = RuleBasedPlanner().plan("show the ones with more than 3", context())
    assert plan.unresolved and "more than 3" in plan.explanation


def test_single_numeric_property_is_used_without_a_name() -> None:
    ctx = context()
    ctx.fields = {k: v for k, v in ctx.fields.items() if k not in ("priority", "score")}
    plan = RuleBasedPlanner().plan("show the ones with more than 3", ctx)
    assert plan.filter == {"length": {"$gt": 3}}


def test_non_filterable_values_are_not_matched() -> None:
    assert RuleBasedPlanner().plan("show MKTLLIL", context()).filter is None


def test_failure_values_follow_the_settings() -> None:
    plan = RuleBasedPlanner().plan("show failed jobs", context(failure_values=["closed"]))
    assert plan.filter == {"status": {"$eq": "closed"}}


def test_plan_is_a_dataclass_with_explanation() -> None:
    plan = RuleBasedPlanner().plan("cluster human proteins", context())
    assert isinstance(plan, Plan)
    assert "organism" in plan.explanation and "cluster" in plan.explanation


def test_numbers_outside_any_condition_are_mentioned() -> None:
    plan = RuleBasedPlanner().plan("show the first 10 human proteins", context())
    assert plan.filter == HUMAN and "ignored numbers: 10" in plan.explanation
