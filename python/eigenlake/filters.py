"""Mongo-style filters: parsed once into a typed tree, checked against the schema, then
evaluated either vectorised over cache columns (a bool mask) or on one record (``matches``).

Semantics (shared by both evaluators): a property is *missing* when absent or None.
``$eq $gt $gte $lt $lte $in $contains`` never match a missing property; ``$ne`` and ``$nin``
do (as in MongoDB); ``$exists: b`` tests presence. Datetimes compare as instants (µs since
the epoch, UTC when no offset is given), dates as calendar days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from .api.checks import MAX_FILTER_DEPTH, TOO_DEEP, check_nesting, short_repr
from .errors import ValidationError

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_ORDERED = ("$gt", "$gte", "$lt", "$lte")
_COMPARE = ("$eq", "$ne", *_ORDERED)
_FIELD_OPS = (*_COMPARE, "$in", "$nin", "$exists", "$contains")
_INT64 = (-(2**63), 2**63 - 1)


class PropertyInfo(Protocol):
    kind: str
    item_kind: str | None
    filterable: bool


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class Compare:
    prop: str
    kind: str
    op: str
    value: Any


@dataclass(frozen=True)
class InSet:
    prop: str
    kind: str
    values: frozenset[Any]
    negate: bool


@dataclass(frozen=True)
class Exists:
    prop: str
    present: bool


@dataclass(frozen=True)
class Contains:
    prop: str
    kind: str
    value: Any


Node = And | Or | Not | Compare | InSet | Exists | Contains


# ---- parsing -----------------------------------------------------------------------------


def parse(raw: Mapping[str, Any] | None, props: Mapping[str, PropertyInfo]) -> Node | None:
    """Typed tree of a filter dict, or None for "no filter" (None or ``{}``).

    Every problem is a ``ValidationError`` whose message starts with ``filter:`` and names
    the property or operator at fault."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ValidationError(f"filter must be a dict, got {type(raw).__name__}")
    if not raw:
        return None
    check_nesting(raw)  # before anything recursive sees it
    try:
        return _parse_doc(raw, props, 0)
    except ValidationError as e:
        raise ValidationError(f"filter: {e.message}") from None


def _parse_doc(raw: Mapping[str, Any], props: Mapping[str, PropertyInfo], depth: int) -> Node:
    """``depth``: how many logical operators enclose ``raw``."""
    if not isinstance(raw, Mapping) or not raw:
        raise ValidationError(f"a clause must be a non-empty dict, got {short_repr(raw)}")
    parts: list[Node] = []
    for key, value in raw.items():
        if key in ("$and", "$or", "$not") and depth >= MAX_FILTER_DEPTH:
            raise ValidationError(TOO_DEEP)  # checked before going a level deeper
        if key in ("$and", "$or"):
            if not isinstance(value, (list, tuple)) or not value:
                raise ValidationError(f"{key} takes a non-empty list of filters")
            children = tuple(_parse_doc(v, props, depth + 1) for v in value)
            parts.append(And(children) if key == "$and" else Or(children))
        elif key == "$not":
            parts.append(Not(_parse_doc(value, props, depth + 1)))
        elif isinstance(key, str) and key.startswith("$"):
            raise ValidationError(f"unknown logical operator {short_repr(key)}")
        else:
            parts.append(_parse_field(key, value, props))
    return parts[0] if len(parts) == 1 else And(tuple(parts))


def _parse_field(name: str, cond: Any, props: Mapping[str, PropertyInfo]) -> Node:
    info = props.get(name)
    if info is None:
        raise ValidationError(f"unknown property {short_repr(name)}")
    if not info.filterable:
        raise ValidationError(f"property {name!r} is not filterable")
    is_ops = isinstance(cond, Mapping) and cond and all(str(k).startswith("$") for k in cond)
    ops = cond if is_ops else {"$eq": cond}
    parts = [_parse_op(name, info, op, value) for op, value in ops.items()]
    return parts[0] if len(parts) == 1 else And(tuple(parts))


def _parse_op(name: str, info: PropertyInfo, op: str, value: Any) -> Node:
    kind = info.kind
    if op not in _FIELD_OPS:
        raise ValidationError(f"property {name!r}: unknown operator {short_repr(op)}")
    if op == "$exists":
        if not isinstance(value, bool):
            raise ValidationError(f"property {name!r}: $exists takes true or false")
        return Exists(name, value)
    if op == "$contains":
        if kind == "array":
            item = _coerce(name, info.item_kind or "any", value, op)
            return Contains(name, kind, item)
        if kind == "string":
            return Contains(name, kind, _coerce(name, kind, value, op))
        raise ValidationError(f"property {name!r}: $contains needs an array or string property")
    if kind == "array":
        raise ValidationError(f"property {name!r} is an array: use $contains or $exists, not {op}")
    if op in ("$in", "$nin"):
        if not isinstance(value, (list, tuple, set, frozenset)):
            raise ValidationError(f"property {name!r}: {op} takes a list of values")
        values = frozenset(_coerce(name, kind, v, op) for v in value)
        return InSet(name, kind, values, op == "$nin")
    if op in _ORDERED and kind == "boolean":
        raise ValidationError(f"property {name!r}: {op} does not apply to a boolean")
    return Compare(name, kind, op, _coerce(name, kind, value, op))


def _coerce(name: str, kind: str, value: Any, op: str) -> Any:
    """The filter value in the representation the columns hold, or a ValidationError."""
    if isinstance(value, np.generic):
        value = value.item()
    if kind in ("integer", "number"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _misfit(name, kind, value, op)
        if isinstance(value, float) and value != value:  # NaN equals nothing, orders nothing
            raise ValidationError(f"property {name!r}: {op} value NaN matches nothing")
        if isinstance(value, int) and not _INT64[0] <= value <= _INT64[1]:
            # no stored value is out there (integers are 64-bit), and NumPy cannot compare
            raise ValidationError(
                f"property {name!r}: {op} value {short_repr(value)} is outside the 64-bit range"
            )
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _misfit(name, kind, value, op)
        return value
    if kind == "string":
        if not isinstance(value, str):
            raise _misfit(name, kind, value, op)
        return value
    if kind in ("datetime", "date"):
        try:
            return datetime_key(value) if kind == "datetime" else date_key(value)
        except (TypeError, ValueError, OverflowError):
            raise _misfit(name, kind, value, op) from None
    if kind == "any" and isinstance(value, (bool, int, float, str)):
        return value
    raise _misfit(name, kind, value, op)


def _misfit(name: str, kind: str, value: Any, op: str) -> ValidationError:
    # built only when raised: a repr of every filter value would cost on every query
    return ValidationError(
        f"property {name!r}: {op} value {short_repr(value)} does not fit a property of type {kind}"
    )


def datetime_key(value: Any) -> int:
    """Microseconds since the epoch of an ISO-8601 string or datetime (naive = UTC)."""
    if isinstance(value, str):
        text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
        value = dt.datetime.fromisoformat(text)
    if not isinstance(value, dt.datetime):
        raise TypeError("not a datetime")
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def date_key(value: Any) -> int:
    """Proleptic Gregorian ordinal of an ISO-8601 date string or date."""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise TypeError("not a date")
    return value.toordinal()


def column_value(kind: str, value: Any) -> Any:
    """A stored property value as its column representation (None stays None)."""
    if value is None:
        return None
    if kind == "datetime":
        return datetime_key(value)
    if kind == "date":
        return date_key(value)
    if kind == "array":
        return tuple(value)
    return value


# ---- evaluation over columns -------------------------------------------------------------


class Columns(Protocol):
    def column(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(values, present) views of the first ``n`` rows."""
        ...


_NUMPY_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "$eq": np.equal,
    "$ne": np.equal,  # negated below
    "$gt": np.greater,
    "$gte": np.greater_equal,
    "$lt": np.less,
    "$lte": np.less_equal,
}


def mask(node: Node | None, cols: Columns, n: int) -> np.ndarray:
    """Bool mask of the rows matching ``node`` (all True when ``node`` is None)."""
    if node is None:
        return np.ones(n, dtype=bool)
    if isinstance(node, And):
        out = mask(node.children[0], cols, n)
        for child in node.children[1:]:
            out &= mask(child, cols, n)
        return out
    if isinstance(node, Or):
        out = mask(node.children[0], cols, n)
        for child in node.children[1:]:
            out |= mask(child, cols, n)
        return out
    if isinstance(node, Not):
        return ~mask(node.child, cols, n)
    if isinstance(node, Exists):
        present = _present(cols, node.prop)
        return present.copy() if node.present else ~present
    categorical = getattr(cols, "categorical", None)
    cat = categorical(node.prop) if categorical is not None and node.kind == "string" else None
    if cat is not None:
        codes, cats, lookup = cat
        return _string_mask(node, codes, cats, lookup, _present(cols, node.prop))
    values, present = cols.column(node.prop)
    if isinstance(node, Compare):
        hit = present & np.asarray(_NUMPY_OPS[node.op](values, node.value), dtype=bool)
        return ~hit if node.op == "$ne" else hit
    if isinstance(node, InSet):
        hit = present & _isin(values, node.values, node.kind)
        return ~hit if node.negate else hit
    if node.kind == "string":
        needle = node.value
        hit = np.fromiter((needle in v for v in values), dtype=bool, count=len(values))
    else:
        needle = node.value
        hit = np.fromiter((_in_array(needle, v) for v in values), dtype=bool, count=len(values))
    return present & hit


def _present(cols: Columns, name: str) -> np.ndarray:
    getter = getattr(cols, "present", None)
    return getter(name) if getter is not None else cols.column(name)[1]


def _string_mask(
    node: Compare | InSet | Contains,
    codes: np.ndarray,
    cats: np.ndarray,
    lookup: Mapping[str, int],
    present: np.ndarray,
) -> np.ndarray:
    """A string predicate on categorical codes: decide per distinct string, then gather."""
    if isinstance(node, Compare) and node.op in ("$eq", "$ne"):
        code = lookup.get(node.value)
        hit = present & (codes == code) if code is not None else np.zeros(len(codes), bool)
        return ~hit if node.op == "$ne" else hit
    if isinstance(node, InSet):
        wanted = [lookup[v] for v in node.values if v in lookup]
        hit = present & np.isin(codes, np.array(wanted, dtype=codes.dtype))
        return ~hit if node.negate else hit
    if len(cats) == 0:
        return np.zeros(len(codes), dtype=bool)
    if isinstance(node, Compare):
        per_cat = np.asarray(_NUMPY_OPS[node.op](cats, node.value), dtype=bool)
    else:
        needle = node.value
        per_cat = np.fromiter((needle in c for c in cats), dtype=bool, count=len(cats))
    return present & per_cat[codes]


def _isin(values: np.ndarray, wanted: frozenset[Any], kind: str) -> np.ndarray:
    if values.dtype != object:
        if kind == "boolean":
            wanted = frozenset(bool(w) for w in wanted)
        return (
            np.isin(values, np.array(list(wanted)), assume_unique=False)
            if wanted
            else (np.zeros(len(values), dtype=bool))
        )
    return np.fromiter((v in wanted for v in values), dtype=bool, count=len(values))


def _in_array(needle: Any, items: tuple[Any, ...]) -> bool:
    # bool is an int in Python: keep True from matching 1
    return any(x == needle and isinstance(x, bool) == isinstance(needle, bool) for x in items)


# ---- evaluation on one record ------------------------------------------------------------


def matches(node: Node | None, props: Mapping[str, Any]) -> bool:
    """Whether one record's properties match (same semantics as :func:`mask`)."""
    if node is None:
        return True
    if isinstance(node, And):
        return all(matches(c, props) for c in node.children)
    if isinstance(node, Or):
        return any(matches(c, props) for c in node.children)
    if isinstance(node, Not):
        return not matches(node.child, props)
    raw = props.get(node.prop)
    if isinstance(node, Exists):
        return (raw is not None) == node.present
    value = None if raw is None else column_value(node.kind, raw)
    if isinstance(node, Compare):
        hit = value is not None and _compare(node.op, value, node.value)
        return not hit if node.op == "$ne" else hit
    if isinstance(node, InSet):
        hit = value is not None and _member(value, node.values, node.kind)
        return not hit if node.negate else hit
    if value is None:
        return False
    if node.kind == "string":
        return bool(node.value in value)
    return _in_array(node.value, value)


def _member(value: Any, wanted: frozenset[Any], kind: str) -> bool:
    if kind == "boolean":
        return any(isinstance(w, bool) and w == value for w in wanted)
    return value in wanted


def _compare(op: str, a: Any, b: Any) -> bool:
    if op in ("$eq", "$ne"):
        return bool(a == b)
    if op == "$gt":
        return bool(a > b)
    if op == "$gte":
        return bool(a >= b)
    if op == "$lt":
        return bool(a < b)
    return bool(a <= b)
