"""Agreement of clusters with known labels, in plain NumPy (no scikit-learn at run time)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def contingency(labels_true: Sequence[object], labels_pred: Sequence[int]) -> np.ndarray:
    _, t = np.unique(np.asarray(labels_true, dtype=object).astype(str), return_inverse=True)
    _, p = np.unique(np.asarray(labels_pred), return_inverse=True)
    table = np.zeros((t.max() + 1, p.max() + 1), dtype=np.int64)
    np.add.at(table, (t, p), 1)
    return table


def adjusted_rand_index(labels_true: Sequence[object], labels_pred: Sequence[int]) -> float:
    """Hubert & Arabie's ARI: 1 = same partition, ~0 = chance."""
    table = contingency(labels_true, labels_pred)
    n = table.sum()

    def pairs(x: np.ndarray) -> float:
        return float((x * (x - 1) // 2).sum())

    index = pairs(table)
    rows, cols = pairs(table.sum(axis=1)), pairs(table.sum(axis=0))
    expected = rows * cols / (n * (n - 1) / 2) if n > 1 else 0.0
    top = (rows + cols) / 2 - expected
    return 1.0 if top == 0 else (index - expected) / top


def purity(labels_true: Sequence[object], labels_pred: Sequence[int]) -> float:
    """Share of records whose label is their cluster's majority label."""
    table = contingency(labels_true, labels_pred)
    return float(table.max(axis=0).sum() / table.sum()) if table.size else 0.0
