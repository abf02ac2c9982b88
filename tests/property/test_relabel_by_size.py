"""``relabel_by_size`` (cluster ids by size) against the rule written out with ``np.unique``
(how it was computed before it counted instead of sorting)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from eigenlake.analysis.representatives import relabel_by_size


def by_unique(labels: np.ndarray) -> np.ndarray:
    """Largest first, ties to the cluster whose first member comes first; noise stays -1."""
    kept = labels >= 0
    out = np.full_like(labels, -1)
    if not kept.any():
        return out
    ids, first, counts = np.unique(labels[kept], return_index=True, return_counts=True)
    rank = {int(ids[i]): r for r, i in enumerate(np.lexsort((first, -counts)))}
    out[kept] = [rank[int(v)] for v in labels[kept]]
    return out


@settings(max_examples=300, deadline=None)
@given(labels=arrays(np.int64, st.integers(0, 300), elements=st.integers(-1, 40)))
def test_ids_by_size_then_first_member(labels: np.ndarray) -> None:
    got = relabel_by_size(labels)
    assert got.dtype == np.int64 and got.shape == labels.shape
    assert got.tolist() == by_unique(labels).tolist()


def test_a_hand_worked_case() -> None:
    # sizes: 7 -> 3 rows, 2 -> 2 rows (first at 0), 5 -> 2 rows (first at 1); noise stays
    labels = np.array([2, 5, 7, -1, 7, 2, 5, 7])
    assert relabel_by_size(labels).tolist() == [1, 2, 0, -1, 0, 1, 2, 0]
