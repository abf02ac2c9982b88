"""Hypothesis over the public API, embedded and remote: whatever a caller passes, the
answer is a result or an EigenlakeError meant for the caller (never a raw Python error,
never a server fault), a refused write stores nothing, and the index stays readable."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import eigenlake
from eigenlake.api.checks import is_query_batch
from eigenlake.errors import ConflictError, NotFoundError, ValidationError
from eigenlake.server.process import ServerProcess

from .conftest import KEY

DIMS = 4
CALLER_ERRORS = (ValidationError, NotFoundError, ConflictError)

texts = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["\ud800", "a\udfffb", "", "x" * 300, "$and", "\x00"]),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    texts,
)
json_like = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(texts, inner, max_size=3)),
    max_leaves=8,
)


@st.composite
def deep_values(draw: st.DrawFn) -> Any:
    depth = draw(st.sampled_from([50, 200, 3000]))
    node: Any = draw(scalars)
    for _ in range(depth):
        node = [node] if draw(st.booleans()) else {"k": node}
    return node


properties = st.one_of(
    st.dictionaries(texts, st.one_of(json_like, deep_values()), max_size=4),
    st.just(None),
    scalars,
    st.lists(scalars, max_size=2),
)
vectors = st.one_of(
    st.lists(
        st.floats(width=32, allow_nan=False, allow_infinity=False), min_size=DIMS, max_size=DIMS
    ),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=0, max_size=6),
    st.lists(
        st.one_of(st.booleans(), texts, st.integers(min_value=-(2**80), max_value=2**80)),
        min_size=DIMS,
        max_size=DIMS,
    ),
    st.sampled_from(
        [
            np.ones(DIMS, dtype=np.float64),
            np.ones(DIMS, dtype=np.int8),
            np.array([True, False, True, False]),
            np.array(["a", "b", "c", "d"]),
            np.ones((2, DIMS), dtype=np.float32),
            np.ones(DIMS, dtype=np.float32)[::-1],
            "abcd",
            5,
            None,
        ]
    ),
)
limits = st.one_of(
    st.integers(min_value=-3, max_value=30),
    st.sampled_from([10**7, 10**18, 2**63, 2**64, 10**40, True, False, 1.5, "5", None, -(2**64)]),
)
afters = st.one_of(st.none(), st.sampled_from([1.5, -1, "x", "", "0", str(10**30), 10**20]), texts)
filters = st.one_of(
    st.none(),
    st.just({}),
    st.dictionaries(
        st.sampled_from(["i", "tag", "$and", "$or", "$not", "nope"]), json_like, max_size=2
    ),
    json_like,
)

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


@pytest.fixture(scope="module", params=["embedded", "remote"])
def client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    if request.param == "embedded":
        with eigenlake.connect(path=str(tmp_path_factory.mktemp("api") / "store")) as c:
            yield c
        return
    srv: ServerProcess = request.getfixturevalue("server")
    with eigenlake.connect(url=srv.url, api_key=KEY, retries=0, timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def idx(client: Any) -> Any:
    index = client.indexes.create_or_get(
        namespace="hyp", index=f"i{uuid.uuid4().hex[:8]}", dimensions=DIMS
    )
    rng = np.random.default_rng(1)
    for i, v in enumerate(rng.standard_normal((12, DIMS))):
        index.records.add(properties={"i": i, "tag": f"t{i % 3}"}, vector=v)
    return index


def uuids(index: Any) -> set[str]:
    """Every stored uuid, read back through the API: fails if any record poisons reads."""
    page = index.records.list(filter={}, limit=10_000)
    assert page["next_after"] is None
    index.search.nearest(vector=[1.0, 0.0, 0.0, 0.0], limit=50)
    return {o["uuid"] for o in page["objects"]}


def call(fn: Any, *args: Any, **kwargs: Any) -> tuple[bool, Any]:
    try:
        return True, fn(*args, **kwargs)
    except CALLER_ERRORS as exc:
        assert str(exc), f"{type(exc).__name__} without a message"
        return False, exc


def finite_json(value: Any, depth: int = 0) -> bool:
    """Whether a value is what a record may hold: JSON without NaN/inf/lone surrogates."""
    if depth > 32:
        return False
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(
            finite_json(k, depth + 1) and finite_json(v, depth + 1) for k, v in value.items()
        )
    if isinstance(value, list):
        return all(finite_json(v, depth + 1) for v in value)
    return True


@SETTINGS
@given(props=properties, vector=vectors, rid=st.one_of(st.none(), texts, st.integers()))
def test_add_refuses_or_stores_a_readable_record(
    idx: Any, props: Any, vector: Any, rid: Any
) -> None:
    before = uuids(idx)
    ok, out = call(idx.records.add, properties=props, vector=vector, id=rid)
    after = uuids(idx)
    if not ok:
        assert after == before, "a refused add stored something"
        return
    # no properties (None) is an empty record; anything else must be a clean JSON object
    assert props is None or (isinstance(props, dict) and finite_json(props)), (
        f"accepted bad properties {props!r}"
    )
    assert out in after
    got = idx.records.get(out)
    assert got is not None and got["uuid"] == out
    idx.records.remove(out)


@SETTINGS
@given(
    records=st.one_of(
        st.lists(
            st.one_of(
                st.fixed_dictionaries({"properties": properties, "vector": vectors}), scalars
            ),
            max_size=3,
        ),
        scalars,
    )
)
def test_add_many_is_all_or_nothing(idx: Any, records: Any) -> None:
    before = uuids(idx)
    ok, out = call(idx.records.add_many, records)
    after = uuids(idx)
    if not ok:
        assert after == before, "a refused add_many stored something"
        return
    assert set(out) <= after
    for u in out:
        idx.records.remove(u)


@SETTINGS
@given(vector=vectors, limit=limits, filter=filters, after=afters)
@example(vector=np.ones((2, DIMS), np.float32), limit=1, filter=None, after=None)  # a batch
@example(vector=np.ones((2, DIMS), np.float32), limit=1, filter=None, after="")  # no cursor
def test_nearest_answers_or_refuses(
    idx: Any, vector: Any, limit: Any, filter: Any, after: Any
) -> None:
    stored = len(uuids(idx))
    ok, out = call(idx.search.nearest, vector=vector, limit=limit, filter=filter, after=after)
    if ok:
        assert isinstance(limit, int) and not isinstance(limit, bool) and limit >= 1
        # a 2-D vector is a batch of queries (API.md, "Additions"): one answer per row,
        # and a batch takes no cursor ("" is none, as for one query)
        batch = is_query_batch(vector)
        assert isinstance(out, list) == batch and not (batch and after not in (None, ""))
        for answer in out if batch else [out]:
            assert len(answer["results"]) <= min(limit, stored)


@SETTINGS
@given(limit=limits, filter=filters, after=afters)
def test_list_answers_or_refuses(idx: Any, limit: Any, filter: Any, after: Any) -> None:
    stored = len(uuids(idx))
    ok, out = call(idx.records.list, filter=filter, limit=limit, after=after)
    if ok:
        assert isinstance(limit, int) and not isinstance(limit, bool)
        assert len(out["objects"]) <= min(limit, stored)


@SETTINGS
@given(limit=limits, filter=filters)
def test_remove_many_refuses_bad_arguments(idx: Any, limit: Any, filter: Any) -> None:
    before = uuids(idx)
    ok, out = call(idx.records.remove_many, filter=filter, limit=limit)
    after = uuids(idx)
    if not ok:
        assert after == before, "a refused remove_many removed something"
        return
    assert limit is None or (isinstance(limit, int) and not isinstance(limit, bool) and limit >= 0)
    # put back what a valid call removed, so later examples see the same index
    rng = np.random.default_rng(len(after))
    for i in range(len(before) - len(after)):
        idx.records.add(properties={"i": 100 + i, "tag": "t0"}, vector=rng.standard_normal(DIMS))


@SETTINGS
@given(
    num_clusters=st.one_of(st.none(), limits),
    max_clusters=limits,
    limit=limits,
    filter=filters,
    auto_tune=st.one_of(st.booleans(), st.sampled_from([1, "yes", None])),
)
def test_cluster_answers_or_refuses(
    idx: Any, num_clusters: Any, max_clusters: Any, limit: Any, filter: Any, auto_tune: Any
) -> None:
    call(
        idx.search.cluster,
        num_clusters=num_clusters,
        max_clusters=max_clusters,
        limit=limit,
        filter=filter,
        auto_tune=auto_tune,
    )


@SETTINGS
@given(namespace=texts, index=texts, dimensions=limits, schema=st.one_of(st.none(), json_like))
def test_create_refuses_bad_settings(
    client: Any, namespace: Any, index: Any, dimensions: Any, schema: Any
) -> None:
    ok, idx = call(
        client.indexes.create_or_get,
        namespace=namespace,
        index=index,
        dimensions=dimensions,
        schema=schema,
    )
    if ok:
        assert 1 <= len(namespace) <= 128 and 1 <= len(index) <= 128
        assert not namespace.startswith(".") and not index.startswith(".")
        assert all(c.isascii() and (c.isalnum() or c in "_-.") for c in namespace + index)
        assert isinstance(dimensions, int) and 1 <= dimensions <= 65_536
        idx.manage.delete()
