"""Column-wise validation of a whole ``add_many`` call (the fast path).

Checks each property's column of values at once (exact Python types, ranges, constraints);
anything unusual returns None and the caller validates record by record, which also
writes the precise error message.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..schema import is_utf8
from .validate import _INT64_MAX, CompiledSchema, PropertyError, PropSpec, _spec

_NONE = type(None)
# Exact Python types a column of each kind may hold without per-value normalisation.
_FAST_TYPES: dict[str, set[type]] = {
    "string": {str, _NONE},
    "integer": {int, _NONE},
    "number": {int, float, _NONE},
    "boolean": {bool, _NONE},
}
_PLAIN_KEYS = {"type", "description"}


_INFERRED: dict[frozenset[type], str] = {
    frozenset({str}): "string",
    frozenset({int}): "integer",
    frozenset({float}): "number",
    frozenset({int, float}): "number",
    frozenset({bool}): "boolean",
}


def validate_batch(
    schema: CompiledSchema, props_list: list[Any], pending: dict[str, PropSpec]
) -> list[dict[str, Any]] | None:
    """Column-wise validation of a whole call: the given dicts when every one is valid and
    needs no normalisation, else None (the caller then validates record by record, which
    also produces the precise error message). Undeclared properties of an open schema are
    typed here from their column of values and put into ``pending``."""
    if not all(type(p) is dict for p in props_list):
        return None
    keys: set[str] = set().union(*[p.keys() for p in props_list]) if props_list else set()
    # one join + encode finds a non-string key or a lone surrogate in any key
    if not all(type(k) is str for k in keys) or not is_utf8("".join(keys)):
        return None
    new_keys = keys - schema.props.keys()
    if new_keys and not schema.additional:
        return None  # the per-record path names the undeclared property
    found: dict[str, PropSpec] = {}
    for name in new_keys:
        types = frozenset(type(p.get(name)) for p in props_list) - {_NONE}
        kind = _INFERRED.get(types)
        if kind is None or not isinstance(name, str):
            return None
        found[name] = _spec(name, {"type": kind}, True)
    for name in schema.required:
        if any(p.get(name) is None for p in props_list):
            return None
    for name in keys:
        spec = schema.props.get(name) or found[name]
        vals = [p.get(name) for p in props_list]
        allowed = _FAST_TYPES.get(spec.kind)
        if allowed is None or not set(map(type, vals)) <= allowed:
            return None
        present = [v for v in vals if v is not None]
        if spec.kind == "number":
            floats = [v for v in present if type(v) is float]
            if floats and not bool(np.isfinite(np.array(floats)).all()):
                return None
            ints = [v for v in present if type(v) is int]
            if ints and not _in_int64(ints):
                return None
        elif spec.kind == "integer" and present and not _in_int64(present):
            return None
        elif spec.kind == "string" and not is_utf8("".join(present)):
            return None  # a lone surrogate somewhere in the column
        if spec.fragment.keys() - _PLAIN_KEYS:  # constraints: check each value
            try:
                for v in present:
                    spec.check(v)
            except PropertyError:
                return None
    pending.update(found)
    return props_list


def _in_int64(values: list[int]) -> bool:
    return min(values) >= -_INT64_MAX - 1 and max(values) <= _INT64_MAX
