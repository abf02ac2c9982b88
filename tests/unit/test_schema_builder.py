"""The schema builder's output and the validation it drives."""

from __future__ import annotations

import pytest

from eigenlake import ValidationError
from eigenlake import schema as s
from eigenlake.embedded.validate import CompiledSchema


def test_build_matches_the_contract():
    schema, options = (
        s.SchemaBuilder(additional_properties=False)
        .add("accession", s.string(required=True, filterable=True))
        .add("sequence", s.string(filterable=False, description="amino acids"))
        .add("length", s.integer(minimum=1))
        .add("tags", s.array(s.string(), unique_items=True))
        .add("seen", s.datetime())
        .build()
    )
    assert schema == {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "accession": {"type": "string"},
            "sequence": {"type": "string", "description": "amino acids"},
            "length": {"type": "integer", "minimum": 1},
            "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
            "seen": {"type": "string", "format": "date-time"},
        },
        "required": ["accession"],
    }
    assert options == {"metadataConfiguration": {"nonFilterableMetadataKeys": ["sequence"]}}


def test_builder_rejects_duplicate_names():
    with pytest.raises(ValueError):
        s.SchemaBuilder().add("a", s.string()).add("a", s.integer())


def _compiled(**fields):
    b = s.SchemaBuilder()
    for name, f in fields.items():
        b.add(name, f)
    schema, opts = b.build()
    return CompiledSchema(schema, opts["metadataConfiguration"]["nonFilterableMetadataKeys"])


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        (s.integer(), True, "integer"),
        (s.integer(), 1.5, "integer"),
        (s.number(), "1", "number"),
        (s.number(), float("nan"), "finite"),
        (s.boolean(), 0, "boolean"),
        (s.string(enum=["a", "b"]), "c", "one of"),
        (s.integer(minimum=0, maximum=10), 11, "maximum"),
        (s.string(min_length=2), "a", "shorter"),
        (s.string(max_length=2), "abc", "longer"),
        (s.string(pattern=r"^P\d+$"), "Q1", "match"),
        (s.array(s.integer()), [1, "2"], "item 1"),
        (s.array(s.integer(), max_items=1), [1, 2], "more than"),
        (s.array(s.string(), unique_items=True), ["a", "a"], "unique"),
        (s.datetime(), "2024-13-01T00:00:00Z", "datetime"),
        (s.date(), "2024-02-30", "date"),
        (s.date(minimum="2024-01-01"), "2023-12-31", "before"),
    ],
)
def test_validation_rejects_with_a_named_problem(field, value, problem):
    comp = _compiled(x=field)
    with pytest.raises(ValidationError) as err:
        comp.validate({"x": value}, "record 7", {})
    msg = str(err.value)
    assert "record 7" in msg and "'x'" in msg and problem in msg


@pytest.mark.parametrize(
    ("field", "value"),
    [
        (s.integer(), 3),
        (s.number(), 3),
        (s.number(), 2.5),
        (s.boolean(), False),
        (s.array(s.number()), [1, 2.5]),
        (s.datetime(), "2024-05-01T12:00:00Z"),
        (s.datetime(), "2024-05-01T12:00:00.123+05:30"),
        (s.date(), "2024-05-01"),
        (s.string(enum=["a"]), "a"),
    ],
)
def test_validation_accepts(field, value):
    assert _compiled(x=field).validate({"x": value}, "r", {}) == {"x": value}


def test_closed_schema_rejects_undeclared_but_update_evolves():
    comp = _compiled(a=s.string())
    with pytest.raises(ValidationError, match="'b'"):
        comp.validate({"b": 1}, "r", {})
    pending = {}
    comp.validate({"b": 1}, "r", pending, evolve=True)
    assert pending["b"].kind == "integer"
    comp.declare(pending)
    assert comp.source["properties"]["b"] == {"type": "integer"}
    with pytest.raises(ValidationError, match="'b'"):
        comp.validate({"b": "x"}, "r", {})
