"""One small local Ray for the whole test session (2 shared CPUs), shared with the
integration suite's distributed mode when both run."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")


@pytest.fixture(scope="session")
def ray_session() -> Iterator[None]:
    import ray  # a missing Ray is a failure here, not a skip: CI installs it

    if ray.is_initialized():  # started by another suite of this session (integration)
        yield
        return
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=200 * 1024 * 1024,
        logging_level="ERROR",
        log_to_driver=False,
    )
    yield
    ray.shutdown()
