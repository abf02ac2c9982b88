"""The schema builder's output and the validation it drives."""

from __future__ import annotations

import numpy as np
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


# ---- schemas are checked where they are written ---------------------------------------


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda: s.string(pattern="(["), "pattern"),
        (lambda: s.string(pattern="(" * 2000 + ")" * 2000), "pattern"),
        (lambda: s.string(enum=["a", 1]), "enum"),
        (lambda: s.string(enum=[]), "enum"),
        (lambda: s.integer(enum=[1.5]), "enum"),
        (lambda: s.integer(minimum="0"), "minimum"),
        (lambda: s.number(maximum=float("nan")), "maximum"),
        (lambda: s.integer(minimum=True), "minimum"),
        (lambda: s.integer(minimum=5, maximum=1), "minimum"),
        (lambda: s.string(min_length=-1), "minLength"),
        (lambda: s.string(max_length=1.5), "maxLength"),
        (lambda: s.string(min_length=3, max_length=1), "minLength"),
        (lambda: s.array(s.string(), min_items=2, max_items=1), "minItems"),
        (lambda: s.array(s.string(), unique_items="yes"), "uniqueItems"),
        (lambda: s.date(minimum="soon"), "formatMinimum"),
        (lambda: s.datetime(maximum="2024-13-01T00:00:00Z"), "formatMaximum"),
        (lambda: s.string(description=5), "description"),
        (lambda: s.string(required="yes"), "required"),
        (lambda: s.boolean(filterable=1), "filterable"),
        (lambda: s.SchemaBuilder(additional_properties="no"), "additional_properties"),
        (lambda: s.SchemaBuilder().add("\ud800", s.string()), "name"),
        (lambda: s.SchemaBuilder().add("x", {"type": "string"}), "field"),
    ],
)
def test_builder_refuses_bad_fields_when_they_are_made(make, problem):
    with pytest.raises(ValidationError) as err:
        make()
    assert problem in str(err.value)
    str(err.value).encode("utf-8")


def test_builder_output_passes_the_create_time_check():
    schema, _ = (
        s.SchemaBuilder()
        .add("a", s.string(enum=["x"], pattern="^x$", min_length=1, max_length=3))
        .add("b", s.integer(minimum=0, maximum=10, enum=[1, 2]))
        .add("c", s.number(minimum=-1.5))
        .add("d", s.array(s.array(s.integer()), min_items=0, unique_items=True))
        .add("e", s.date(minimum="2024-01-01", maximum="2024-12-31"))
        .add("f", s.datetime(minimum="2024-01-01T00:00:00Z"))
        .build()
    )
    s.check_schema(schema)
    CompiledSchema(schema, [])


@pytest.mark.parametrize(
    ("schema", "words"),
    [
        (5, ("schema",)),
        ([], ("schema",)),
        ({"type": "string"}, ("schema.type",)),
        ({"properties": 5}, ("schema.properties",)),
        ({"properties": None}, ("schema.properties",)),
        ({"properties": {"a": 5}}, ("'a'", "property schema")),
        ({"properties": {"a": {"type": "blob"}}}, ("'a'", "blob")),
        ({"properties": {"a": {"type": ["string", "integer"]}}}, ("'a'", "one type")),
        ({"properties": {"a": {"type": "string", "format": 5}}}, ("'a'", "format")),
        ({"properties": {"a": {"type": "string", "pattern": "(["}}}, ("'a'", "pattern")),
        ({"properties": {"a": {"type": "string", "pattern": 5}}}, ("'a'", "pattern")),
        ({"properties": {"a": {"type": "boolean", "enum": [1]}}}, ("'a'", "enum")),
        ({"properties": {"a": {"type": "string", "maximum": 3}}}, ("'a'", "maximum")),
        ({"properties": {"a": {"type": "integer", "minLength": 3}}}, ("'a'", "minLength")),
        ({"properties": {"a": {"type": "string", "items": {}}}}, ("'a'", "items")),
        ({"properties": {"a": {"type": "array", "items": 5}}}, ("'a'", "items")),
        ({"properties": {"a": {"type": "array", "items": {"type": "blob"}}}}, ("'a'", "items")),
        ({"properties": {"\ud800": {}}}, ("property names",)),
        ({"required": "a"}, ("schema.required",)),
        ({"required": [1]}, ("schema.required",)),
        ({"additionalProperties": False, "required": ["ghost"]}, ("'ghost'",)),
        ({"additionalProperties": {"type": "string"}}, ("additionalProperties",)),
    ],
)
def test_check_schema_names_schema_the_property_and_the_problem(schema, words):
    with pytest.raises(ValidationError) as err:
        s.check_schema(schema)
    msg = str(err.value)
    assert "schema" in msg
    for w in words:
        assert w in msg, (w, msg)


def test_items_nesting_is_bounded():
    fragment = {"type": "integer"}
    for _ in range(40):
        fragment = {"type": "array", "items": fragment}
    with pytest.raises(ValidationError, match="nest"):
        s.check_schema({"properties": {"deep": fragment}})


# ---- values are checked at any depth, without recursion ---------------------------------

OPEN = CompiledSchema(None, [])


def _nest(depth, leaf=1):
    node = leaf
    for i in range(depth):
        node = [node] if i % 2 else {"k": node}
    return node


@pytest.mark.parametrize(
    ("props", "words"),
    [
        ({"s": "\ud800"}, ("'s'", "surrogate")),
        ({"l": [1, "x\udc00"]}, ("'l'", "surrogate")),
        ({"o": {"a": [{"b": "\ud800"}]}}, ("'o'", "['a'][0]['b']", "surrogate")),
        ({"o": {"\ud800": 1}}, ("'o'", "key", "surrogate")),
        ({"\ud800": 1}, ("property name", "surrogate")),
        ({"f": float("nan")}, ("'f'", "finite")),
        ({"f": [1, float("inf")]}, ("'f'", "finite")),
        ({"f": {"g": [[float("-inf")]]}}, ("'f'", "['g'][0][0]", "finite")),
        ({"f": {"g": np.float32("nan")}}, ("'f'", "finite")),
        ({"i": 2**63}, ("'i'", "64-bit")),
        ({"i": [1, -(2**63) - 1]}, ("'i'", "64-bit")),
        ({"i": {"x": 10**30}}, ("'i'", "64-bit")),
        ({"o": {1: "int key"}}, ("'o'", "keys must be strings")),
        ({"o": {"x": {1, 2}}}, ("'o'", "set")),
        ({"d": _nest(33)}, ("'d'", "32")),
        ({"d": _nest(10_000)}, ("'d'", "deep")),
        ({1: "x"}, ("property names must be strings",)),
    ],
)
def test_free_form_values_are_refused_at_any_depth(props, words):
    with pytest.raises(ValidationError) as err:
        OPEN.validate(props, "record 3", {})
    msg = str(err.value)
    msg.encode("utf-8")
    assert "record 3" in msg
    for w in words:
        assert w in msg, (w, msg)


def test_a_self_referencing_value_is_refused_not_looped():
    loop: list = []
    loop.append(loop)
    with pytest.raises(ValidationError, match="deep"):
        OPEN.validate({"loop": loop}, "r", {})


def test_free_form_values_are_copied_as_json():
    value = {"t": (1, 2.5), "n": np.int64(3), "a": np.arange(2), "d": _nest(31), "z": None}
    out = OPEN.validate({"v": value}, "r", {})["v"]
    assert out == {"t": [1, 2.5], "n": 3, "a": [0, 1], "d": _nest(31), "z": None}
    assert type(out["n"]) is int and list(out) == list(value)


def test_the_column_fast_path_defers_to_the_checks():
    from eigenlake.embedded.validate_batch import validate_batch

    rows = [{"s": "ok", "n": 1}, {"s": "x\ud800", "n": 2}]
    assert validate_batch(OPEN, rows, {}) is None  # a surrogate in a column
    assert validate_batch(OPEN, [{"n": 1.0}, {"n": 2**63}], {}) is None  # int past int64
    assert validate_batch(OPEN, [{"\ud800": 1}], {}) is None  # a surrogate in a key
    good = [{"s": "é", "n": 1}, {"s": "b", "n": 2.5}]
    assert validate_batch(OPEN, good, {}) == good
