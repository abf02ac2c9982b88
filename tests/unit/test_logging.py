"""``logging.getLogger("eigenlake")``: silent unless the application configures logging;
says what was built, cut by a limit, retried."""

from __future__ import annotations

import logging
import subprocess
import sys

import httpx
import numpy as np

import eigenlake
from eigenlake.remote.http import Transport


def test_silent_by_default():
    """No handler configured: a warning of the library reaches no stream (no lastResort)."""
    code = (
        "import logging, eigenlake\n"
        "logging.getLogger('eigenlake').warning('should not be seen')\n"
        "print('done')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "done" and out.stderr == ""


def test_graph_build_is_logged(tmp_path, caplog):
    rng = np.random.default_rng(0)
    with eigenlake.connect(path=str(tmp_path)) as c:
        idx = c.indexes.create_or_get(
            namespace="n", index="i", dimensions=8, index_options={"exact_threshold": 100}
        )
        idx.records.add_many(
            [{"properties": {}, "vector": v} for v in rng.standard_normal((400, 8))]
        )
        with caplog.at_level(logging.INFO, logger="eigenlake"):
            assert idx.search.prepare()["method"] == "hnsw"
    assert any(
        "hnsw graph" in r.getMessage() and "indexed" in r.getMessage() for r in caplog.records
    )


def test_retries_are_logged(caplog):
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            return httpx.Response(503, json={"detail": "busy"})
        return httpx.Response(200, json={"ready": True})

    t = Transport("http://x", transport=httpx.MockTransport(handler), backoff=0.0)
    with caplog.at_level(logging.INFO, logger="eigenlake"):
        assert t.get("/v1/health/ready") == {"ready": True}
    assert len(calls) == 2
    assert any("attempt 1 failed; retrying" in r.getMessage() for r in caplog.records)
