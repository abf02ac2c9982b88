"""The ``eigenlake serve`` HTTP server: the `/v1` protocol over an embedded store."""

from .app import create_app

__all__ = ["create_app"]
