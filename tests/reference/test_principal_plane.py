"""``_core.principal_plane`` (the 2-D projection of the cluster answers) against NumPy's exact
SVD, and its refusals."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eigenlake import _core
from eigenlake.analysis.cluster import pca2


def stretched(m: int, d: int, seed: int, scales: tuple[float, ...] = (5.0, 3.0)) -> np.ndarray:
    """Rows with clearly leading directions (standard deviations ``scales``, then <= 1),
    rotated at random and shifted off the origin."""
    rng = np.random.default_rng(seed)
    sd = np.concatenate([scales, np.linspace(1.0, 0.2, d - len(scales))])
    z = rng.standard_normal((m, d)) * sd
    rot, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return (z @ rot.T + rng.standard_normal(d)).astype(np.float32)


# the method's sketch width and passes (rust/eigenlake-core/src/cluster/sketch.rs WIDTH,
# plane.rs POWER_STEPS): randomised subspace iteration finds the second axis to about
# (s[WIDTH] / s[1]) ** (2 * POWER_STEPS + 1) of the rows' own singular values
WIDTH, POWER_STEPS = 10, 4


def convergence(x: np.ndarray) -> float:
    """How far the iteration's axes may be from the exact ones on rows ``x``: a few
    rows in many dimensions have a flat tail, and the leading pair is found less sharply
    (seen: 22 rows in 84-d, 2.4e-4)."""
    s = np.linalg.svd(x.astype(np.float64) - x.mean(axis=0), compute_uv=False)
    if len(s) <= WIDTH or s[1] == 0:
        return 0.0  # an exact decomposition below the sketch's width
    return float((s[WIDTH] / s[1]) ** (2 * POWER_STEPS + 1))


def exact(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The oracle: (mean, the two leading axes with the sign rule, their variance shares)."""
    x = x.astype(np.float64)
    xc = x - x.mean(axis=0)
    _, s, vt = np.linalg.svd(xc, full_matrices=False)
    axes = vt[:2] * np.sign(vt[np.arange(2), np.abs(vt[:2]).argmax(axis=1)])[:, None]
    return x.mean(axis=0), axes, s[:2] ** 2 / (xc**2).sum()


@settings(max_examples=25, deadline=None)
@given(
    m=st.integers(20, 700), d=st.integers(13, 90), seed=st.integers(0, 2**16), every=st.booleans()
)
def test_the_plane_is_the_exact_pca(m: int, d: int, seed: int, every: bool) -> None:
    x = stretched(m, d, seed)
    rows = np.arange(m) if every else np.sort(np.random.default_rng(seed).permutation(m)[: m // 2])
    mean, axes, (r1, r2), xy = _core.principal_plane(x, rows, seed)
    want_mean, want_axes, want_ratio = exact(x[rows])
    assert mean.dtype == np.float32 and axes.shape == (2, d) and xy.shape == (len(rows), 2)
    np.testing.assert_allclose(mean, want_mean, atol=1e-5)
    slack = 2 * convergence(x[rows])  # below 1e-9 for all but a few rows in many dims
    np.testing.assert_allclose(axes, want_axes, atol=2e-4 + slack)  # signs included
    np.testing.assert_allclose([r1, r2], want_ratio, rtol=1e-4)
    want_xy = (x[rows].astype(np.float64) - want_mean) @ want_axes.T
    np.testing.assert_allclose(xy, want_xy, atol=(2e-3 + slack) * np.abs(want_xy).max())
    # seeded: the same numbers again
    again = _core.principal_plane(x, rows, seed)
    assert np.array_equal(again[1], axes) and np.array_equal(again[3], xy)


def test_only_the_rows_named_are_read() -> None:
    x = stretched(300, 32, 1)
    x[::2] = np.nan  # rows not asked for
    rows = np.arange(1, 300, 2)
    _mean, axes, _r, _xy = _core.principal_plane(x, rows, 0)
    np.testing.assert_allclose(axes, exact(x[rows])[1], atol=2e-4)
    with pytest.raises(ValueError, match="NaN or infinity"):
        _core.principal_plane(x, np.array([0, 1]), 0)


def test_pca2_gives_the_same_plane() -> None:
    x = stretched(400, 48, 3)
    mean, axes, ratio = pca2(x, 0)
    want_mean, want_axes, want_ratio = exact(x)
    np.testing.assert_allclose(mean, want_mean, atol=1e-5)
    np.testing.assert_allclose(axes, want_axes, atol=2e-4)
    np.testing.assert_allclose(ratio, want_ratio, rtol=1e-4)


def test_rows_in_fewer_directions_leave_axes_zero() -> None:
    same = np.tile(np.linspace(-1, 1, 20, dtype=np.float32), (50, 1))
    mean, axes, ratio, xy = _core.principal_plane(same, np.arange(50), 0)
    np.testing.assert_allclose(mean, same[0], atol=1e-6)
    assert not axes.any() and ratio == (0.0, 0.0) and not xy.any()
    # one direction only: the first axis is it, the second is zero
    t = np.linspace(-3, 3, 40)[:, None]
    line = (t * np.ones(16) / 4).astype(np.float32)
    _m, axes, (r1, r2), _xy = _core.principal_plane(line, np.arange(40), 0)
    np.testing.assert_allclose(axes[0], np.ones(16) / 4, atol=1e-6)
    assert not axes[1].any() and r1 == pytest.approx(1.0) and r2 == 0.0


@pytest.mark.parametrize(
    ("rows", "words"),
    [
        ([], "`rows`.*at least one row"),
        ([0, 30], "row 30 is past the 30 rows of x"),
        ([-1], "`rows` must hold row numbers"),
    ],
)
def test_bad_rows_are_refused(rows: list[int], words: str) -> None:
    x = stretched(30, 16, 0)
    with pytest.raises(ValueError, match=words):
        _core.principal_plane(x, np.array(rows, dtype=np.int64), 0)
