"""Record ids: canonical uuid strings, deterministic uuid5 from the record id property."""

from __future__ import annotations

import uuid
from typing import Any

from .errors import ValidationError

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
    except ValueError:
        raise ValidationError(f"{where}: id {value!r} is not a valid uuid") from None


def derived_id(namespace: str, index: str, key: Any) -> str:
    """uuid5 of ``<namespace>/<index>/<key>``: re-sending a document gives the same uuid."""
    return str(uuid.uuid5(EIGENLAKE_NAMESPACE, f"{namespace}/{index}/{key}"))


def new_id() -> str:
    return str(uuid.uuid4())
