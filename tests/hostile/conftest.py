"""A real `eigenlake serve` process for the hostile-input suite, with one small index."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from eigenlake.server.process import ServerProcess

KEY = "hostile-key"
NS, IDX = "hostile", "target"
DIMS = 4
ROWS = 64
BASE = f"/v1/indexes/{NS}/{IDX}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("hostile")
    with ServerProcess(root / "store", api_key=KEY, log_file=root / "server.log") as srv:
        with httpx.Client(base_url=srv.url, headers={"X-API-Key": KEY}, timeout=60) as c:
            r = c.post(
                "/v1/indexes/get-or-create",
                json={"namespace": NS, "index": IDX, "dimensions": DIMS},
            )
            assert r.status_code == 200, r.text
            rng = np.random.default_rng(0)
            objects = [
                {"properties": {"i": i, "tag": f"t{i % 4}"}, "vector": v.tolist()}
                for i, v in enumerate(rng.standard_normal((ROWS, DIMS)))
            ]
            r = c.post(f"{BASE}/records/insert-many", json={"objects": objects})
            assert r.status_code == 200 and not r.json()["failed_objects"], r.text
        yield srv


@pytest.fixture(scope="module")
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers={"X-API-Key": KEY}, timeout=120) as c:
        yield c


def rss_bytes(pid: int) -> int:
    """Resident memory of a process (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")
