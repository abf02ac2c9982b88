"""Runs inside a separate venv with the PyPI client (eigenlake==0.2.3), against our server.

Usage: python pypi_client_script.py URL API_KEY. Prints "WIRE OK" on success; any failed
check raises, so the process exits non-zero with a traceback.
"""

from __future__ import annotations

import sys
import time
import uuid

import eigenlake
from eigenlake import schema as s
from eigenlake.errors import AuthenticationError, ConflictError, NotFoundError

URL, KEY = sys.argv[1], sys.argv[2]
# The test passes "no-analysis" when this build lacks the analysis/agent modules.
ANALYSES = "no-analysis" not in sys.argv[3:]
DIM = 8
assert eigenlake.__version__ == "0.2.3", eigenlake.__version__


def vec(i: int) -> list[float]:
    v = [0.0] * DIM
    v[i % DIM] = 1.0
    v[(i + 1) % DIM] = 0.5
    return v


def expect(exc: type[Exception], fn, *args, **kwargs) -> None:
    try:
        fn(*args, **kwargs)
    except exc:
        return
    raise AssertionError(f"{fn} did not raise {exc.__name__}")


# 401: no key and a wrong key.
for bad in (None, "wrong-key"):
    with eigenlake.connect(url=URL, api_key=bad, retries=0) as c:
        expect(
            AuthenticationError,
            c.indexes.create_or_get,
            namespace="wire",
            index="x",
            dimensions=DIM,
        )

schema, options = (
    s.SchemaBuilder(additional_properties=False)
    .add("document_id", s.string(filterable=True))
    .add("title", s.string(required=True, filterable=True))
    .add("n", s.integer(filterable=True))
    .add("status", s.string(filterable=True, enum=["ok", "failed"]))
    .build()
)

with eigenlake.connect(url=URL, api_key=KEY) as client:
    assert client.ready()
    expect(NotFoundError, client.indexes.open, namespace="wire", index="missing")
    idx = client.indexes.create_or_get(
        namespace="wire", index="docs", dimensions=DIM, schema=schema, index_options=options
    )
    again = client.indexes.create_or_get(
        namespace="wire", index="docs", dimensions=DIM, schema=schema, index_options=options
    )
    assert again.settings.dimensions() == DIM
    # 409: same index, other dimensions.
    expect(
        ConflictError,
        client.indexes.create_or_get,
        namespace="wire",
        index="docs",
        dimensions=DIM + 1,
    )
    assert "title" in idx.settings.schema().get("properties", {}), idx.settings.schema()

    # insert / get / exists
    uid = idx.records.add(properties={"title": "first", "n": 0, "status": "ok"}, vector=vec(0))
    assert idx.records.exists(uid)
    got = idx.records.get(uid)
    assert got["uuid"] == uid and got["metadata"]["title"] == "first", got
    # 409: duplicate id
    expect(ConflictError, idx.records.add, properties={"title": "dup"}, vector=vec(0), id=uid)

    # insert-many: one bad record (undeclared property) reported, good ones stored.
    records = [
        {
            "properties": {"title": f"t{i}", "n": i, "status": "failed" if i % 3 == 0 else "ok"},
            "vector": vec(i),
        }
        for i in range(1, 31)
    ]
    records.insert(
        5,
        {
            "properties": {"title": "bad", "undeclared": 1},
            "vector": vec(99),
            "id": str(uuid.uuid4()),
        },
    )
    res = idx.records.add_many(records, on_error="continue")
    assert len(res) == 30 and res.number_errors == 1, (len(res), res.failed_records)
    assert res.failed_records[0].error
    assert all(idx.records.exists(u) for u in res[:3])

    # document_id → deterministic uuid: re-sending the same document is a duplicate.
    d1 = idx.records.add(properties={"title": "doc", "document_id": "D-1"}, vector=vec(3))
    d2 = idx.records.add(
        properties={"title": "doc", "document_id": "D-1"}, vector=vec(3), on_duplicate="skip"
    )
    assert d1 == d2, (d1, d2)

    # batch writer (client-made uuid4 ids)
    with idx.batch.with_size(batch_size=4) as batch:
        bids = [
            batch.add(properties={"title": f"b{i}", "n": 100 + i}, vector=vec(i)) for i in range(6)
        ]
    assert batch.number_errors == 0 and all(idx.records.exists(b) for b in bids)

    # update (merge) and replace
    idx.records.update(id=uid, properties={"n": 42})
    got = idx.records.get(uid)["metadata"]
    assert got["n"] == 42 and got["title"] == "first", got
    idx.records.replace(id=uid, properties={"title": "replaced", "n": 7}, vector=vec(5))
    got = idx.records.get(uid)["metadata"]
    assert got.get("title") == "replaced" and got.get("status") is None, got
    expect(NotFoundError, idx.records.update, id=str(uuid.uuid4()), properties={"n": 1})

    # get-by-filter pages
    seen, after = [], None
    while True:
        page = idx.records.list(filter={"n": {"$gte": 1}}, limit=7, after=after)
        seen += [o["uuid"] for o in page["objects"]]
        after = page.get("next_after")
        if not after:
            break
    assert len(seen) == len(set(seen)) == 30 + 6 + 1, len(seen)  # + the replaced one (n=7)

    # near-vector
    hits = idx.search.nearest(vector=vec(2), limit=3, filter={"status": "ok"})["results"]
    assert len(hits) == 3 and all(h["metadata"]["status"] == "ok" for h in hits), hits
    assert hits[0]["distance"] <= hits[-1]["distance"]
    assert idx.search.get(uid, with_vector=True)["vector"]
    listed = list(idx.search.iterate(page_size=10))
    assert len(listed) == len({o["uuid"] for o in listed}) == 1 + 30 + 1 + 6, len(listed)

    # cluster and agent query
    if ANALYSES:
        cl = idx.search.cluster(algorithm="kmeans", num_clusters=3, limit=100)
        assert len(cl["clusters"]) == 3 and sum(c["count"] for c in cl["clusters"]) == 38, cl
        assert cl["parameters"]["num_clusters"] == 3
        ag = idx.agent.query("show failed records", mode="filter")
        assert ag["action"] == "filter" and isinstance(ag["filter"], dict), ag

    # delete one, delete-many (default: background job), delete-by-filter synchronously
    idx.records.remove(uid)
    assert not idx.records.exists(uid)
    expect(NotFoundError, idx.records.remove, uid)
    job = idx.records.remove_many(filter={"status": "failed"})
    assert isinstance(job["job_id"], int), job
    for _ in range(200):
        job = idx.records.remove_job(job["job_id"])
        if job["status"] in ("completed", "failed"):
            break
        time.sleep(0.05)
    assert job["status"] == "completed" and job["deleted"] == 10, job
    sync = idx.records.remove_many(filter={"n": {"$gte": 100}}, background=False)
    assert sync == {"deleted": 6}, sync
    byf = idx.manage.remove_by_filter(filter={"title": "doc"}, background=False)
    assert byf == {"deleted": 1}, byf

    assert idx.manage.delete() == {"deleted": True}
    expect(NotFoundError, client.indexes.open, namespace="wire", index="docs")

print("WIRE OK")
