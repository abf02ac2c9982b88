"""Every row's properties as the JSON text the store keeps, in one core buffer.

No dict (nor any Python object) per row: a row's text is parsed into a new dict only when
an answer hands it out (``dict_of``, ``dicts``, a search page built in the core from the
same buffer), so the caller owns what it gets. Replacing a row's properties appends the
new text; the old bytes are reclaimed when they outweigh the live ones (``garbage``).
``view(rows)`` keeps some rows' texts as they are now (a snapshot's properties).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from .. import _core

# what the store writes (``json.dumps``: ASCII, NaN and Infinity as Python spells them)
_ENCODE = json.JSONEncoder(check_circular=False).encode


def encode(props: dict[str, Any]) -> str:
    """The JSON text of one row's properties, as the store keeps it."""
    return _ENCODE(props)


class PropStore(_core.PropTexts):
    """The properties of rows ``0..len(self)`` (see the module docstring). Read with
    ``dict_of(row)``, ``dicts(rows)``, ``texts(rows)``, ``values(names, start, end)``
    (some properties of a block of rows, for the typed columns), ``view(rows)``."""

    def append(self, props: list[dict[str, Any]], texts: list[str] | None = None) -> None:
        """Add rows holding ``props`` (``texts``: their JSON texts when the caller has
        them, e.g. what it just wrote to the store)."""
        self.extend(list(map(_ENCODE, props)) if texts is None else texts)

    def append_joined(self, text: str, ends: np.ndarray) -> None:
        """Add rows whose texts lie back to back in ``text``: row ``i`` is
        ``text[ends[i]:ends[i + 1]]`` (``ends``: n + 1 offsets from 0)."""
        self.extend_joined(text, np.ascontiguousarray(ends, dtype=np.int64))

    def set_props(self, row: int, props: dict[str, Any], text: str | None = None) -> None:
        """Row ``row`` now holds ``props`` (``text``: its JSON text, if known)."""
        self.set(row, _ENCODE(props) if text is None else text)
