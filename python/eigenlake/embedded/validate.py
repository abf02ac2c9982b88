"""Compiled schema: per-property checkers that validate and normalise record properties.

A JSON-Schema dict (from ``SchemaBuilder`` or hand-written) is compiled once per index into
closures, so validating a record is a dict walk with one call per property.

Whatever is stored must read back as JSON, so every value is refused that JSON (or UTF-8)
cannot carry, at any depth: a string or a property name with a lone surrogate, NaN and
infinities, integers outside 64 bits, and values nested more than ``MAX_PROPERTY_DEPTH``
arrays/objects deep (checked with an explicit stack, so a hostile value cannot exhaust the
interpreter's).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..api.checks import MAX_PROPERTY_DEPTH
from ..errors import ValidationError
from ..schema import _Bad, describe_value, is_utf8, property_kind
from ..schema import parse_date as parse_date  # re-exported: moved to eigenlake.schema
from ..schema import parse_datetime as parse_datetime

Checker = Callable[[Any], Any]
KINDS = ("string", "integer", "number", "boolean", "datetime", "date", "array")
_INT64_MAX = 2**63 - 1
_SURROGATE = "string contains a lone surrogate (not valid Unicode, cannot be stored)"
log = logging.getLogger("eigenlake")


class PropertyError(Exception):
    """A problem with one value; the caller adds the record and property to the message."""


def kind_of(prop_schema: dict[str, Any], stored: str | None = None) -> str:
    """The EigenLake kind of a JSON-Schema property fragment.

    ``stored`` (where the fragment is, for the warning): the fragment is part of a schema
    an index stored, maybe by a version before ``check_schema``; it is read with that
    version's lenient rule (``property_kind(lenient=True)``), so the index still opens,
    and a warning says what ``check_schema`` would refuse in it today."""
    try:
        return property_kind(prop_schema)
    except _Bad as e:
        if stored is not None:
            try:
                kind = property_kind(prop_schema, lenient=True)
            except _Bad:
                pass
            else:
                _warn_stored(stored, str(e), kind)
                return kind
        raise ValidationError(f"schema: {e}") from None


_warned: set[tuple[str, str, str]] = set()


def _warn_stored(where: str, problem: str, kind: str) -> None:
    """Log once per process and problem (stored schemas are compiled on every reload)."""
    key = (where, problem, kind)
    if key in _warned:
        return
    if len(_warned) < 1000:
        _warned.add(key)
    log.warning(
        "%s: %s (a new schema is refused for this); read as %s, as the version that stored it did",
        where,
        problem,
        kind,
    )


def infer_kind(value: Any) -> dict[str, Any] | None:
    """JSON-Schema fragment for a value written to an undeclared property (schema evolution)."""
    scalar = _scalar_type(value)
    if scalar is not None:
        return {"type": scalar}
    if isinstance(value, (list, tuple)) and value:
        item_types = {_scalar_type(v) for v in value}
        if len(item_types) == 1 and None not in item_types:
            return {"type": "array", "items": {"type": item_types.pop()}}
        if item_types == {"integer", "number"}:
            return {"type": "array", "items": {"type": "number"}}
    return None


def _scalar_type(value: Any) -> str | None:
    if isinstance(value, (bool, np.bool_)):
        return "boolean"
    if isinstance(value, (int, np.integer)):
        return "integer"
    if isinstance(value, (float, np.floating)):
        return "number"
    if isinstance(value, str):
        return "string"
    return None


def _base_checker(kind: str, prop_schema: dict[str, Any], stored: str | None) -> Checker:
    if kind == "string":
        return _check_string
    if kind == "integer":
        return _check_integer
    if kind == "number":
        return _check_number
    if kind == "boolean":
        return _check_boolean
    if kind == "datetime":
        return _check_datetime
    if kind == "date":
        return _check_date
    item_schema = prop_schema.get("items", {})
    items = None if stored is None else f"{stored}.items"
    item_check = compile_checker(item_schema, items) if item_schema else _check_json_scalar
    return lambda v: _check_array(v, item_check)


def _check_string(v: Any) -> str:
    if not isinstance(v, str):
        raise PropertyError(f"expected a string, got {type(v).__name__}")
    if not is_utf8(v):
        raise PropertyError(_SURROGATE)
    return v


def _int64(v: int) -> int:
    # JSON readers other than Python's (JavaScript, the Rust core) lose or refuse the rest
    if not -_INT64_MAX - 1 <= v <= _INT64_MAX:
        raise PropertyError("integer outside the 64-bit range")
    return v


def _check_integer(v: Any) -> int:
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
        raise PropertyError(f"expected an integer, got {type(v).__name__}")
    return _int64(int(v))


def _check_number(v: Any) -> float | int:
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise PropertyError(f"expected a number, got {type(v).__name__}")
    if isinstance(v, (float, np.floating)):
        if not math.isfinite(v):
            raise PropertyError("expected a finite number (JSON has no NaN or infinity)")
        return float(v)
    return _int64(int(v))


def _check_boolean(v: Any) -> bool:
    if not isinstance(v, (bool, np.bool_)):
        raise PropertyError(f"expected a boolean, got {type(v).__name__}")
    return bool(v)


def _check_datetime(v: Any) -> str:
    if isinstance(v, dt.datetime):
        return (v if v.tzinfo else v.replace(tzinfo=dt.timezone.utc)).isoformat()
    if not isinstance(v, str):
        raise PropertyError(f"expected an ISO-8601 datetime string, got {type(v).__name__}")
    try:
        parse_datetime(v)
    except ValueError:
        raise PropertyError(f"{v!r} is not an ISO-8601 datetime") from None
    return v


def _check_date(v: Any) -> str:
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return v.isoformat()
    if not isinstance(v, str):
        raise PropertyError(f"expected an ISO-8601 date string, got {type(v).__name__}")
    try:
        parse_date(v)
    except ValueError:
        raise PropertyError(f"{v!r} is not an ISO-8601 date (YYYY-MM-DD)") from None
    return v


def _check_json_scalar(v: Any) -> Any:
    t = _scalar_type(v)
    if t is None:
        raise PropertyError(f"unsupported array element {type(v).__name__}")
    return _SCALAR_CHECKS[t](v)


_SCALAR_CHECKS: dict[str, Checker] = {
    "boolean": _check_boolean,
    "integer": _check_integer,
    "number": _check_number,
    "string": _check_string,
}


def _check_array(v: Any, item_check: Checker) -> list[Any]:
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if not isinstance(v, (list, tuple)):
        raise PropertyError(f"expected an array, got {type(v).__name__}")
    out = []
    for i, item in enumerate(v):
        try:
            out.append(item_check(item))
        except PropertyError as e:
            raise PropertyError(f"item {i}: {e}") from None
    return out


def compile_checker(prop_schema: dict[str, Any], stored: str | None = None) -> Checker:
    """Type check plus the JSON-Schema constraints present in the fragment (``stored``:
    as for ``kind_of``)."""
    kind = kind_of(prop_schema, stored)
    base = _base_checker(kind, prop_schema, stored)
    checks: list[Callable[[Any], None]] = []
    # messages are made once here; a value is shown (cut short) only when it fails
    enum = prop_schema.get("enum")
    if enum is not None:
        allowed = list(enum)
        m_enum = f"is not one of {describe_value(allowed, 200)}"
        checks.append(lambda v: _require(v in allowed, m_enum, v))
    lo, hi = prop_schema.get("minimum"), prop_schema.get("maximum")
    if lo is not None:
        m_lo = f"is below the minimum {lo}"
        checks.append(lambda v: _require(v >= lo, m_lo, v))
    if hi is not None:
        m_hi = f"is above the maximum {hi}"
        checks.append(lambda v: _require(v <= hi, m_hi, v))
    min_len, max_len = prop_schema.get("minLength"), prop_schema.get("maxLength")
    if min_len is not None:
        m_short = f"shorter than {min_len} characters"
        checks.append(lambda v: _require(len(v) >= min_len, m_short))
    if max_len is not None:
        m_long = f"longer than {max_len} characters"
        checks.append(lambda v: _require(len(v) <= max_len, m_long))
    pattern = prop_schema.get("pattern")
    if pattern is not None:
        try:
            rx = re.compile(pattern)
        except (re.error, RecursionError, OverflowError) as e:  # only in pre-check schemas
            raise ValidationError(f"schema: pattern {describe_value(pattern)}: {e}") from None
        m_match = f"does not match {describe_value(pattern, 200)}"
        checks.append(lambda v: _require(rx.search(v) is not None, m_match))
    min_items, max_items = prop_schema.get("minItems"), prop_schema.get("maxItems")
    if min_items is not None:
        m_few = f"fewer than {min_items} items"
        checks.append(lambda v: _require(len(v) >= min_items, m_few))
    if max_items is not None:
        m_many = f"more than {max_items} items"
        checks.append(lambda v: _require(len(v) <= max_items, m_many))
    if prop_schema.get("uniqueItems"):
        checks.append(lambda v: _require(_unique(v), "items are not unique"))
    fmt_lo, fmt_hi = prop_schema.get("formatMinimum"), prop_schema.get("formatMaximum")
    if kind in ("datetime", "date") and (fmt_lo is not None or fmt_hi is not None):
        parse = parse_datetime if kind == "datetime" else parse_date
        if fmt_lo is not None:
            lo_v, m_before = parse(fmt_lo), f"is before {fmt_lo}"
            checks.append(lambda v: _require(parse(v) >= lo_v, m_before, v))
        if fmt_hi is not None:
            hi_v, m_after = parse(fmt_hi), f"is after {fmt_hi}"
            checks.append(lambda v: _require(parse(v) <= hi_v, m_after, v))
    if not checks:
        return base

    def check(v: Any) -> Any:
        v = base(v)
        for c in checks:
            c(v)
        return v

    return check


_UNSHOWN = object()


def _require(ok: bool, problem: str, value: Any = _UNSHOWN) -> None:
    if not ok:
        shown = "" if value is _UNSHOWN else f"{describe_value(value)} "
        raise PropertyError(shown + problem)


def _unique(items: list[Any]) -> bool:
    seen = [repr(x) for x in items]
    return len(set(seen)) == len(seen)


@dataclass
class PropSpec:
    name: str
    kind: str
    item_kind: str | None
    filterable: bool
    check: Checker
    fragment: dict[str, Any]


def _spec(
    name: str, fragment: dict[str, Any], filterable: bool, origin: str | None = None
) -> PropSpec:
    """``origin``: the stored schema the property is in (``CompiledSchema``), or None."""
    where = None if origin is None else f"{origin}: property {describe_value(name)}"
    kind = kind_of(fragment, where)
    item_kind = None
    if kind == "array" and "items" in fragment:
        item_kind = kind_of(fragment["items"], None if where is None else f"{where}.items")
    return PropSpec(name, kind, item_kind, filterable, compile_checker(fragment, where), fragment)


class CompiledSchema:
    """An index's schema ready for validation; ``schema=None`` means open and untyped.

    A schema is checked by ``check_schema`` before an index is created with it
    (``api.options.check_create``), with today's rules. ``origin`` names a schema an index
    holds (the default: one whose index is not known here), maybe written by an earlier
    version with a laxer rule: what that version accepted is read as it read it, with a
    warning naming ``origin``, not refused (else the index could not be opened at all).
    ``origin=None`` refuses it instead (a schema a user sends)."""

    def __init__(
        self,
        schema: dict[str, Any] | None,
        non_filterable: list[str],
        *,
        origin: str | None = "stored schema",
    ) -> None:
        self.source: dict[str, Any] = dict(schema) if schema else {}
        self.additional = bool(self.source.get("additionalProperties", True)) or not schema
        self.required = set(self.source.get("required", []))
        self.non_filterable = set(non_filterable)
        self.props: dict[str, PropSpec] = {}
        for name, fragment in self.source.get("properties", {}).items():
            self.props[name] = _spec(name, fragment, name not in self.non_filterable, origin)

    def declare(self, pending: dict[str, PropSpec]) -> None:
        """Adopt properties found by ``validate`` (schema evolution); caller persists ``source``."""
        if not pending:
            return
        self.source.setdefault("type", "object")
        props = dict(self.source.get("properties", {}))
        for name, spec in pending.items():
            props[name] = spec.fragment
            self.props[name] = spec
        self.source["properties"] = props

    def validate(
        self,
        props: Any,
        where: str,
        pending: dict[str, PropSpec],
        *,
        evolve: bool = False,
        partial: bool = False,
    ) -> dict[str, Any]:
        """Normalised copy of ``props``; new properties it introduces go into ``pending``.

        ``pending`` is shared by the records of one call so a new property is typed once.
        ``evolve`` lets undeclared properties extend a closed schema (``update``); open
        schemas always extend. ``partial`` skips the required check (merged by the caller).
        """
        if props is None:
            props = {}
        if not isinstance(props, dict):
            raise ValidationError(f"{where}: properties must be a dict, got {type(props).__name__}")
        out: dict[str, Any] = {}
        specs = self.props
        for name, value in props.items():
            if not isinstance(name, str):
                raise ValidationError(
                    f"{where}: property names must be strings, got {type(name).__name__}"
                    f" {describe_value(name)}"
                )
            if not is_utf8(name):
                raise ValidationError(
                    f"{where}: property name {name!r} contains a lone surrogate (not valid"
                    " Unicode, cannot be stored)"
                )
            spec = specs.get(name) or pending.get(name)
            if value is None:
                if name in self.required:
                    raise ValidationError(f"{where}: property {name!r} is required, got None")
                out[name] = None
                continue
            if spec is None:
                if not (self.additional or evolve):
                    raise ValidationError(
                        f"{where}: property {name!r} is not declared in the closed schema"
                    )
                fragment = infer_kind(value)
                if fragment is None:
                    if not self.additional:
                        raise ValidationError(
                            f"{where}: property {name!r}: cannot add a property of this type"
                            " (integer, number, boolean, string or an array of one of these)"
                        )
                    # untypeable value (dict, mixed list): stored, neither typed nor filterable
                    try:
                        out[name] = free_form(value)
                    except PropertyError as e:
                        raise ValidationError(f"{where}: property {name!r}: {e}") from None
                    continue
                spec = _spec(name, fragment, True)
                pending[name] = spec
            try:
                out[name] = spec.check(value)
            except PropertyError as e:
                raise ValidationError(f"{where}: property {name!r}: {e}") from None
        if not partial:
            for name in self.required:
                if out.get(name) is None:
                    raise ValidationError(f"{where}: required property {name!r} is missing")
        return out


def free_form(value: Any) -> Any:
    """A JSON-safe copy of a free-form value (open schemas only): lists for tuples and
    arrays, Python scalars for NumPy ones. Walked with an explicit stack, so depth is
    bounded by ``MAX_PROPERTY_DEPTH``, not by the interpreter's recursion limit; raises
    ``PropertyError`` naming where inside the value the problem is."""
    root: list[Any] = [None]
    # (value, container to write into, key or position there, depth, path for messages)
    stack: list[tuple[Any, Any, Any, int, str]] = [(value, root, 0, 0, "")]
    while stack:
        v, parent, key, depth, path = stack.pop()
        if isinstance(v, np.ndarray):
            v = v.tolist()
        if isinstance(v, (dict, list, tuple)):
            if depth >= MAX_PROPERTY_DEPTH:
                raise PropertyError(f"nested more than {MAX_PROPERTY_DEPTH} arrays/objects deep")
            if isinstance(v, dict):
                obj: dict[str, Any] = {}
                for k, item in v.items():
                    if not isinstance(k, str):
                        raise PropertyError(
                            f"{path or 'value'}: object keys must be strings, got "
                            f"{type(k).__name__} {describe_value(k)}"
                        )
                    if not is_utf8(k):
                        raise PropertyError(f"{path or 'value'}: key {k!r}: {_SURROGATE}")
                    obj[k] = None  # keeps the key order; filled when its value is popped
                    stack.append((item, obj, k, depth + 1, f"{path}[{describe_value(k, 40)}]"))
                parent[key] = obj
            else:
                arr: list[Any] = [None] * len(v)
                for i, item in enumerate(v):
                    stack.append((item, arr, i, depth + 1, f"{path}[{i}]"))
                parent[key] = arr
            continue
        try:
            parent[key] = _free_scalar(v)
        except PropertyError as e:
            raise PropertyError(f"{path}: {e}" if path else str(e)) from None
    return root[0]


def _free_scalar(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    t = _scalar_type(v)
    if t is None:
        raise PropertyError(f"{type(v).__name__} is not a JSON value")
    return _SCALAR_CHECKS[t](v)
