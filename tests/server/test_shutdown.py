"""SIGTERM while clients write: the server exits cleanly and keeps every acknowledged write."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

import eigenlake
from eigenlake.errors import EigenlakeError
from eigenlake.server.process import ServerProcess

pytest.importorskip("eigenlake.embedded.client")


@pytest.mark.timeout(120)
def test_sigterm_loses_no_acknowledged_write(tmp_path: Path) -> None:
    store = tmp_path / "store"
    acked: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    srv = ServerProcess(store, log_file=tmp_path / "server.log").start()

    def writer(seed: int) -> None:
        rng = np.random.default_rng(seed)
        with eigenlake.connect(url=srv.url, retries=0, timeout=10) as client:
            idx = client.indexes.ref(namespace="ns", index="sig")
            while not stop.is_set():
                rid = str(uuid.uuid4())
                try:
                    if seed % 2:
                        idx.records.add(properties={"w": seed}, vector=rng.random(16), id=rid)
                        done = [rid]
                    else:
                        batch = [
                            {"id": str(uuid.uuid4()), "vector": v} for v in rng.random((20, 16))
                        ]
                        done = list(idx.records.add_many(batch))
                except EigenlakeError:
                    return  # connection refused/reset once the server is gone
                with lock:
                    acked.extend(done)

    with eigenlake.connect(url=srv.url) as client:
        client.indexes.create_or_get(namespace="ns", index="sig", dimensions=16)
    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while len(acked) < 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    code = srv.stop()  # SIGTERM
    stop.set()
    for t in threads:
        t.join(30)
    log = (tmp_path / "server.log").read_text()
    assert code == 0 and "stopped cleanly" in log, log
    assert len(acked) >= 200
    with ServerProcess(store) as again, eigenlake.connect(url=again.url) as client:
        idx = client.indexes.open(namespace="ns", index="sig")
        stored = {o["uuid"] for o in idx.search.iterate(page_size=1000)}
    missing = set(acked) - stored
    assert not missing, f"{len(missing)} acknowledged writes lost"
