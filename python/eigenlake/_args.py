"""Moved to :mod:`eigenlake.api.checks`; kept while ``distributed/`` still imports it here."""

from .api.checks import *  # noqa: F403
