"""``_core.stage_rows`` (a bulk write's vectors copied into place and checked) against NumPy:
the same bytes, and the rows ``vectors.bad_rows`` refuses."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from eigenlake import _core
from eigenlake.vectors import NOT_FINITE, ZERO_ROW, bad_rows

VALUES = st.sampled_from([0.0, -0.0, 1.5, -2.0, 1e-45, 3e38, np.nan, np.inf, -np.inf])


@settings(max_examples=200, deadline=None)
@given(
    src=st.integers(0, 3000).flatmap(
        lambda n: (
            arrays(np.float32, (n, 3), elements=VALUES)
            | arrays(np.float32, (min(n, 40), 5), elements=st.floats(width=32))
        )
    ),
    cosine=st.booleans(),
    as_f64=st.booleans(),
)
def test_copies_bytes_and_finds_the_rows_bad_rows_finds(src, cosine, as_f64):
    dst = np.full(src.shape, 7.0, dtype=np.float32)
    given_src = src.astype(np.float64) if as_f64 else src  # converted once on the way
    not_finite, zero = _core.stage_rows(given_src, dst, cosine)
    assert dst.tobytes() == src.tobytes()
    want = bad_rows(src, cosine)
    assert not_finite.tolist() == sorted(i for i, p in want.items() if p == NOT_FINITE)
    assert zero.tolist() == sorted(i for i, p in want.items() if p == ZERO_ROW)


def test_shape_and_layout_are_checked():
    src = np.ones((4, 3), dtype=np.float32)
    with pytest.raises(ValueError, match="shape"):
        _core.stage_rows(src, np.empty((4, 2), dtype=np.float32), True)
    with pytest.raises(ValueError, match="C-contiguous"):
        _core.stage_rows(src, np.empty((3, 4), dtype=np.float32).T, True)
    with pytest.raises((TypeError, ValueError)):
        _core.stage_rows(src, np.empty((4, 3), dtype=np.float64), True)
