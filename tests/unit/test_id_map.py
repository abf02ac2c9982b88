"""Record ids as raw bytes in the core: ``IdMap`` answers as a dict from uuid text to row
would, and the texts made from the bytes are ``uuid``'s own."""

from __future__ import annotations

import uuid

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eigenlake import _core

# a small pool of ids, so random operations meet the same ids again
POOL = [str(uuid.UUID(int=(i * 0x9E3779B97F4A7C15) << 40 | i)) for i in range(12)]
ops = st.lists(
    st.one_of(
        st.tuples(
            st.just("insert"),
            st.lists(st.tuples(st.sampled_from(POOL), st.integers(0, 2**32 - 1)), max_size=6),
        ),
        st.tuples(st.just("remove"), st.lists(st.sampled_from(POOL), max_size=6)),
        st.tuples(st.just("remove_ids"), st.lists(st.sampled_from(POOL), max_size=6)),
        st.tuples(st.just("get"), st.lists(st.sampled_from(POOL), max_size=6)),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(ops)
def test_id_map_answers_as_a_dict(steps: list[tuple[str, list]]) -> None:
    m = _core.IdMap()
    oracle: dict[str, int] = {}
    for op, items in steps:
        if op == "insert":
            texts = [u for u, _ in items]
            rows = np.array([r for _, r in items], dtype=np.int64)
            m.insert_many(_core.parse_uuids(texts), rows)
            oracle.update(zip(texts, rows.tolist(), strict=True))  # later wins, as in a dict
        elif op in ("remove", "remove_ids"):
            want = []
            for u in items:
                want.append(oracle.pop(u, -1))
            got = m.remove_many(items) if op == "remove" else m.remove_ids(_core.parse_uuids(items))
            assert got.dtype == np.int64 and got.tolist() == want
        else:
            assert m.get_many(items).tolist() == [oracle.get(u, -1) for u in items]
        assert len(m) == len(oracle)
        for u in POOL:
            assert m.get(u) == oracle.get(u, -1)


def test_id_map_finds_no_text_that_is_not_a_canonical_uuid() -> None:
    m = _core.IdMap()
    text = "0123abcd-ef01-4567-89ab-cdef01234567"
    m.insert_many(_core.parse_uuids([text]), np.array([5], dtype=np.int64))
    assert m.get(text) == 5
    for other in (text.upper(), text.replace("-", ""), "{" + text + "}", "", None, 5):
        assert m.get(other) == -1
    assert m.get_many([text.upper(), text]).tolist() == [-1, 5]
    assert m.remove_many([text.upper()]).tolist() == [-1] and len(m) == 1


def test_id_map_refuses_rows_past_u32_and_mismatched_lengths() -> None:
    m = _core.IdMap()
    ids = _core.parse_uuids(POOL[:2])
    with pytest.raises(ValueError, match="rows"):
        m.insert_many(ids, np.array([0, 2**32], dtype=np.int64))
    with pytest.raises(ValueError, match="rows"):
        m.insert_many(ids, np.array([0, -1], dtype=np.int64))
    with pytest.raises(ValueError, match="rows"):
        m.insert_many(ids, np.array([0], dtype=np.int64))
    with pytest.raises(ValueError, match="16 columns"):
        m.insert_many(np.zeros((2, 8), dtype=np.uint8), np.array([0, 1], dtype=np.int64))
    assert len(m) == 0


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(min_size=16, max_size=16), max_size=20))
def test_uuid_texts_are_uuids_own(raw: list[bytes]) -> None:
    ids = np.frombuffer(b"".join(raw), dtype=np.uint8).reshape(len(raw), 16)
    texts = _core.uuid_texts(ids)
    assert texts == [str(uuid.UUID(bytes=b)) for b in raw]
    np.testing.assert_array_equal(_core.parse_uuids(texts), ids)
    # the bytes' order is the texts' order (hits break distance ties by it)
    assert sorted(range(len(raw)), key=lambda i: raw[i]) == sorted(
        range(len(raw)), key=lambda i: (texts[i], raw[i])
    )


def test_parse_uuids_names_the_bad_text() -> None:
    good = str(uuid.UUID(int=0xABC))
    with pytest.raises(ValueError, match=r"texts\[1\].*not a canonical uuid"):
        _core.parse_uuids([good, good.upper()])
    with pytest.raises(ValueError, match=r"texts\[0\]"):
        _core.parse_uuids([good + " "])
    with pytest.raises(TypeError, match=r"texts\[1\]` must be a str"):
        _core.parse_uuids([good, uuid.UUID(good)])
    assert _core.parse_uuids([]).shape == (0, 16)
