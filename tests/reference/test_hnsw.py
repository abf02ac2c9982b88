"""HNSW (`_core.Hnsw`) against exact search: recall floor, tombstones, masks,
persistence, GIL release, errors."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from eigenlake import _core

DIM = 96


def clustered(n: int, seed: int, clusters: int = 50, noise: float = 0.5) -> np.ndarray:
    """Unit vectors in Gaussian blobs around random centres on the sphere."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, DIM))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    x = centres[rng.integers(0, clusters, n)] + noise / np.sqrt(DIM) * rng.standard_normal((n, DIM))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return np.ascontiguousarray(x, dtype=np.float32)


def recall(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.mean([len(set(g) & set(w)) / len(w) for g, w in zip(got, want, strict=True)]))


@pytest.fixture(scope="module")
def built() -> tuple[np.ndarray, np.ndarray, _core.Hnsw]:
    x = clustered(20_500, seed=0)
    data, queries = x[:20_000], x[20_000:]
    h = _core.Hnsw(DIM, "ip", m=16, ef_construction=200, seed=0)
    h.add(data, 0)
    return data, queries, h


def test_recall_at_10_defaults(built) -> None:
    data, queries, h = built
    assert len(h) == 20_000 and h.dim == DIM
    exact, _ = _core.flat_topk(data, queries, 10, "ip")
    ids, scores = h.search(data, queries, 10, ef=64)
    r = recall(ids, exact)
    assert r >= 0.95, f"recall@10 {r:.4f} below the 0.95 floor"
    # Scores are the true inner products of the returned rows, best first.
    np.testing.assert_allclose(scores, np.einsum("qd,qkd->qk", queries, data[ids]), atol=1e-5)
    assert (np.diff(scores, axis=1) <= 1e-6).all()


def test_l2_metric_recall() -> None:
    x = clustered(5_100, seed=1)
    data, queries = x[:5_000], x[5_000:]
    h = _core.Hnsw(DIM, "l2")
    h.add(data, 0)
    exact, _ = _core.flat_topk(data, queries, 10, "l2")
    ids, scores = h.search(data, queries, 10)
    assert recall(ids, exact) >= 0.95
    d2 = ((queries[:, None, :] - data[ids]) ** 2).sum(-1)
    np.testing.assert_allclose(scores, d2, atol=1e-5)


def test_deleted_never_returned_and_mask_respected(built) -> None:
    data, queries, _ = built
    h = _core.Hnsw(DIM, "ip", seed=0)
    h.add(data[:10_000], 0)
    h.add(data, 10_000)  # incremental
    exact, _ = _core.flat_topk(data, queries, 5, "ip")
    gone = np.unique(exact[:, :3])
    for row in gone:
        h.mark_deleted(int(row))
    ids, _ = h.search(data, queries, 10)
    assert not np.isin(ids, gone).any()
    rng = np.random.default_rng(5)
    # At 20k rows and ef=64 the filtered graph walk answers masks keeping more than
    # ~13.6k rows (EXACT_FALLBACK_SCALE), an exact scan the others.
    for share in (0.9, 0.75, 0.1, 0.01):
        mask = rng.random(len(data)) < share
        ids, _ = h.search(data, queries, 10, mask=mask)
        got = ids[ids >= 0]
        assert mask[got].all(), f"mask {share}: returned a masked-out row"
        assert not np.isin(got, gone).any()
        live = mask.copy()
        live[gone] = False
        want, _ = _core.flat_topk(data, queries, 10, "ip", live)
        assert recall(ids, want) >= 0.9, f"mask {share}"


def test_save_load_identical(built, tmp_path: Path) -> None:
    data, queries, h = built
    path = tmp_path / "g.hnsw"
    h.save(str(path))
    g = _core.Hnsw.load(str(path))
    assert len(g) == len(h) and g.dim == h.dim
    a, b = h.search(data, queries, 10), g.search(data, queries, 10)
    assert (a[0] == b[0]).all() and (a[1] == b[1]).all()
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    bad = tmp_path / "bad.hnsw"
    bad.write_bytes(bytes(raw))
    with pytest.raises(RuntimeError, match="corrupt"):
        _core.Hnsw.load(str(bad))
    bad.write_bytes(b"not an index")
    with pytest.raises(RuntimeError, match="corrupt"):
        _core.Hnsw.load(str(bad))
    with pytest.raises(OSError):
        _core.Hnsw.load(str(tmp_path / "missing.hnsw"))


def test_deterministic_with_one_thread(tmp_path: Path) -> None:
    data = clustered(3_000, seed=2)
    before = _core.num_threads()
    _core.set_num_threads(1)
    try:
        blobs = []
        for i in range(2):
            h = _core.Hnsw(DIM, "ip", seed=7)
            h.add(data, 0)
            h.save(str(tmp_path / f"{i}.hnsw"))
            blobs.append((tmp_path / f"{i}.hnsw").read_bytes())
    finally:
        _core.set_num_threads(before)
    assert blobs[0] == blobs[1]


def test_build_releases_the_gil() -> None:
    data = clustered(15_000, seed=3)
    counter = [0]
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            counter[0] += 1

    t = threading.Thread(target=spin)
    t.start()
    try:
        h = _core.Hnsw(DIM, "ip", ef_construction=200)
        start = counter[0]
        h.add(data, 0)
        progressed = counter[0] - start
    finally:
        stop.set()
        t.join()
    assert progressed > 1000, f"the Python thread made only {progressed} steps during the build"


def test_errors() -> None:
    with pytest.raises(ValueError, match="metric"):
        _core.Hnsw(4, "cos")
    with pytest.raises(ValueError, match="`m`"):
        _core.Hnsw(4, m=1)
    h = _core.Hnsw(4)
    x = np.eye(4, dtype=np.float32)
    with pytest.raises(ValueError, match="`data`"):
        h.add(np.eye(3, dtype=np.float32), 0)
    with pytest.raises(ValueError, match="start"):
        h.add(x, 1)
    h.add(x, 0)
    with pytest.raises(ValueError, match="`queries`"):
        h.search(x, np.eye(3, dtype=np.float32), 1)
    with pytest.raises(ValueError, match="`mask`"):
        h.search(x, x, 1, mask=np.ones(3, bool))
    with pytest.raises(ValueError, match="row"):
        h.mark_deleted(4)
    with pytest.raises(ValueError, match="`data`"):
        h.search(x[:2], x, 1)
    # k past the graph's rows: as wide as the graph (ef too is clamped to it)
    ids, _ = h.search(x, x, 6)
    assert ids.shape == (4, 4)
    ids, _ = h.search(x, x, 2**64 - 1, ef=2**64 - 1)
    assert ids.shape == (4, 4)
    assert sorted(ids[0].tolist()) == [0, 1, 2, 3]
    h.mark_deleted(1)
    ids, _ = h.search(x, x, 10**18)
    assert ids.shape == (4, 4) and (ids[:, 3] == -1).all() and (ids != 1).all()
    for bad in (-1, 2**64):
        with pytest.raises(ValueError, match="`k`"):
            h.search(x, x, bad)
    with pytest.raises(ValueError, match="`ef`"):
        h.search(x, x, 1, ef=0)
