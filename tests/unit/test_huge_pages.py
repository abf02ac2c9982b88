"""The cache's vector matrix on huge-page-advised memory (``embedded/huge_pages.py``)."""

from __future__ import annotations

import mmap
import sys

import numpy as np
import pytest

from eigenlake.embedded.cache import Cache
from eigenlake.embedded.huge_pages import HUGE, MIN_BYTES, rows_matrix


def _vm_flags(address: int) -> list[str]:
    """The VmFlags of the mapping holding ``address`` (Linux)."""
    inside = False
    with open("/proc/self/smaps") as f:
        for line in f:
            head = line.split()[0]
            if "-" in head and not head.endswith(":"):
                lo, hi = (int(v, 16) for v in head.split("-"))
                inside = lo <= address < hi
            elif inside and head == "VmFlags:":
                return line.split()[1:]
    raise AssertionError(f"no mapping holds {address:#x}")


def test_a_large_matrix_starts_on_a_huge_page_and_is_an_ordinary_array():
    rows, dim = MIN_BYTES // (4 * 384) + 7, 384
    m = rows_matrix(rows, dim)
    assert m.shape == (rows, dim) and m.dtype == np.float32
    assert m.flags.c_contiguous and m.flags.writeable
    if hasattr(mmap, "MADV_HUGEPAGE"):
        assert m.ctypes.data % HUGE == 0
    m[:] = 1.5
    m[-1, -1] = 2.0
    assert float(m.sum(dtype=np.float64)) == 1.5 * rows * dim + 0.5


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or not hasattr(mmap, "MADV_HUGEPAGE"),
    reason="madvise(MADV_HUGEPAGE) is Linux's",
)
def test_the_memory_is_advised_for_huge_pages():
    m = rows_matrix(MIN_BYTES // 1536 + 1, 384)
    assert "hg" in _vm_flags(m.ctypes.data)


def test_a_small_matrix_is_a_plain_array():
    m = rows_matrix(10, 4)
    assert m.shape == (10, 4) and m.dtype == np.float32 and m.flags.c_contiguous


def test_cache_growth_onto_advised_memory_keeps_every_row():
    dim = 256
    cache = Cache(dim, False, {})
    rng = np.random.default_rng(3)
    blocks = [rng.standard_normal((n, dim), dtype=np.float32) for n in (1000, 3000, 9000)]
    seq = 0
    for block in blocks:
        uuids = [f"00000000-0000-0000-0000-{i:012d}" for i in range(seq, seq + len(block))]
        cache.append(uuids, list(range(seq, seq + len(block))), block, [{}] * len(block))
        seq += len(block)
    assert cache.matrix().nbytes >= MIN_BYTES  # the last growth went onto advised memory
    np.testing.assert_array_equal(cache.matrix(), np.concatenate(blocks))


def test_a_staged_batch_past_the_rows_survives_a_growth():
    # `Cache.scratch` stages rows past n; a growth before `commit_scratch` must carry them
    dim = 384
    cache = Cache(dim, False, {})
    staged = cache.scratch(3)
    batch = np.arange(3 * dim, dtype=np.float32).reshape(3, dim)
    staged[:] = batch
    cache.reserve(MIN_BYTES // (4 * dim) + 10)  # onto a new, advised matrix
    uuids = [f"00000000-0000-0000-0000-{i:012d}" for i in range(3)]
    cache.commit_scratch([0, 1, 2], uuids, [0, 1, 2], [{}, {}, {}])
    np.testing.assert_array_equal(cache.matrix(), batch)
