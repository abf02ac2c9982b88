"""Result types: the embedded ones, so both modes return the same classes."""

from __future__ import annotations

from ..embedded.records import AddManyResult, FailedRecord

__all__ = ["AddManyResult", "FailedRecord"]
