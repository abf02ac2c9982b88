"""Schema builder: field constructors and ``SchemaBuilder`` that emit plain JSON-Schema dicts.

``build()`` returns ``(json_schema, index_options)``; filterability lives in the index options
(``metadataConfiguration.nonFilterableMetadataKeys``), as the wire protocol carries it.

``check_schema`` is the one check of a schema's structure: an index's schema (hand-written
or built) is checked with it when the index is created, and every field constructor checks
its own fragment with it, so a bad ``pattern`` or ``minimum`` is refused when it is written
down, not on the first record. Validation of records against a schema is in
:mod:`eigenlake.embedded.validate`.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from dataclasses import dataclass
from typing import Any

from .errors import ValidationError

# Property types a schema may declare (JSON Schema's, without object and null).
PROPERTY_TYPES = ("string", "integer", "number", "boolean", "array")
# How deeply "items" may nest (arrays of arrays of ...); the same bound as record values.
MAX_SCHEMA_DEPTH = 32


def describe_value(value: Any, width: int = 60) -> str:
    """``repr`` cut to ``width`` characters, for messages (a huge value makes no huge error;
    repr also escapes lone surrogates, which a JSON answer could not carry)."""
    try:
        text = repr(value)
    except (ValueError, RecursionError):  # ints past str_digits_check_threshold; deep values
        return f"<{type(value).__name__}>"
    return text if len(text) <= width else text[: width - 3] + "..."


def is_utf8(text: str) -> bool:
    """Whether ``text`` is valid Unicode (no lone surrogate), i.e. storable as UTF-8/JSON."""
    if text.isascii():  # O(1) in CPython: the common case costs nothing
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_datetime(value: str) -> _dt.datetime:
    """ISO-8601 instant; a missing offset means UTC."""
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    parsed = _dt.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_dt.timezone.utc)
    return parsed


def parse_date(value: str) -> _dt.date:
    return _dt.date.fromisoformat(value)


class _Bad(Exception):
    """A problem in a schema fragment; the caller prefixes where it is."""


def property_kind(fragment: dict[str, Any], *, lenient: bool = False) -> str:
    """The EigenLake kind of a property fragment: one of PROPERTY_TYPES, or ``datetime`` /
    ``date`` for strings with that ``format``. Raises ``_Bad`` for a type we cannot store.

    ``lenient``: the rule of versions before ``check_schema``, for schemas they stored: a
    ``type`` list names its first non-null type (``"string"`` if none), a ``format`` that
    is not a string is ignored."""
    typ = fragment.get("type", "string")
    if isinstance(typ, list):  # ["string", "null"] style
        named = [t for t in typ if t != "null"]
        if len(named) != 1 and not lenient:
            raise _Bad(f"type {describe_value(typ)} must name one type (plus 'null')")
        typ = named[0] if named else "string"
    if typ not in PROPERTY_TYPES:
        raise _Bad(
            f"unsupported type {describe_value(typ)}; expected one of {list(PROPERTY_TYPES)}"
        )
    if typ == "string":
        fmt = fragment.get("format")
        if fmt is not None and not isinstance(fmt, str):
            if not lenient:
                raise _Bad(f"format must be a string, got {describe_value(fmt)}")
            fmt = None
        return {"date-time": "datetime", "date": "date"}.get(fmt or "", "string")
    return str(typ)


_STRINGS = ("string", "datetime", "date")


def _fits(kind: str, value: Any) -> bool:
    """Whether ``value`` is a value of ``kind`` (for ``enum``)."""
    if kind in _STRINGS:
        if not isinstance(value, str) or not is_utf8(value):
            return False
        if kind == "string":
            return True
        try:
            (parse_datetime if kind == "datetime" else parse_date)(value)
        except ValueError:
            return False
        return True
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "array":
        return isinstance(value, list)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if kind == "integer":
        return isinstance(value, int) and -(2**63) <= value < 2**63
    return math.isfinite(value) if isinstance(value, float) else -(2**63) <= value < 2**63


def _count(fragment: dict[str, Any], key: str) -> int | None:
    value = fragment.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise _Bad(f"{key} must be a non-negative integer, got {describe_value(value)}")
    return value


def _only_for(
    fragment: dict[str, Any], kind: str, keys: tuple[str, ...], kinds: tuple[str, ...]
) -> None:
    for key in keys:
        if fragment.get(key) is not None and kind not in kinds:
            raise _Bad(f"{key} does not apply to a {kind} property (only to {' and '.join(kinds)})")


def _check_fragment(fragment: Any, depth: int) -> None:
    """Raise ``_Bad`` naming the first problem of one property fragment."""
    if not isinstance(fragment, dict):
        raise _Bad(
            "expected a property schema object such as {'type': 'string'}, got "
            f"{type(fragment).__name__} {describe_value(fragment)}"
        )
    kind = property_kind(fragment)
    for key in ("description", "title"):
        if fragment.get(key) is not None and not isinstance(fragment[key], str):
            raise _Bad(f"{key} must be a string, got {describe_value(fragment[key])}")
    if "enum" in fragment:
        enum = fragment["enum"]
        if not isinstance(enum, list) or not enum:
            raise _Bad(f"enum must be a non-empty list, got {describe_value(enum)}")
        for i, value in enumerate(enum):
            if not _fits(kind, value):
                raise _Bad(f"enum item {i} ({describe_value(value)}) is not a valid {kind}")
    _only_for(fragment, kind, ("minimum", "maximum"), ("integer", "number"))
    for key in ("minimum", "maximum"):
        value = fragment.get(key)
        if value is not None and not _fits("number", value):
            raise _Bad(f"{key} must be a finite number, got {describe_value(value)}")
    low, high = fragment.get("minimum"), fragment.get("maximum")
    if low is not None and high is not None and low > high:
        raise _Bad(f"minimum {low} is above maximum {high}")
    _only_for(fragment, kind, ("minLength", "maxLength", "pattern"), _STRINGS)
    _only_for(fragment, kind, ("minItems", "maxItems", "uniqueItems", "items"), ("array",))
    for lo_key, hi_key in (("minLength", "maxLength"), ("minItems", "maxItems")):
        lo, hi = _count(fragment, lo_key), _count(fragment, hi_key)
        if lo is not None and hi is not None and lo > hi:
            raise _Bad(f"{lo_key} {lo} is above {hi_key} {hi}")
    unique = fragment.get("uniqueItems")
    if unique is not None and not isinstance(unique, bool):
        raise _Bad(f"uniqueItems must be true or false, got {describe_value(unique)}")
    pattern = fragment.get("pattern")
    if pattern is not None:
        if not isinstance(pattern, str) or not is_utf8(pattern):
            raise _Bad(f"pattern must be a string, got {describe_value(pattern)}")
        try:
            re.compile(pattern)
        except (re.error, RecursionError, OverflowError) as e:  # sre's parser recurses per group
            raise _Bad(
                f"pattern {describe_value(pattern)} is not a valid regular expression: {e}"
            ) from None
    _only_for(fragment, kind, ("formatMinimum", "formatMaximum"), ("datetime", "date"))
    for key in ("formatMinimum", "formatMaximum"):
        value = fragment.get(key)
        if value is not None and not _fits(kind, value):
            raise _Bad(f"{key} {describe_value(value)} is not an ISO-8601 {kind}")
    if kind == "array" and fragment.get("items") is not None:
        if depth >= MAX_SCHEMA_DEPTH:
            raise _Bad(f"items nest more than {MAX_SCHEMA_DEPTH} levels deep")
        try:
            _check_fragment(fragment["items"], depth + 1)
        except _Bad as e:
            raise _Bad(f"items: {e}") from None


def check_schema(schema: Any, where: str = "schema") -> None:
    """Refuse, with a ``ValidationError`` naming ``where``, the property and the problem, a
    schema EigenLake cannot enforce: what is not a JSON-Schema object of typed properties,
    an unknown type, a constraint of the wrong type or for another type (``minimum`` on a
    string), a ``pattern`` that is not a regular expression, an ``enum`` with values of
    another type, ``required`` that is not a list of names."""
    if not isinstance(schema, dict):
        raise ValidationError(
            f"{where} must be a JSON-Schema object (a dict), got {type(schema).__name__}"
        )
    typ = schema.get("type", "object")
    if typ != "object":
        raise ValidationError(f"{where}.type must be 'object', got {describe_value(typ)}")
    additional = schema.get("additionalProperties", True)
    if not isinstance(additional, bool):
        raise ValidationError(
            f"{where}.additionalProperties must be true or false, got {describe_value(additional)}"
        )
    props = schema.get("properties", {})
    if not isinstance(props, dict):
        raise ValidationError(
            f"{where}.properties must be an object mapping property names to property "
            f"schemas, got {type(props).__name__} {describe_value(props)}"
        )
    for name, fragment in props.items():
        if not isinstance(name, str) or not is_utf8(name):
            raise ValidationError(
                f"{where}.properties: property names must be strings of valid Unicode, got "
                f"{describe_value(name)}"
            )
        try:
            _check_fragment(fragment, 1)
        except _Bad as e:
            raise ValidationError(f"{where}: property {describe_value(name)}: {e}") from None
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise ValidationError(
            f"{where}.required must be a list of property names, got {describe_value(required)}"
        )
    if not additional:
        for name in required:
            if name not in props:
                raise ValidationError(
                    f"{where}: required property {describe_value(name)} is not declared in "
                    "the closed schema, so no record could have it"
                )


@dataclass(frozen=True)
class Field:
    """One property: its JSON-Schema fragment plus the two flags that are not JSON Schema."""

    schema: dict[str, Any]
    required: bool = False
    filterable: bool = True


def _field(
    base: dict[str, Any],
    required: bool,
    filterable: bool,
    description: str | None,
    **constraints: Any,
) -> Field:
    schema = dict(base)
    if description is not None:
        schema["description"] = description
    for key, value in constraints.items():
        if value is not None:
            schema[key] = value
    try:  # refused here, where it is written, not when the first record meets it
        _check_fragment(schema, 1)
    except _Bad as e:
        raise ValidationError(f"{base.get('format') or base['type']} field: {e}") from None
    for flag, value in (("required", required), ("filterable", filterable)):
        if not isinstance(value, bool):
            raise ValidationError(f"{flag} must be true or false, got {describe_value(value)}")
    return Field(schema=schema, required=required, filterable=filterable)


def string(
    *,
    required: bool = False,
    filterable: bool = True,
    description: str | None = None,
    enum: list[str] | None = None,
    min_length: int | None = None,
    max_length: int | None = None,
    pattern: str | None = None,
) -> Field:
    return _field(
        {"type": "string"},
        required,
        filterable,
        description,
        enum=enum,
        minLength=min_length,
        maxLength=max_length,
        pattern=pattern,
    )


def integer(
    *,
    required: bool = False,
    filterable: bool = True,
    description: str | None = None,
    enum: list[int] | None = None,
    minimum: int | None = None,
    maximum: int | None = None,
) -> Field:
    return _field(
        {"type": "integer"},
        required,
        filterable,
        description,
        enum=enum,
        minimum=minimum,
        maximum=maximum,
    )


def number(
    *,
    required: bool = False,
    filterable: bool = True,
    description: str | None = None,
    enum: list[float] | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
) -> Field:
    return _field(
        {"type": "number"},
        required,
        filterable,
        description,
        enum=enum,
        minimum=minimum,
        maximum=maximum,
    )


def boolean(
    *, required: bool = False, filterable: bool = True, description: str | None = None
) -> Field:
    return _field({"type": "boolean"}, required, filterable, description)


def datetime(
    *,
    required: bool = False,
    filterable: bool = True,
    description: str | None = None,
    minimum: str | None = None,
    maximum: str | None = None,
) -> Field:
    """ISO-8601 instant (``2024-05-01T12:00:00Z``); filters compare instants."""
    return _field(
        {"type": "string", "format": "date-time"},
        required,
        filterable,
        description,
        formatMinimum=minimum,
        formatMaximum=maximum,
    )


def date(
    *,
    required: bool = False,
    filterable: bool = True,
    description: str | None = None,
    minimum: str | None = None,
    maximum: str | None = None,
) -> Field:
    """ISO-8601 calendar date (``2024-05-01``); filters compare dates."""
    return _field(
        {"type": "string", "format": "date"},
        required,
        filterable,
        description,
        formatMinimum=minimum,
        formatMaximum=maximum,
    )


def array(
    item: Field,
    *,
    required: bool = False,
    filterable: bool = True,
    description: str | None = None,
    min_items: int | None = None,
    max_items: int | None = None,
    unique_items: bool | None = None,
) -> Field:
    """An array whose elements all match ``item``; filters test membership (``$contains``)."""
    return _field(
        {"type": "array", "items": dict(item.schema)},
        required,
        filterable,
        description,
        minItems=min_items,
        maxItems=max_items,
        uniqueItems=unique_items,
    )


class SchemaBuilder:
    """Collects fields; ``build()`` gives ``(json_schema, index_options)``."""

    def __init__(self, additional_properties: bool = False) -> None:
        if not isinstance(additional_properties, bool):
            raise ValidationError(
                "additional_properties must be true or false, got "
                f"{describe_value(additional_properties)}"
            )
        self.additional_properties = additional_properties
        self._fields: dict[str, Field] = {}

    def add(self, name: str, field: Field) -> SchemaBuilder:
        if not isinstance(name, str) or not name or not is_utf8(name):
            raise ValidationError(
                f"a property name must be a non-empty string, got {describe_value(name)}"
            )
        if not isinstance(field, Field):
            raise ValidationError(f"property {name!r}: expected a field from eigenlake.schema")
        if name in self._fields:
            raise ValidationError(f"property {name!r} is declared twice")
        self._fields[name] = field
        return self

    def build(self) -> tuple[dict[str, Any], dict[str, Any]]:
        schema = {
            "type": "object",
            "additionalProperties": self.additional_properties,
            "properties": {name: dict(f.schema) for name, f in self._fields.items()},
            "required": [name for name, f in self._fields.items() if f.required],
        }
        non_filterable = [name for name, f in self._fields.items() if not f.filterable]
        options = {"metadataConfiguration": {"nonFilterableMetadataKeys": non_filterable}}
        return schema, options


__all__ = [
    "Field",
    "SchemaBuilder",
    "string",
    "integer",
    "number",
    "boolean",
    "datetime",
    "date",
    "array",
    "check_schema",
]
