"""A sharded index offers the embedded surface, keeps the embedded order, and its gathered
analyses give the embedded answers.

The same writes go to a 3-shard index and to one embedded index; every read and analysis
is then compared. Records carry ``document_id``, so both derive the same uuids.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest

import eigenlake
from eigenlake.api import protocols
from eigenlake.distributed import connect_ray
from eigenlake.distributed.client import ShardedClient, ShardedIndexes
from eigenlake.distributed.search import ShardedSearch
from eigenlake.distributed.sharded import (
    ShardedAgent,
    ShardedIndex,
    ShardedManage,
    ShardedRecords,
    ShardedSettings,
)
from eigenlake.embedded.client import EmbeddedClient
from eigenlake.embedded.index import Agent, Index
from eigenlake.embedded.indexes import Indexes
from eigenlake.embedded.manage import Manage
from eigenlake.embedded.records import Records
from eigenlake.embedded.search import Search
from eigenlake.embedded.settings import Settings
from eigenlake.errors import NotFoundError, ValidationError

from ._data import blobs

NS, IDX, DIM = "surface", "docs", 16
WORDS = [
    ["kinase", "phosphate", "signal", "enzyme"],
    ["toxin", "venom", "channel", "peptide"],
    ["ribosome", "translation", "rna", "protein"],
    ["membrane", "transport", "lipid", "pump"],
]
STATUS = ["ok", "failed", "ok", "pending"]


def _records(x: np.ndarray, labels: np.ndarray, start: int = 0) -> list[dict[str, Any]]:
    rng = np.random.default_rng(start)
    out = []
    for i, (v, lab) in enumerate(zip(x, labels, strict=True), start=start):
        words = rng.choice(WORDS[int(lab)], size=3).tolist() + [str(rng.choice(WORDS[i % 4]))]
        out.append(
            {
                "properties": {
                    "document_id": f"doc-{i}",
                    "label": int(lab),
                    "text": " ".join(words),
                    "status": STATUS[i % 4],
                },
                "vector": v,
            }
        )
    return out


def _write(idx: Any, x: np.ndarray, labels: np.ndarray) -> None:
    """The same writes, in the same order, whatever the mode."""
    idx.records.add_many(_records(x[:150], labels[:150]))
    with idx.batch.with_size(batch_size=16) as batch:
        for rec in _records(x[150:200], labels[150:200], start=150):
            batch.add(**rec)
    # in-call duplicates with replace: the later record takes the earlier one's place
    again = _records(x[200:240], labels[200:240], start=200)
    again += [{**_records(x[5:6], labels[5:6], start=5)[0], "vector": x[7]}]
    again += [{**again[3], "vector": x[9]}]
    idx.records.add_many(again, on_duplicate="replace")
    uuids = [o["uuid"] for o in idx.records.list(limit=1000)["objects"]]
    # new vectors move records to the end of the order; properties do not
    idx.records.update(uuids[2], vector=x[2] + 0.01)
    idx.records.update(uuids[40], properties={"status": "failed"})
    idx.records.replace(id=uuids[41], properties={"document_id": "doc-41"}, vector=x[41])
    idx.records.remove(uuids[60])
    idx.records.remove_many(filter={"label": 3}, limit=4)
    idx.records.add(**_records(x[240:241], labels[240:241], start=240)[0])


@pytest.fixture(scope="module")
def pair(ray_session: None, tmp_path_factory: pytest.TempPathFactory) -> Any:
    x, labels = blobs(n_per=70, d=DIM, seed=11)
    root = tmp_path_factory.mktemp("surface")
    with connect_ray(path=str(root / "sharded"), num_shards=3) as client:
        sharded = client.indexes.create_or_get(namespace=NS, index=IDX, dimensions=DIM)
        _write(sharded, x, labels)
        with eigenlake.connect(path=str(root / "embedded")) as emb:
            single = emb.indexes.create_or_get(namespace=NS, index=IDX, dimensions=DIM)
            _write(single, x, labels)
            yield sharded, single


def _plain(answer: Any) -> Any:
    """An answer without what may differ run to run (timings, usage)."""
    if isinstance(answer, dict):
        return {k: _plain(v) for k, v in answer.items() if k not in ("usage", "compute_ms")}
    if isinstance(answer, list):
        return [_plain(v) for v in answer]
    return answer


def test_records_keep_the_embedded_order(pair: Any) -> None:
    sharded, single = pair
    spread = [s["records"] for s in sharded.settings.shards()["shards"]]
    assert min(spread) > 0  # the comparison means something only if every shard holds rows
    got = sharded.records.list(limit=1000, with_vector=True)
    want = single.records.list(limit=1000, with_vector=True)
    assert got["objects"] == want["objects"]
    paged, after = [], None
    while True:
        page = sharded.records.list(limit=17, after=after, filter={"status": "ok"})
        paged += page["objects"]
        after = page["next_after"]
        if after is None:
            break
    assert paged == single.records.list(limit=1000, filter={"status": "ok"})["objects"]
    assert list(sharded.search.iterate(page_size=13)) == list(single.search.iterate(page_size=13))
    want_count = len(single.records.list(limit=1000, filter={"label": 1})["objects"])
    assert sharded.records.count({"label": 1}) == want_count


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"limit": 7, "offset": 3},
        {"limit": 50, "offset": 200, "newest_first": False},
        {"limit": 4, "offset": 0, "with_vector": True, "with_properties": False},
        {"limit": 5, "offset": 10**9},
    ],
)
def test_search_list_pages_like_embedded(pair: Any, kwargs: dict[str, Any]) -> None:
    sharded, single = pair
    assert sharded.search.list(**kwargs) == single.search.list(**kwargs)


def test_snapshot_is_the_embedded_one(pair: Any) -> None:
    sharded, single = pair
    for flt, limit in ((None, None), ({"label": {"$in": [0, 2]}}, 60), (None, 0)):
        a, b = sharded.snapshot(flt, limit), single.snapshot(flt, limit)
        assert a.uuids == b.uuids and a.metadata == b.metadata
        np.testing.assert_array_equal(a.vectors, b.vectors)
        assert a.metric == b.metric and a.schema == b.schema


@pytest.mark.parametrize(
    "kwargs",
    [
        {"algorithm": "dbscan", "dbscan_min_samples": 4, "text_fields": ["text"]},
        {"algorithm": "dbscan", "dbscan_eps": 0.05, "filter": {"status": "ok"}, "limit": 50},
        {"auto_tune": True, "min_clusters": 2, "max_clusters": 6, "limit": None},
        {"auto_tune": True, "distance_metric": "euclidean", "text_fields": ["text"]},
    ],
)
def test_gathered_clusterings_equal_embedded(pair: Any, kwargs: dict[str, Any]) -> None:
    sharded, single = pair
    got = sharded.search.cluster(**kwargs)
    assert _plain(got) == _plain(single.search.cluster(**kwargs))
    assert got["clusters"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_neighbors": 5, "return_all": True},
        {"n_neighbors": 8, "contamination": 0.1, "filter": {"label": {"$ne": 1}}, "limit": 90},
    ],
)
def test_outliers_equal_embedded(pair: Any, kwargs: dict[str, Any]) -> None:
    sharded, single = pair
    assert _plain(sharded.search.outliers(**kwargs)) == _plain(single.search.outliers(**kwargs))


def test_topics_equal_embedded(pair: Any) -> None:
    sharded, single = pair
    for kwargs in ({}, {"num_topics": 3, "filter": {"status": "ok"}, "top_words": 4}):
        got = sharded.search.topics(text_fields=["text"], **kwargs)
        assert _plain(got) == _plain(single.search.topics(text_fields=["text"], **kwargs))


@pytest.mark.parametrize(
    ("query", "kwargs"),
    [
        ("cluster the failed records", {"mode": "cluster", "num_clusters": 3}),
        ("group everything", {"mode": "cluster", "algorithm": "dbscan"}),
        ("show records with status pending", {}),
        ("which records are unusual", {"mode": "outliers", "filter": {"label": 2}}),
        ("what are the topics", {"mode": "topics", "text_fields": ["text"]}),
    ],
)
def test_agent_equals_embedded(pair: Any, query: str, kwargs: dict[str, Any]) -> None:
    sharded, single = pair
    got = sharded.agent.query(query, **kwargs)
    assert _plain(got) == _plain(single.agent.query(query, **kwargs))
    assert isinstance(got["filter"], dict)


def test_kmeans_stays_distributed(pair: Any) -> None:
    sharded, _single = pair
    res = sharded.search.cluster(num_clusters=4, limit=None)
    assert res["parameters"]["shards"] == 3  # the distributed Lloyd loop answered
    assert sum(c["count"] for c in res["clusters"]) == sharded.count()


def test_iterate_skips_records_already_returned(ray_session: None, tmp_path: Any) -> None:
    x, labels = blobs(n_per=5, d=DIM, seed=3)
    with connect_ray(path=str(tmp_path / "it"), num_shards=2) as client:
        idx = client.indexes.create_or_get(namespace=NS, index="iter", dimensions=DIM)
        uuids = idx.records.add_many(_records(x, labels))
        seen = []
        for i, rec in enumerate(idx.search.iterate(page_size=3)):
            seen.append(rec["uuid"])
            if i == 0:  # a new vector moves it past the pages still to come
                idx.records.update(rec["uuid"], vector=x[0] + 1.0)
        assert sorted(seen) == sorted(uuids) and len(seen) == len(set(seen))
        assert idx.records.list(limit=100)["objects"][-1]["uuid"] == seen[0]
        with pytest.raises(ValidationError, match="page_size"):
            idx.search.iterate(page_size=0)  # checked when called, not at the first next()


def test_remove_by_filter_and_limits_like_embedded(pair: Any) -> None:
    sharded, _single = pair
    before = sharded.count()
    for call in (sharded.records.remove_many, sharded.manage.remove_by_filter):
        with pytest.raises(NotFoundError):
            call(filter={"label": 99}, on_missing="error")
        with pytest.raises(NotFoundError):
            call(filter={"label": 0}, limit=0, on_missing="error")
        for bad in (True, -1, 1.5, "3"):
            with pytest.raises(ValidationError, match="limit"):
                call(filter={"label": 0}, limit=bad)
    assert sharded.count() == before
    for bad in (True, 0):
        with pytest.raises(ValidationError, match="limit"):
            sharded.search.cluster(limit=bad)
        with pytest.raises(ValidationError, match="limit"):
            sharded.records.list(limit=bad)
    with pytest.raises(ValidationError, match="limit"):
        sharded.search.outliers(limit=True)
    with pytest.raises(ValidationError, match="limit"):
        sharded.agent.query("show everything", limit=True)


def test_search_get_and_batch_settings(pair: Any) -> None:
    sharded, single = pair
    assert sharded.search.get("00000000-0000-0000-0000-000000000000") is None
    some = single.records.list(limit=1)["objects"][0]["uuid"]
    assert sharded.search.get(some, with_vector=True) == single.search.get(some, with_vector=True)
    with pytest.raises(ValidationError, match="batch_size"):
        sharded.batch.with_size(batch_size=0)
    assert sharded.settings.all()["dims"] == DIM
    assert sharded.settings.schema() == single.settings.schema()


# ---- the surface itself ------------------------------------------------------------------

PAIRS = [
    (Index, ShardedIndex),
    (Records, ShardedRecords),
    (Search, ShardedSearch),
    (Settings, ShardedSettings),
    (Manage, ShardedManage),
    (Agent, ShardedAgent),
    (Indexes, ShardedIndexes),
    (EmbeddedClient, ShardedClient),
]
PROTOCOLS = [
    (protocols.Records, ShardedRecords),
    (protocols.Search, ShardedSearch),
    (protocols.Settings, ShardedSettings),
    (protocols.Manage, ShardedManage),
    (protocols.Agent, ShardedAgent),
    (protocols.Indexes, ShardedIndexes),
]


# The embedded Index's internal API for its facades and the shards (embedded/internal.py):
# public names, not part of the user surface.
INTERNAL = {"reading", "writing", "snapshot", "drop", "dropped"}
# An embedded index's own folder (``eigenlake stats`` sums it); a sharded index has one per
# shard, on the shards' machines.
INTERNAL |= {"directory"}


def _public(cls: type) -> dict[str, Any]:
    return {n: v for n, v in inspect.getmembers(cls) if not n.startswith("_") and n not in INTERNAL}


def _same_parameters(where: str, want: Any, got: Any) -> list[str]:
    problems = []
    try:
        a, b = inspect.signature(want), inspect.signature(got)
    except (TypeError, ValueError):
        return problems
    for p in a.parameters.values():
        if p.kind is p.VAR_KEYWORD:
            continue
        q = b.parameters.get(p.name)
        if q is None:
            problems.append(f"{where}: no parameter {p.name!r}")
        elif (q.kind, q.default) != (p.kind, p.default):
            problems.append(f"{where}({p.name}): {q.kind} {q.default!r} vs {p.kind} {p.default!r}")
    for q in b.parameters.values():  # extras must be optional keywords
        extra = q.name not in a.parameters and q.kind is not q.VAR_KEYWORD
        if extra and (q.kind is not q.KEYWORD_ONLY or q.default is q.empty):
            problems.append(f"{where}: extra required parameter {q.name!r}")
    return problems


@pytest.mark.parametrize(("embedded", "sharded"), PAIRS + PROTOCOLS)
def test_every_public_method_of_the_other_modes_exists(embedded: type, sharded: type) -> None:
    """What the embedded index (and the contract's protocols) offer, the sharded one offers
    with the same parameters, kinds and defaults (extras only as optional keywords)."""
    problems = []
    have = _public(sharded)
    for name, member in _public(embedded).items():
        where = f"{sharded.__name__}.{name}"
        if name not in have:
            problems.append(f"{where} is missing")
        elif callable(member) and not isinstance(member, type):
            problems += _same_parameters(where, member, have[name])
    assert problems == []
