"""Exception classes shared by embedded and remote mode.

Each class also subclasses the builtin a user would naturally catch, so
``except ValueError`` still catches a :class:`ValidationError`.
"""

from __future__ import annotations

from typing import Any


class EigenlakeError(Exception):
    """Base class of every error EigenLake raises on purpose."""

    status_code: int = 500

    def __init__(self, message: str = "", *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code


class AuthenticationError(EigenlakeError, PermissionError):
    """Missing, unknown or insufficiently scoped API key (HTTP 401/403)."""

    status_code = 401


class NotFoundError(EigenlakeError, LookupError):
    """The index or record does not exist (HTTP 404)."""

    status_code = 404


class ConflictError(EigenlakeError):
    """The request clashes with what is stored: duplicate id, other dimensions (HTTP 409)."""

    status_code = 409


class ValidationError(EigenlakeError, ValueError):
    """Bad input: the message names the record, the field and the problem (HTTP 400/422)."""

    status_code = 422


class APIError(EigenlakeError):
    """The server answered with an error that fits no other class."""


class QuotaExceededError(EigenlakeError):
    """The API key has used its search units for the day (HTTP 429); the message says the
    quota and when it resets."""

    status_code = 429


class NetworkError(EigenlakeError, ConnectionError):
    """The server could not be reached, or the connection broke."""

    status_code = 503


class StorageError(EigenlakeError, OSError):
    """The stored files of an index are damaged (HTTP 500): never read as absence.

    ``filename`` is the damaged file. Nothing is created or repaired over it: restore the
    index directory from a backup, or delete the index (its records are lost).
    """

    status_code = 500

    def __init__(
        self, message: str = "", *, filename: str | None = None, status_code: int | None = None
    ) -> None:
        super().__init__(message, status_code=status_code)
        self.filename = filename

    def __str__(self) -> str:
        return self.message  # OSError would print "[Errno None] None: <filename>"

    def __reduce__(self) -> Any:
        # OSError's pickling drops ``filename`` (a slot) when args hold only the message
        return (type(self), (self.message,), {**self.__dict__, "filename": self.filename})

    @classmethod
    def damaged(cls, path: str, problem: str) -> StorageError:
        """The error for the file ``path`` and what is wrong with it, with what to do."""
        return cls(
            f"damaged index storage: {path}: {problem}; restore the index directory from "
            "a backup, or delete the index to start over (its records are lost)",
            filename=path,
        )


__all__ = [
    "EigenlakeError",
    "AuthenticationError",
    "NotFoundError",
    "ConflictError",
    "ValidationError",
    "APIError",
    "NetworkError",
    "StorageError",
]
