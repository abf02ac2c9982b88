"""Writing ``search.nearest`` cursors (``api/cursor.py`` describes and reads them).

The core writes them (``_core.query_hash``, ``_core.nearest_cursor``), because the one
call that answers an unfiltered first page through the graph (``_core.Hnsw.first_page``)
writes its cursor too: every path then shares one definition of the text and of the
query hash, which covers the bytes of the query row ``vectors.query_row`` makes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _core
from ..api.cursor import filter_text


def query_hash(q: np.ndarray, flt: Any) -> str:
    """Fingerprint of a query row and its filter, carried in a ``nearest`` cursor."""
    return query_hash_of(q, filter_text(flt))


def query_hash_of(q: np.ndarray, flt_text: bytes) -> str:
    """``query_hash`` of a query row (float32, read in C order) and its filter's
    ``filter_text``: the 64-bit XXH3 of both, as 16 hex digits."""
    qhash: str = _core.query_hash(q, flt_text)
    return qhash


def encode_nearest_cursor(offset: int, dist: float, uuid: str, qhash: str) -> str:
    """The cursor after a hit at (``dist``, ``uuid``), ``offset`` hits in: base64url,
    unpadded, of the JSON text Python's ``json.dumps`` gives."""
    cursor: str = _core.nearest_cursor(offset, dist, uuid, qhash)
    return cursor
