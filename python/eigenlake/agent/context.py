"""Build a ``PlanContext`` from an index: its schema plus the values its records hold."""

from __future__ import annotations

from typing import Any

from ..analysis.snapshot import Snapshot
from .plan import FieldInfo, PlanContext

# Values are read from the first records of the index; enough to see every common value.
VALUE_SAMPLE = 20_000
# A property with more distinct values than this (ids, sequences, free text) is not matched.
MAX_VALUES = 5_000


def field_type(spec: dict[str, Any]) -> str:
    t = spec.get("type", "string")
    if isinstance(t, list):  # ["string", "null"]
        t = next((x for x in t if x != "null"), "string")
    if t == "string" and spec.get("format") == "date-time":
        return "datetime"
    if t == "string" and spec.get("format") == "date":
        return "date"
    return str(t)


def take_snapshot(index: Any, flt: Any, limit: int | None) -> Snapshot:
    """``index.snapshot(flt, limit)``: the rows an analysis runs over (the embedded and
    the sharded index both offer it, as part of their internal API)."""
    snap: Snapshot = index.snapshot(flt, limit)
    return snap


def build_context(index: Any, **settings: Any) -> PlanContext:
    """Schema from ``index.settings.schema()``; values from its snapshot."""
    schema = index.settings.schema() or {}
    props: dict[str, Any] = schema.get("properties") or {}
    hidden = set(_non_filterable(index))
    snap = take_snapshot(index, None, VALUE_SAMPLE)
    n = max(len(snap), 1)
    fields: dict[str, FieldInfo] = {}
    names = list(props) + sorted(snap.names() - set(props))
    for name in names:
        values = snap.values(name)  # the stored values, read only (no copy of any record)
        spec = props.get(name) or _guess_spec(values)
        info = FieldInfo(name=name, type=field_type(spec), filterable=name not in hidden)
        if info.type == "string":
            seen = {str(v) for v in values if v not in (None, "")}
            info.distinct_ratio = len(seen) / n
            if len(seen) <= MAX_VALUES:
                info.values = sorted(seen | {str(v) for v in spec.get("enum") or []})
        fields[name] = info
    return PlanContext(fields=fields, **settings)


def _guess_spec(values: list[Any]) -> dict[str, Any]:
    """Type of a property the schema does not declare (an open schema), from a value."""
    v = next((v for v in values if v is not None), "")
    if isinstance(v, bool):
        return {"type": "boolean"}
    if isinstance(v, int):
        return {"type": "integer"}
    if isinstance(v, float):
        return {"type": "number"}
    return {"type": "array"} if isinstance(v, list) else {"type": "string"}


def _non_filterable(index: Any) -> list[str]:
    # Not part of the public surface; an embedded index keeps it in its config.
    options = (getattr(index, "config", None) or {}).get("index_options") or {}
    meta = options.get("metadataConfiguration") or {}
    return list(meta.get("nonFilterableMetadataKeys") or [])
