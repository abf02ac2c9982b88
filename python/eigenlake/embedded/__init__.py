"""Embedded mode: SQLite for durability, NumPy columns for speed, Rust for compute."""

from .client import EmbeddedClient

__all__ = ["EmbeddedClient"]
