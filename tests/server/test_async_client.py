"""``eigenlake.connect_async``: the remote surface awaited, against a real server; each
answer equals the sync client's (the oracle), errors are the same classes, and calls run
concurrently on one loop."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

import eigenlake
from eigenlake import NotFoundError, ValidationError
from eigenlake.server.process import ServerProcess

DIM = 8


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("aio")
    with ServerProcess(root / "store", api_key="k", log_file=root / "log") as srv:
        yield srv


def test_async_surface_equals_the_sync_one(server):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, DIM)).astype(np.float32)
    recs = [{"properties": {"n": i, "even": i % 2 == 0}, "vector": x[i]} for i in range(40)]

    async def go():
        async with eigenlake.connect_async(url=server.url, api_key="k") as client:
            assert await client.ready()
            idx = await client.indexes.create_or_get(namespace="ns", index="a", dimensions=DIM)
            uuids = await idx.records.add_many(recs)
            count = await idx.records.count({"even": True})
            # concurrent queries on one loop, each its own request
            hits = await asyncio.gather(
                *(idx.search.nearest(vector=x[i], limit=5, filter={"even": True}) for i in range(6))
            )
            seen = [r["uuid"] async for r in idx.search.iterate(page_size=7)]
            clusters = await idx.search.cluster(num_clusters=3, limit=None)
            listed = await client.indexes.list()
            with pytest.raises(NotFoundError):
                await client.indexes.open(namespace="ns", index="missing")
            with pytest.raises(ValidationError, match="limit"):
                await idx.search.nearest(vector=x[0], limit=0)
            return list(uuids), count, hits, seen, clusters, listed

    uuids, count, hits, seen, clusters, listed = asyncio.run(go())
    assert count == 20 and seen == uuids and {"namespace": "ns", "index": "a"} in listed
    with eigenlake.connect(url=server.url, api_key="k") as sync:
        idx = sync.indexes.open(namespace="ns", index="a")
        for i, got in enumerate(hits):
            want = idx.search.nearest(vector=x[i], limit=5, filter={"even": True})
            assert _same(got, want)
        assert _same(clusters, idx.search.cluster(num_clusters=3, limit=None))


def _same(a: dict, b: dict) -> bool:
    """Equal answers: all but the time each call took (``usage.compute_ms``)."""

    def strip(d: dict) -> dict:
        usage = {k: v for k, v in d["usage"].items() if k != "compute_ms"}
        return {**d, "usage": usage}

    return strip(a) == strip(b)


def test_unknown_methods_are_attribute_errors(server):
    async def go():
        async with eigenlake.connect_async(url=server.url, api_key="k") as client:
            idx = client.indexes.ref(namespace="ns", index="a")
            assert "nearest" in dir(idx.search) and idx.search.nearest.__doc__
            with pytest.raises(AttributeError, match="_nearest"):
                idx.search._nearest  # noqa: B018 - primitives stay private

    asyncio.run(go())
