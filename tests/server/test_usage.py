"""Usage accounting: search units by the one documented formula (hand-worked values), the
records each call scans (the oracle: the filter's matches counted in Python), the server's
per-key totals, scoping, quotas (429) and totals kept across a restart."""

from __future__ import annotations

import json

import numpy as np
import pytest

import eigenlake
from eigenlake import QuotaExceededError
from eigenlake.api.usage import search_units
from eigenlake.server.process import ServerProcess

DIM = 16


def test_units_by_hand():
    assert search_units("nearest", 100_000, 384) == 38.4
    assert search_units("cluster", 8_000, 320) == 10.24  # 8,000 × 320 × 4 / 10^6
    assert search_units("outliers", 1_000, 100) == 0.4
    assert search_units("nearest", 0, 384) == 0.001  # the minimum a call
    assert search_units("filter", 10_000, 100) == 1.0


def _records(n: int) -> list[dict]:
    rng = np.random.default_rng(0)
    return [{"properties": {"g": i % 4}, "vector": rng.standard_normal(DIM)} for i in range(n)]


def test_answers_carry_usage_of_what_they_scanned(tmp_path):
    with eigenlake.connect(path=str(tmp_path)) as c:
        idx = c.indexes.create_or_get(namespace="n", index="i", dimensions=DIM)
        idx.records.add_many(_records(200))
        q = np.ones(DIM, np.float32)
        hit = idx.search.nearest(vector=q, limit=3, filter={"g": 1})
        assert hit["usage"]["records_scanned"] == 50  # a quarter of the records match
        assert hit["usage"]["search_units"] == search_units("nearest", 50, DIM)
        assert hit["usage"]["compute_ms"] >= 0
        batch = idx.search.nearest(vector=np.ones((3, DIM), np.float32), limit=2)
        assert [a["usage"]["records_scanned"] for a in batch] == [200, 200, 200]
        cl = idx.search.cluster(num_clusters=2, limit=120)
        assert cl["usage"]["records_scanned"] == 120
        assert cl["usage"]["search_units"] == search_units("cluster", 120, DIM)
        out = idx.search.outliers(filter={"g": {"$in": [0, 1]}}, limit=None, n_neighbors=5)
        assert out["usage"]["records_scanned"] == 100
        top = idx.agent.query("cluster", num_clusters=2, limit=None)
        assert top["usage"]["records_scanned"] == 200


def test_server_totals_scopes_quotas_and_restart(tmp_path):
    keys = tmp_path / "keys.json"
    keys.write_text(
        json.dumps(
            {
                "keys": [
                    {"key": "admin", "admin": True},
                    {"key": "team", "namespaces": ["a"], "daily_search_units": 0.01},
                ]
            }
        )
    )
    store = tmp_path / "store"
    args = ["--keys-file", str(keys)]
    q = np.ones(DIM, np.float32)
    with ServerProcess(store, extra_args=args, log_file=tmp_path / "log") as srv:
        with eigenlake.connect(url=srv.url, api_key="admin") as admin:
            idx = admin.indexes.create_or_get(namespace="a", index="i", dimensions=DIM)
            idx.records.add_many(_records(100))
            one = idx.search.nearest(vector=q, limit=2)
            assert one["usage"]["records_scanned"] == 100
            idx.search.nearest(vector=q, limit=2, filter={"g": 0})
        with eigenlake.connect(url=srv.url, api_key="team") as team:
            tidx = team.indexes.open(namespace="a", index="i")
            # 100 records × 16 / 10^6 = 0.0016 units a query: the 7th passes 0.01
            for _ in range(7):
                tidx.search.nearest(vector=q, limit=1)
            with pytest.raises(QuotaExceededError, match="resets at midnight UTC"):
                tidx.search.nearest(vector=q, limit=1)
            mine = team.usage()
            assert {r["key"] for r in mine["totals"]} == {mine["key"]}
            assert mine["totals"][0]["calls"] == 7
            assert mine["daily_search_units"] == 0.01
        with eigenlake.connect(url=srv.url, api_key="admin") as admin:
            seen = admin.usage()
            assert len({r["key"] for r in seen["totals"]}) == 2
            admin_row = next(r for r in seen["totals"] if r["key"] == seen["key"])
            assert admin_row["calls"] == 2 and admin_row["records_scanned"] == 125
            assert admin_row["search_units"] == pytest.approx(
                search_units("nearest", 100, DIM) + search_units("nearest", 25, DIM)
            )
    with ServerProcess(store, extra_args=args, log_file=tmp_path / "log") as srv:  # restarted
        with eigenlake.connect(url=srv.url, api_key="admin") as admin:
            again = admin.usage()
        assert again["totals"] == seen["totals"]
