"""The ``client`` fixture every API test runs against: embedded, a real server, and a
sharded index on a local Ray.

Remote mode starts one `eigenlake serve` subprocess per session (127.0.0.1, a free port,
waited on /v1/health/ready, stopped by SIGTERM to its PID). Distributed mode starts one
small local Ray and one 2-shard client per session (shards are actors: starting them per
test would dominate the run). In both, each test's indexes are deleted after it, so every
test starts on an empty store as in embedded mode.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import eigenlake
from eigenlake.server.process import ServerProcess

API_KEY = "integration-key"
MODES = ["embedded", "remote", "distributed"]

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("server")
    with ServerProcess(root / "store", api_key=API_KEY, log_file=root / "server.log") as srv:
        yield srv


@pytest.fixture(scope="session")
def sharded_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One local Ray (joined if this session already runs one) and a 2-shard client."""
    import ray  # a missing Ray is a failure here, not a skip: CI installs it

    from eigenlake.distributed import connect_ray

    owns_ray = not ray.is_initialized()
    if owns_ray:
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            object_store_memory=200 * 1024 * 1024,
            logging_level="ERROR",
            log_to_driver=False,
        )
    try:
        with connect_ray(path=str(tmp_path_factory.mktemp("sharded")), num_shards=2) as c:
            yield c
    finally:
        if owns_ray:
            ray.shutdown()


def _drop_all(c: Any) -> None:
    for item in c.indexes.list():
        c.indexes.delete(namespace=item["namespace"], index=item["index"])


@pytest.fixture(params=MODES)
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    if request.param == "embedded":
        with eigenlake.connect(path=str(tmp_path / "store")) as c:
            yield c
        return
    if request.param == "distributed":
        sharded = request.getfixturevalue("sharded_client")
        _drop_all(sharded)  # a test that failed half-way may have left one behind
        yield sharded
        _drop_all(sharded)
        return
    srv: ServerProcess = request.getfixturevalue("server")
    with eigenlake.connect(url=srv.url, api_key=API_KEY) as c:
        yield c
        _drop_all(c)
