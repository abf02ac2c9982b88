"""Fixtures shared by every test directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests_paths import TEST_DATA


@pytest.fixture(scope="session")
def test_data() -> Path:
    """The real data the tests read, shipped with the repository (see tests/data/README.md)."""
    return TEST_DATA
