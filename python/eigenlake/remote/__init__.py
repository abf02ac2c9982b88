"""Remote client of an `eigenlake serve` server, with the embedded client's surface."""

from .client import RemoteClient

__all__ = ["RemoteClient"]
