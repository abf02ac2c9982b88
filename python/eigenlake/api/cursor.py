"""Cursors: the text ``after`` carries from one page to the next.

- ``search.nearest``: base64url (unpadded) of ``{"o": offset, "d": distance, "u": uuid,
  "h": query hash}``: the page offset and the (distance, uuid) of the last hit, so the
  next page starts strictly after it (pages never repeat a record even when the graph
  search is approximate), and a fingerprint of the query vector and filter, so a cursor
  is refused on another query. Every field is checked when decoded: a hand-made cursor
  is refused, never trusted to size a search.
- ``records.list``: the decimal sequence number of the last record of the page.

Both are opaque to callers: ``cursor_text`` (in ``checks``) refuses anything that is not
a short string before these read it. The ``nearest`` cursor is written by the core
(``embedded/cursors.py`` over ``_core.nearest_cursor``), which also writes it in the one
call that answers a graph's first page; this module reads it back.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from ..errors import ValidationError
from ..ids import canonical_id
from .checks import MAX_INT, check_int, cursor_text, short_repr


def filter_text(flt: Any) -> bytes:
    """The filter's part of a cursor's query hash (``embedded.cursors.query_hash``): a
    search that saw this filter before may keep it (``query_hash_of``) rather than encode
    the filter again."""
    # what json.dumps(None) gives, without its encoder set-up on every unfiltered query
    return b"null" if flt is None else json.dumps(flt, sort_keys=True, default=str).encode()


def decode_nearest_cursor(after: str | None, qhash: str) -> tuple[int, tuple[float, str] | None]:
    """(offset, (distance, uuid) of the last hit) of a cursor ``encode_nearest_cursor``
    made; (0, None) for the first page.

    Every field is checked: a hand-made cursor is refused, never trusted to size a search
    (the embedded search also caps the offset by the rows that exist)."""
    if after is None:
        return 0, None
    bad = ValidationError(f"after {short_repr(after)} is not a cursor returned by nearest()")
    try:
        data = json.loads(base64.urlsafe_b64decode(after + "=" * (-len(after) % 4)))
    except (ValueError, TypeError, RecursionError):  # RecursionError: "[[[[..." nesting
        raise bad from None
    if not isinstance(data, dict):
        raise bad
    offset, dist, uid = data.get("o"), data.get("d"), data.get("u")
    try:
        offset = check_int("after (its offset)", offset, minimum=0, maximum=MAX_INT)
    except ValidationError:
        raise bad from None
    if isinstance(dist, bool) or not isinstance(dist, (int, float)) or dist != dist:
        raise bad
    if not isinstance(uid, str):
        raise bad
    try:
        uid = canonical_id(uid)
    except ValueError:
        raise bad from None
    if data.get("h") != qhash:
        raise ValidationError("after: this cursor belongs to another query or filter")
    assert offset is not None
    return offset, (float(dist), uid)


def parse_list_cursor(after: Any) -> int:
    """The sequence number a ``records.list()`` cursor holds (0: first page): decimal
    digits only (no sign, spaces, underscores or float text that ``int()`` would accept),
    within the 53-bit range."""
    text = cursor_text(after, "list")
    if text is None:
        return 0
    if not (text.isascii() and text.isdigit() and len(text) <= 16 and int(text) <= MAX_INT):
        raise ValidationError(f"after {text[:40]!r} is not a cursor returned by list()")
    return int(text)
