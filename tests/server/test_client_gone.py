"""A client that leaves stops its analysis: the server polls for the disconnect while the
analysis runs on a worker thread, and the auto-tune loops stop at their next safe point.

k-means is made slow (a sleep per call) in an in-process uvicorn server, so an auto-tune
that ran to the end would take seconds; the client closes its socket once the first k-means
call has started, and the analysis must stop after a few more calls at most."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import uvicorn

from eigenlake import _core
from eigenlake.embedded.client import EmbeddedClient
from eigenlake.server.app import create_app
from eigenlake.server.process import free_port

ROWS = 80
IDX = "/v1/indexes/ns/idx"
# Each case runs at least 33 k-means calls to the end (0.2 s each: > 6 s).
CASES = {
    "cluster": ("search/cluster", {"auto_tune": True, "min_clusters": 2, "max_clusters": 40}),
    # topics: ks 2..12, TUNE_RESTARTS (3) runs each
    "topics": ("search/topics", {"text_fields": ["text"], "auto_tune": True}),
    "agent": (
        "agent/query",
        {"query": "group these", "mode": "cluster", "auto_tune": True, "max_clusters": 40},
    ),
}
FULL_RUN = 33
MOST_AFTER_LEAVING = 8  # calls once the client has left: ~2 expected (0.25 s poll / 0.2 s)


class SlowKmeans:
    """``_core.kmeans`` that sleeps first; counts calls, flags the first."""

    def __init__(self, real: Any, delay: float) -> None:
        self.real, self.delay, self.calls = real, delay, 0
        self.started = threading.Event()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        self.started.set()
        time.sleep(self.delay)
        return self.real(*args, **kwargs)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    client = EmbeddedClient(path=tmp_path / "store")
    idx = client.indexes.create_or_get(namespace="ns", index="idx", dimensions=8)
    rng = np.random.default_rng(0)
    words = ["kinase", "toxin", "lectin", "globin"]
    idx.records.add_many(
        [
            {"properties": {"text": f"{words[i % 4]} protein"}, "vector": v.tolist()}
            for i, v in enumerate(rng.standard_normal((ROWS, 8)))
        ]
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(client), port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        client.close()


def _post_and_leave(url: str, path: str, body: dict[str, Any], started: threading.Event) -> None:
    """Send the request on a raw socket; close it once the analysis has started."""
    port = int(url.rsplit(":", 1)[1])
    payload = json.dumps(body).encode()
    head = (
        f"POST {IDX}/{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head + payload)
        assert started.wait(10), "the analysis never started"
        time.sleep(0.3)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_analysis_stops_when_the_client_leaves(
    server: str, case: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="eigenlake.server")
    slow = SlowKmeans(_core.kmeans, delay=0.2)
    monkeypatch.setattr(_core, "kmeans", slow)
    path, body = CASES[case]

    _post_and_leave(server, path, body, slow.started)
    left_at = slow.calls
    deadline = time.monotonic() + 20  # a full run would end well before this too
    while "analysis stopped" not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "client disconnected; analysis stopped" in caplog.text, (slow.calls, caplog.text)
    assert "internal error" not in caplog.text  # Cancelled is not a 500 (e.g. group-wrapped)
    stopped_at = slow.calls
    assert stopped_at - left_at <= MOST_AFTER_LEAVING and stopped_at < FULL_RUN // 2, stopped_at
    time.sleep(0.5)
    assert slow.calls == stopped_at  # nothing keeps running behind the answer

    # the server stays ready, and the same analysis still completes for a client that waits
    slow.delay = 0.0
    with httpx.Client(base_url=server, timeout=30) as http:
        assert http.get("/v1/health/ready").json() == {"ready": True}
        small = {**body, "max_clusters": 4} if "max_clusters" in body else body
        resp = http.post(f"{IDX}/{path}", json=small)
        assert resp.status_code == 200, resp.text
        assert ("topics" if case == "topics" else "clusters") in resp.json()


@pytest.mark.timeout(60)
def test_a_client_that_stays_gets_its_answer(
    server: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="eigenlake.server")
    slow = SlowKmeans(_core.kmeans, delay=0.05)
    monkeypatch.setattr(_core, "kmeans", slow)
    body = {"auto_tune": True, "min_clusters": 2, "max_clusters": 12}
    with httpx.Client(base_url=server, timeout=30) as http:
        resp = http.post(f"{IDX}/search/cluster", json=body)
    assert resp.status_code == 200, resp.text
    scores = resp.json()["parameters"]["scores"]
    assert [s["num_clusters"] for s in scores] == list(range(2, 13))
    assert slow.calls == 11  # every k ran: polling across several 0.25 s periods stopped nothing
    assert "analysis stopped" not in caplog.text
