"""`run_query` over a real embedded index: actions, forced modes, refusals, plug-in planners."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import eigenlake
from eigenlake import schema as s
from eigenlake.agent import Plan, PlanContext, Planner, run_query
from eigenlake.errors import ValidationError

NOW = dt.datetime(2026, 1, 15, tzinfo=dt.timezone.utc)
ORGANISMS = ["Homo sapiens (Human)", "Naja naja (Indian cobra)", "Mus musculus (Mouse)"]


@pytest.fixture
def index(tmp_path: Path) -> Iterator[Any]:
    schema, options = (
        s.SchemaBuilder(additional_properties=False)
        .add("accession", s.string(required=True))
        .add("organism", s.string())
        .add("protein_family", s.string())
        .add("sequence", s.string(filterable=False))
        .add("length", s.integer())
        .add("status", s.string())
        .add("created_at", s.datetime())
        .build()
    )
    rng = np.random.default_rng(0)
    records = []
    for i in range(90):
        group = i % 3
        v = np.zeros(8)
        v[group] = 1.0
        v += 0.05 * rng.standard_normal(8)
        records.append(
            {
                "properties": {
                    "accession": f"A{i:03d}",
                    "organism": ORGANISMS[group],
                    "protein_family": ["Kinase family", "Toxin family", "Lectin family"][group],
                    "sequence": "MK" * (10 + i),
                    "length": 20 + 2 * i,
                    "status": "failed" if i % 10 == 0 else "ok",
                    "created_at": (NOW - dt.timedelta(days=i)).isoformat(),
                },
                "vector": v.tolist(),
            }
        )
    with eigenlake.connect(path=str(tmp_path / "db")) as client:
        idx = client.indexes.create_or_get(
            namespace="t", index="agent", dimensions=8, schema=schema, index_options=options
        )
        idx.records.add_many(records)
        yield idx


def ask(index: Any, query: str, **kw: Any) -> dict[str, Any]:
    return run_query(index, query, now=NOW, **kw)


def test_cookbook_agent_call(index: Any) -> None:
    res = index.agent.query(
        "Cluster proteins by structural family",
        mode="cluster",
        algorithm="dbscan",
        dbscan_min_samples=5,
    )
    assert res["action"] == "cluster" and res["filter"] == {}
    assert len(res["clusters"]) == 3
    assert sum(c["count"] for c in res["clusters"]) + res["noise_count"] == 90
    # Summaries come from the string properties that describe groups (not ids or sequences).
    assert {c["summary"].split(", ")[0] for c in res["clusters"]} <= {
        "homo", "sapiens", "human", "naja", "indian", "cobra", "mus", "musculus", "mouse",
        "kinase", "toxin", "lectin",
    }  # fmt: skip
    assert res["parameters"]["text_fields"] == ["organism", "protein_family", "status"]


def test_filter_request_lists_matching_records(index: Any) -> None:
    res = ask(index, "show human proteins longer than 150 residues")
    assert res["action"] == "filter"
    assert res["filter"] == {
        "$and": [{"length": {"$gt": 150}}, {"organism": {"$eq": "Homo sapiens (Human)"}}]
    }
    got = sorted(o["metadata"]["accession"] for o in res["objects"])
    assert got == [f"A{i:03d}" for i in range(90) if i % 3 == 0 and 20 + 2 * i > 150]
    assert res["count"] == len(got)


def test_time_window_and_failures(index: Any) -> None:
    res = ask(index, "list failed jobs from the last 25 days")
    assert sorted(o["metadata"]["accession"] for o in res["objects"]) == ["A000", "A010", "A020"]


def test_user_filter_is_anded(index: Any) -> None:
    res = ask(index, "show mouse proteins", filter={"length": {"$lt": 60}})
    assert res["filter"] == {
        "$and": [{"length": {"$lt": 60}}, {"organism": {"$eq": "Mus musculus (Mouse)"}}]
    }
    assert sorted(o["metadata"]["accession"] for o in res["objects"]) == [
        "A002",
        "A005",
        "A008",
        "A011",
        "A014",
        "A017",
    ]


def test_outliers_and_topics_actions(index: Any) -> None:
    res = ask(index, "anything unusual among the Indian cobra proteins?")
    assert res["action"] == "outliers" and "outliers" in res and res["count"] == 30
    res = ask(index, "what topics are there", num_clusters=3)
    assert res["action"] == "topics" and len(res["topics"]) == 3


def test_mode_forces_the_action(index: Any) -> None:
    res = ask(index, "show human proteins", mode="cluster", num_clusters=2)
    assert res["action"] == "cluster" and len(res["clusters"]) == 2
    assert res["filter"] == {"organism": {"$eq": "Homo sapiens (Human)"}}


def test_unknown_request_is_answered_with_none(index: Any) -> None:
    res = ask(index, "hello there")
    assert res["action"] == "none" and res["filter"] == {}
    assert "no action" in res["explanation"] and "clusters" not in res


def test_unresolvable_parts_refuse_instead_of_guessing(index: Any) -> None:
    res = ask(index, "cluster tickets from the last 7 days", time_field="opened_at")
    assert res["action"] == "none" and "opened_at" in res["explanation"]
    assert "clusters" not in res


def test_a_filter_that_matches_nothing_says_so(index: Any) -> None:
    res = ask(index, "show proteins longer than 100000 residues")
    assert res["count"] == 0 and res["objects"] == []
    assert "no records match" in res["explanation"]


def test_a_plugged_planner_is_used(index: Any) -> None:
    class Fixed:
        def plan(self, query: str, context: PlanContext) -> Plan:
            assert "length" in context.fields and context.fields["organism"].values
            return Plan("filter", {"accession": "A007"}, "fixed plan")

    assert isinstance(Fixed(), Planner)
    res = ask(index, "anything", planner=Fixed())
    assert [o["metadata"]["accession"] for o in res["objects"]] == ["A007"]
    assert res["explanation"] == "fixed plan"


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"mode": "summarise"}, "mode"),
        ({"limit": 0}, "limit"),
        ({"failure_values": "failed"}, "failure_values"),
        ({"limit": True}, "limit"),
        ({"filter": ["x"]}, "filter"),
        ({"algorithm": "hdbscan"}, "algorithm"),
        ({"num_clusters": 2.0}, "num_clusters"),
        ({"auto_tune": "no"}, "auto_tune"),
        ({"min_clusters": True}, "min_clusters"),
        ({"dbscan_eps": float("nan")}, "dbscan_eps"),
        ({"dbscan_min_samples": -1}, "dbscan_min_samples"),
        ({"time_field": ["created_at"]}, "time_field"),
        ({"recent_days": 10**6}, "recent_days"),  # past year 1: an OverflowError before
    ],
)
def test_bad_arguments(index: Any, kwargs: dict, name: str) -> None:
    with pytest.raises(ValidationError, match=name):
        ask(index, "cluster", **kwargs)
    with pytest.raises(ValidationError, match=name):  # also when no clustering runs
        ask(index, "show human proteins", **kwargs)
    with pytest.raises(ValidationError, match="query"):
        ask(index, "  ")


def test_llm_planner_answer_is_used_and_bad_answers_fall_back(index: Any) -> None:
    from eigenlake.agent import LLMPlanner

    prompts: list[str] = []

    def model(answer: str):
        def complete(prompt: str) -> str:
            prompts.append(prompt)
            return answer

        return complete

    good = LLMPlanner(
        model('Sure! {"action": "filter", "filter": {"accession": "A003"}, "explanation": "one"}')
    )
    res = ask(index, "the third one", planner=good)
    assert [o["metadata"]["accession"] for o in res["objects"]] == ["A003"]
    assert "organism: string, filterable; values: Homo sapiens (Human)" in prompts[0]
    assert "Request: the third one" in prompts[0]

    bad = LLMPlanner(model("I cannot help with that"))
    res = ask(index, "show human proteins", planner=bad)
    assert res["filter"] == {"organism": {"$eq": "Homo sapiens (Human)"}}
    assert res["explanation"].startswith("model answer unusable")


def test_an_invalid_planned_filter_is_answered_not_raised(index: Any) -> None:
    class Wrong:
        def plan(self, query: str, context: PlanContext) -> Plan:
            return Plan(
                "filter", {"sequence": {"$eq": "MK"}}, "filter on a non-filterable property"
            )

    res = ask(index, "anything", planner=Wrong())
    assert res["action"] == "none" and "sequence" in res["explanation"]
    with pytest.raises(ValidationError, match="sequence"):
        ask(index, "show human proteins", filter={"sequence": "MK"})


def test_a_window_before_year_one_is_answered_not_raised(index: Any) -> None:
    res = ask(index, "show records from the last 9999999999 days")
    assert res["action"] == "none" and res["filter"] == {} and "year 1" in res["explanation"]


def test_limit_none_takes_every_matching_record(index: Any) -> None:
    res = ask(index, "show human proteins", limit=None)
    assert res["count"] == 30
