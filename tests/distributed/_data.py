"""Test data: well-separated blobs and their records."""

from __future__ import annotations

import numpy as np


def blobs(
    n_per: int = 100, k: int = 4, d: int = 16, seed: int = 7
) -> tuple[np.ndarray, np.ndarray]:
    """Well-separated directions: k random unit centres, small gaussian spread."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, d))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    labels = np.repeat(np.arange(k), n_per)
    x = centres[labels] + 0.05 * rng.normal(size=(k * n_per, d))
    order = rng.permutation(len(x))  # interleave so every shard sees every blob
    return x[order].astype(np.float32), labels[order]


def records_of(x: np.ndarray, labels: np.ndarray) -> list[dict]:
    return [
        {"properties": {"document_id": f"doc-{i}", "label": int(lab)}, "vector": v}
        for i, (v, lab) in enumerate(zip(x, labels, strict=True))
    ]
