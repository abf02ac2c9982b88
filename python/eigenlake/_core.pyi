"""Typed stubs of the compiled module ``eigenlake._core`` (rust/eigenlake-py).

Conventions: every matrix is a C-contiguous float32 NumPy array of shape (n, d);
masks are bool arrays of length n (True = may be returned / used); row ids are int64.
Heavy calls release the GIL and run on the shared rayon pool.
"""

from typing import Any

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]

__version__: str

def build_info() -> dict[str, Any]: ...
def set_num_threads(n: int) -> None: ...
def num_threads() -> int: ...

# ---- search (rust/eigenlake-py/src/search.rs) -------------------------------------------
# metric: "ip" (inner product, larger = nearer; cosine on normalised vectors) or
# "l2" (squared euclidean, smaller = nearer).

def flat_topk(
    data: F32, queries: F32, k: int, metric: str = "ip", mask: Mask | None = None
) -> tuple[I64, F32]:
    """Exact top-k for each query row: (ids (q, k), scores (q, k)) best first.

    Scores are inner products for "ip", squared distances for "l2". Rows where fewer than
    k candidates pass the mask are padded with id -1 and score -inf ("ip") / +inf ("l2").
    Equal scores are ordered by smaller id. Bad shapes, dtypes or a non-contiguous input
    raise ValueError naming the argument.
    """

class Hnsw:
    """HNSW graph over rows of a matrix the caller owns (only links are stored here).

    ``add(data, start)`` indexes rows ``start..len(data)`` (``start`` must equal ``len(self)``);
    searches take the same matrix again, so the vectors are never copied. Deleted rows
    still route but are never returned. A masked search that lets few rows through is
    answered by an exact scan of those rows. ``save`` writes a checked binary file;
    ``load`` of a damaged file raises RuntimeError. Answers are shaped and padded like
    ``flat_topk``'s.
    """

    def __init__(
        self, dim: int, metric: str = "ip", m: int = 16, ef_construction: int = 200, seed: int = 0
    ) -> None: ...
    def add(self, data: F32, start: int) -> None: ...
    def mark_deleted(self, row: int) -> None: ...
    def search(
        self, data: F32, queries: F32, k: int, ef: int = 64, mask: Mask | None = None
    ) -> tuple[I64, F32]: ...
    def save(self, path: str) -> None: ...
    @staticmethod
    def load(path: str) -> Hnsw: ...
    def __len__(self) -> int: ...
    @property
    def dim(self) -> int: ...

# ---- analytics (rust/eigenlake-py/src/analytics.rs) -------------------------------------
# metric: "cosine" (distance 1 - cos; inputs are normalised internally) or "euclidean".

def kmeans(
    x: F32,
    k: int,
    *,
    max_iter: int = 50,
    tol: float = 1e-4,
    n_init: int = 1,
    seed: int = 0,
    spherical: bool = True,
    init: F32 | None = None,
) -> tuple[I64, F32, float, int]:
    """(labels (n,), centroids (k, d), inertia, iterations run)."""

def minibatch_kmeans(
    x: F32,
    k: int,
    *,
    batch_size: int = 4096,
    max_iter: int = 100,
    seed: int = 0,
    spherical: bool = True,
) -> tuple[I64, F32, float, int]: ...
def dbscan(x: F32, eps: float, min_samples: int, metric: str = "cosine") -> tuple[I64, Mask]:
    """(labels (n,), -1 = noise; core-sample mask (n,)). scikit-learn semantics."""

def kdist(x: F32, k: int, metric: str = "cosine") -> F32:
    """Distance from each row to its k-th nearest neighbour, the row itself counted first."""

def knee(values: F32) -> int:
    """Index of the knee of a sorted curve (largest distance to the chord)."""

def knn(x: F32, k: int, metric: str = "cosine") -> tuple[I64, F32]:
    """k nearest other rows of each row (self excluded): (ids (n, k), distances (n, k))."""

def silhouette(
    x: F32, labels: I64, metric: str = "cosine", sample_size: int | None = None, seed: int = 0
) -> float: ...
def silhouette_samples(x: F32, labels: I64, metric: str = "cosine") -> F32: ...
def lof(x: F32, n_neighbors: int = 20, metric: str = "cosine") -> npt.NDArray[np.float64]:
    """scikit-learn's ``negative_outlier_factor_`` (more negative = more outlying)."""
