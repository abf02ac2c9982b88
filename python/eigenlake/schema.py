"""Schema builder: field constructors and ``SchemaBuilder`` that emit plain JSON-Schema dicts.

``build()`` returns ``(json_schema, index_options)``; filterability lives in the index options
(``metadataConfiguration.nonFilterableMetadataKeys``), as the wire protocol carries it.
Validation of records against a schema is in :mod:`eigenlake.embedded.validate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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
        self.additional_properties = additional_properties
        self._fields: dict[str, Field] = {}

    def add(self, name: str, field: Field) -> SchemaBuilder:
        if not isinstance(name, str) or not name:
            raise ValueError("a property name must be a non-empty string")
        if not isinstance(field, Field):
            raise TypeError(f"property {name!r}: expected a field from eigenlake.schema")
        if name in self._fields:
            raise ValueError(f"property {name!r} is declared twice")
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
]
