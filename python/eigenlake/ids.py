"""Record ids: canonical uuid strings, deterministic uuid5 from the record id property."""

from __future__ import annotations

import uuid
from typing import Any

from .errors import ValidationError
from .schema import describe_value

# Fixed namespace so the same document id gives the same uuid on every machine.
EIGENLAKE_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "eigenlake.dev")


def canonical_id(value: Any, where: str = "id") -> str:
    """The lower-case hyphenated form of a uuid given as str or ``uuid.UUID``."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if not isinstance(value, str):
        raise ValidationError(f"{where}: id must be a uuid string, got {type(value).__name__}")
    try:
        return str(uuid.UUID(value))
    except ValueError:  # repr: a lone surrogate is shown escaped, never put in an answer
        raise ValidationError(f"{where}: id {describe_value(value)} is not a valid uuid") from None


def derived_id(namespace: str, index: str, key: Any) -> str:
    """uuid5 of ``<namespace>/<index>/<key>``: re-sending a document gives the same uuid."""
    try:
        return str(uuid.uuid5(EIGENLAKE_NAMESPACE, f"{namespace}/{index}/{key}"))
    except UnicodeEncodeError:  # validated properties have none; this guards other callers
        raise ValidationError(
            f"record id {describe_value(key)} contains a lone surrogate (not valid Unicode)"
        ) from None


def new_id() -> str:
    return str(uuid.uuid4())


def new_ids(count: int) -> list[str]:
    """``count`` random (version 4) uuids, generated in bulk: one urandom call, the text
    of all of them laid out by NumPy, then cut into strings (``uuid.uuid4()`` costs ~8 µs
    each, which dominates large inserts)."""
    import os

    import numpy as np

    raw = np.frombuffer(os.urandom(16 * count), dtype=np.uint8).reshape(count, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    hexdigits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    text = np.full((count, 36), ord("-"), dtype=np.uint8)
    at = 0
    for lo, hi in _UUID_GROUPS:  # bytes of each dash-separated group
        group = text[:, at : at + 2 * (hi - lo)]
        group[:, 0::2] = hexdigits[raw[:, lo:hi] >> 4]
        group[:, 1::2] = hexdigits[raw[:, lo:hi] & 15]
        at += 2 * (hi - lo) + 1
    s = text.tobytes().decode("ascii")
    return [s[i : i + 36] for i in range(0, 36 * count, 36)]


_UUID_GROUPS = ((0, 4), (4, 6), (6, 8), (8, 10), (10, 16))
