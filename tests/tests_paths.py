"""Paths and loaders the tests share (importable because pytest puts this directory on sys.path)."""

from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
# The real data the tests read, shipped with the repository (see tests/data/README.md).
TEST_DATA = REPO_ROOT / "tests" / "data"


def news_embeddings() -> np.ndarray:
    """MiniLM embeddings of the news texts: stored as float16, back to unit float32 rows."""
    x = np.load(TEST_DATA / "news_minilm384_f16.npy").astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x
