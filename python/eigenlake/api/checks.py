"""The one argument checker: page sizes, offsets, cursors, modes, flags, iterables, shared
by the embedded store, the remote client, the sharded index and the server's request
models, so one mistake gets the same ``ValidationError`` (naming the argument) everywhere.

Bounds (the server's models use the same constants):

- ``MAX_LIMIT`` (100,000): the most records one answer may hold: ``search.nearest``'s
  ``limit`` (``top_k`` on the wire), ``records.list``/get-by-filter's ``limit``,
  ``search.list``'s ``limit`` and ``iterate``'s ``page_size``. Pinecone caps ``top_k`` at
  10,000 and Weaviate and Elasticsearch cap a result window at 10,000; Qdrant and Chroma
  take any limit, and a huge one makes the server allocate for it before it finds out the
  collection is small. 100,000 leaves bulk paging (exports) ten times that room while
  bounding what one call can hold; page on with the cursor for more.
- ``MAX_INT`` (2**53 - 1): every other count or offset (``search.list``'s ``offset``, a
  cursor's position, ``remove_many``'s ``limit``, the analyses' ``limit``,
  ``n_neighbors``, ``max_results``...). It is the largest integer every JSON client
  (JavaScript's numbers) carries exactly; no count of records gets near it, and larger
  values overflow the 64-bit kernels.
- ``MAX_FILTER_DEPTH`` (32): how deeply ``$and``/``$or``/``$not`` may nest in a filter;
  checked while parsing, before going a level deeper, so a hostile filter is refused
  instead of exhausting the stack (Elasticsearch stops bool queries at 30 levels).
- ``MAX_CURSOR_CHARS`` (1,024): cursors are short; anything longer is not one we made.
- ``MAX_PROPERTY_DEPTH`` (32): the most arrays/objects a free-form property value may
  nest (Elasticsearch's mapping depth limit is 20, its bool queries' 30); the embedded
  store's property checks (``embedded/validate.py``) and the remote client's pre-send
  check both refuse deeper values, with the same message.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from numbers import Real
from typing import Any

import numpy as np

from ..errors import ValidationError

MAX_LIMIT = 100_000
MAX_INT = 2**53 - 1
# The choices of the write calls, spelled once.
DUPLICATE_MODES = ("error", "replace", "skip")
ERROR_MODES = ("raise", "continue")
MISSING_MODES = ("skip", "error")
MAX_FILTER_DEPTH = 32
MAX_CURSOR_CHARS = 1024
# The most arrays/objects a free-form property value may nest.
MAX_PROPERTY_DEPTH = 32


def check_int(
    name: str,
    value: Any,
    *,
    minimum: int = 0,
    maximum: int = MAX_INT,
    optional: bool = False,
    why: str = "",
) -> int | None:
    """``value`` as an int in [minimum, maximum]; None passes when ``optional``; ``why``
    follows the maximum in the message (" (MAX_NUM_CLUSTERS)").

    Booleans are refused (``True`` is an int to Python, but a limit of True is a mistake),
    and so are floats and numeric strings: ``limit="5"`` is not quietly read as 5.
    NumPy integers are accepted (``len``-like values computed with NumPy).
    """
    if value is None and optional:
        return None
    if isinstance(value, bool):
        raise ValidationError(f"{name} must be an integer, got {value!r}")
    try:
        number = operator.index(value)  # NumPy's bool has no __index__: refused here too
    except TypeError:
        raise ValidationError(f"{name} must be an integer, got {short_repr(value)}") from None
    if number < minimum:
        raise ValidationError(f"{name} must be >= {minimum}, got {number}")
    if number > maximum:
        raise ValidationError(f"{name} must be <= {maximum:,}{why}, got {short_repr(number)}")
    return int(number)


def check_limit(value: Any, name: str = "limit", *, maximum: int = MAX_LIMIT) -> int:
    """A page or result size: an int in [1, MAX_LIMIT]."""
    out = check_int(name, value, minimum=1, maximum=maximum)
    assert out is not None
    return out


def check_offset(value: Any, name: str = "offset") -> int:
    out = check_int(name, value, minimum=0)
    assert out is not None
    return out


def check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(f"{name} must be true or false, got {short_repr(value)}")
    return value


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValidationError(f"{name} must be one of {list(choices)}, got {short_repr(value)}")
    return value


def check_number(
    name: str, value: Any, *, optional: bool = False, positive: bool = False
) -> float | None:
    """A finite real number (not a bool); ``positive`` requires > 0. NumPy numbers are
    taken, as ``check_int`` takes NumPy integers; a Python int too large for a float is
    refused, not raised as ``OverflowError``."""
    if value is None and optional:
        return None
    # numbers.Real: int, float, Fraction, NumPy's integers and floats; not np.bool_
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValidationError(f"{name} must be a number, got {short_repr(value)}")
    try:
        out = float(value)
    except OverflowError:
        raise ValidationError(f"{name} must be a finite number, got {short_repr(value)}") from None
    if out != out or out in (float("inf"), float("-inf")):
        raise ValidationError(f"{name} must be a finite number, got {value!r}")
    if positive and not out > 0:
        raise ValidationError(f"{name} must be > 0, got {short_repr(value)}")
    return out


def check_positive_number(name: str, value: Any, *, optional: bool = False) -> float | None:
    """A finite number > 0 (an epsilon, a radius), as a float; None passes when ``optional``."""
    return check_number(name, value, optional=optional, positive=True)


def check_str(name: str, value: Any, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be a string, got {short_repr(value)}")
    return value


def check_filter_arg(value: Any, name: str = "filter") -> None:
    """A filter argument is None or a dict; what is inside is checked by the filter parser."""
    if value is not None and not isinstance(value, dict):
        raise ValidationError(f"{name} must be a filter dict or None, got {type(value).__name__}")


# Containers a filter may nest: two per logical level ({"$and": [...]}) plus a field
# condition ({"p": {"$in": [...]}}); the filter parser then checks the logical depth.
_MAX_FILTER_NESTING = 2 * MAX_FILTER_DEPTH + 3
TOO_DEEP = f"$and/$or/$not nest deeper than {MAX_FILTER_DEPTH} levels"


def check_nesting(value: Any, name: str = "filter") -> None:
    """Refuse a filter nested deeper than ``MAX_FILTER_DEPTH`` levels of ``$and/$or/$not``.

    A walk with an explicit stack, not recursion: it runs before anything recursive (the
    filter parser, ``json.dumps`` in the remote client) meets a 10,000-level filter. Only
    containers go on the stack: the scalars of ``{"p": {"$in": [100,000 ids]}}`` are
    passed over in a C loop, not pushed one by one (~27 ms a query)."""
    stack: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, _CONTAINERS) else []
    while stack:
        node, depth = stack.pop()
        if depth > _MAX_FILTER_NESTING:
            raise ValidationError(f"{name}: {TOO_DEEP}")
        children = node.values() if isinstance(node, Mapping) else node
        # the children's types, gathered in a C loop: a list of 100,000 ids has one or two
        if any(issubclass(t, _CONTAINERS) for t in set(map(type, children))):
            stack.extend((c, depth + 1) for c in children if isinstance(c, _CONTAINERS))


# What ``check_nesting`` descends into: a filter's objects and arrays.
_CONTAINERS = (Mapping, list, tuple)


def cursor_text(value: Any, what: str) -> str | None:
    """The text of an ``after`` cursor (None/"" = first page). A cursor is the string a
    previous page returned: anything else (a number, bytes, a very long string) is refused."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValidationError(
            f"after must be the cursor string returned by {what}(), got {short_repr(value)}"
        )
    if len(value) > MAX_CURSOR_CHARS:
        raise ValidationError(
            f"after is not a cursor returned by {what}() ({len(value):,} characters)"
        )
    return value


def short_repr(value: Any, width: int = 60) -> str:
    """repr of a value for a message, cut so a huge argument does not make a huge error."""
    try:
        text = repr(value)
    except ValueError:  # ints too long for repr (sys.int_info.str_digits_check_threshold)
        return f"<{type(value).__name__} too large to show>"
    return text if len(text) <= width else text[: width - 3] + "..."


def check_listed(value: Any, name: str, items: str) -> list[Any]:
    """An iterable argument (``records`` of ``add_many``, ``vectors`` of ``add_vectors``) as
    a list. A string, a mapping, a number or None is a mistake: iterating "abc" or a dict's
    keys would only fail later, on each item, with a message that does not name ``name``."""
    from collections.abc import Iterable

    from ..schema import describe_value

    if (
        value is None
        or isinstance(value, (str, bytes, bytearray, dict))
        or not isinstance(value, Iterable)
    ):
        hint = " (wrap a single record in a list)" if isinstance(value, dict) else ""
        raise ValidationError(
            f"{name} must be a list (or other iterable) of {items}, got "
            f"{type(value).__name__} {describe_value(value)}{hint}"
        )
    return list(value)


def check_removal(filter: Any, limit: Any, on_missing: Any) -> int | None:
    """The arguments of ``records.remove_many`` (all modes, and the remote background job);
    returns ``limit``."""
    limit = check_int("limit", limit, minimum=0, maximum=MAX_INT, optional=True)
    check_choice("on_missing", on_missing, MISSING_MODES)
    if filter is None:
        raise ValidationError("remove_many needs a filter; manage.delete() drops the index")
    check_filter_arg(filter)
    return limit


def is_query_batch(vector: Any) -> bool:
    """A batch of query vectors (a 2-D array, or a list/tuple of vectors) rather than one:
    decided from the type and the first item only, so one query pays nothing for it."""
    if isinstance(vector, np.ndarray):
        return vector.ndim == 2
    if isinstance(vector, (list, tuple)) and vector:
        return isinstance(vector[0], (list, tuple, np.ndarray))
    return False
