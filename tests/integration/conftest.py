"""The ``client`` fixture every API test runs against (embedded now; remote is added later)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import eigenlake


@pytest.fixture
def client(tmp_path: Path) -> Iterator[object]:
    with eigenlake.connect(path=str(tmp_path / "store")) as c:
        yield c
