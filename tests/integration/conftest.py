"""The ``client`` fixture every API test runs against: embedded, and a real server.

Remote mode starts one `eigenlake serve` subprocess per session (127.0.0.1, a free port,
waited on /v1/health/ready, stopped by SIGTERM to its PID); after each test its indexes
are deleted, so every test starts on an empty store as in embedded mode.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import eigenlake
from eigenlake.server.process import ServerProcess

API_KEY = "integration-key"


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("server")
    with ServerProcess(root / "store", api_key=API_KEY, log_file=root / "server.log") as srv:
        yield srv


@pytest.fixture(params=["embedded", "remote"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    if request.param == "embedded":
        with eigenlake.connect(path=str(tmp_path / "store")) as c:
            yield c
        return
    srv: ServerProcess = request.getfixturevalue("server")
    with eigenlake.connect(url=srv.url, api_key=API_KEY) as c:
        yield c
        for item in c.indexes.list():
            c.indexes.delete(namespace=item["namespace"], index=item["index"])
