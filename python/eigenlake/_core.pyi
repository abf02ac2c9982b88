"""Typed stubs of the compiled module ``eigenlake._core`` (rust/eigenlake-py).

Conventions: a matrix is a 2-D NumPy array of shape (n, d) of any real dtype (float16/32/64,
integers) in any memory order (C, Fortran, strided views); it is read as float32, zero-copy
when it already is C-contiguous float32, else converted once. Other dtypes (bool, complex,
strings, objects), other ranks and non-arrays raise ValueError naming the argument, as do
NaN or infinity (or float64 values beyond the float32 range) in any matrix but a search's
``data``, which is not scanned (it is read again by every query). Masks are 1-D bool arrays of
length n (True = may be returned / used); labels are 1-D integer arrays; row ids are int64.
Integer arguments (k, ef, ...) take any int in 0..=2**64-1; others raise ValueError.
Heavy calls release the GIL and run on the shared rayon pool. A fault inside the core (a
Rust panic) raises ``InternalError`` ("internal error in the compute core: ...").
"""

from typing import Any, Self, final

import numpy as np
import numpy.typing as npt
from typing_extensions import disjoint_base

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
# any real dtype and memory order (see above)
Matrix = npt.NDArray[Any]
Ints = npt.NDArray[Any]
# record ids: (n, 16) uint8, C-contiguous, a uuid's bytes a row
Ids = npt.NDArray[np.uint8]

__all__ = [
    "__version__",
    "build_info",
    "set_num_threads",
    "num_threads",
    "_panic_for_tests",
    "InternalError",
    "flat_topk",
    "flat_topk_rows",
    "kept_topk",
    "kept_page",
    "page_hits",
    "query_row",
    "query_hash",
    "nearest_cursor",
    "parse_uuids",
    "uuid_texts",
    "IdMap",
    "PropTexts",
    "PropView",
    "Hnsw",
    "QuantizedFlat",
    "kmeans",
    "minibatch_kmeans",
    "dbscan",
    "kdist",
    "knee",
    "knn",
    "lof",
    "silhouette",
    "silhouette_samples",
    "centre_distances",
    "principal_plane",
    "member_dicts",
    "id_member_dicts",
    "json_objects",
    "stage_rows",
]

__version__: str

def build_info() -> dict[str, Any]: ...
def set_num_threads(n: int) -> None:
    """Resize the pool (0 = the default); at most 4096 threads."""

def num_threads() -> int: ...

class InternalError(RuntimeError):
    """A fault inside the compute core (a bug, not bad input)."""

def _panic_for_tests(message: str, inline: bool = False) -> None:
    """Test hook: panic inside core work (pool or inline); raises ``InternalError``."""

# ---- search (rust/eigenlake-py/src/search.rs) -------------------------------------------
# metric: "ip" (inner product, larger = nearer; cosine on normalised vectors) or
# "l2" (squared euclidean, smaller = nearer).

def flat_topk(
    data: Matrix, queries: Matrix, k: int, metric: str = "ip", mask: Mask | None = None
) -> tuple[I64, F32]:
    """Exact top-k for each query row: (ids (q, w), scores (q, w)) best first, w = min(k, n).

    k is clamped to the n rows of ``data`` (any k up to 2**64-1 is fine: nothing is sized
    by it). Scores are inner products for "ip", squared distances for "l2". Where fewer
    than w rows pass the mask, the row is padded with id -1 and score -inf ("ip") / +inf
    ("l2"). Equal scores are ordered by smaller id. Bad shapes or dtypes raise ValueError
    naming the argument. A scan the pool would not split (fewer than 4 queries and 8,192
    rows) runs on the calling thread.
    """

def flat_topk_rows(
    data: Matrix, queries: Matrix, k: int, metric: str, rows: I64
) -> tuple[I64, F32]:
    """``flat_topk`` over the rows listed in ``rows`` (1-D int64, strictly increasing,
    each in ``0..len(data)``): the answer a mask keeping exactly those
    rows gives, without a pass over every row. A scan the pool would not split (fewer than
    4 queries and 8,192 rows) runs on the calling thread. A row out of range, or out of
    order, raises ValueError naming ``rows``.
    """

def kept_topk(
    data: Matrix,
    query: Matrix,
    k: int,
    metric: str,
    rows: I64,
    block: Matrix | QuantizedFlat | tuple[QuantizedFlat, Matrix] | None = None,
    pool: bool = True,
) -> tuple[I64, F32]:
    """``flat_topk_rows`` of one query (one row), scanning ``block`` when given (a
    C-contiguous copy of exactly the listed rows, in that order, a ``QuantizedFlat`` of
    them (``search_rows``, re-scored on ``data``), or both (re-scored on the copy); the
    ids are still rows of ``data``). From 8,192 float rows
    (32,768 coded) the scan is split over the pool unless ``pool`` is False, else it runs
    on the calling thread. Bad ``rows`` or a ``block`` of another shape raise ValueError
    naming them."""

def kept_page(
    data: Matrix,
    vector: npt.NDArray[Any],
    limit: int,
    metric: str,
    rows: I64,
    block: Matrix | QuantizedFlat | tuple[QuantizedFlat, Matrix] | None,
    pool: bool,
    uuids: Ids,
    props: PropTexts,
    cosine: bool,
    filter_text: bytes,
) -> tuple[list[dict[str, Any]], str | None] | None:
    """``kept_topk`` for ``limit + 1`` rows of ``vector`` (1-D, a float dtype, made the
    query row as ``query_row`` makes it), then the page of hits over ``uuids`` (the
    id bytes, at least one row per row of ``data``) and ``props`` (at least one row per
    row) as ``Hnsw.first_page`` builds it: (hits, the
    ``nearest_cursor`` after them when more than ``limit`` followed (the query hash over
    ``filter_text``)); None when ``vector`` is not ``dim`` floats that ``query_row`` accepts."""

def query_row(q: npt.NDArray[np.float32], cosine: bool) -> F32 | None:
    """A 1-D float32 query as every search takes it: a (1, d) float32 row, unit length when
    ``cosine`` (square norm summed in float64 over fixed lanes: the same bytes on every
    CPU); None when a value is not finite or, for cosine, all are zero."""

def query_hash(q: npt.NDArray[np.float32], filter_text: bytes) -> str:
    """The 64-bit XXH3 (16 hex digits) of ``q``'s float32 bytes (C order) and
    ``filter_text``: the query fingerprint a ``nearest`` cursor carries."""

def nearest_cursor(offset: int, distance: float, uuid: str, qhash: str) -> str:
    """base64url (unpadded) of the JSON ``{"o": offset, "d": distance, "u": uuid, "h":
    qhash}`` as Python's ``json.dumps`` writes it."""

def page_hits(
    ids: I64,
    scores: F32,
    limit: int,
    uuids: Ids,
    props: PropTexts,
    cosine: bool,
) -> tuple[list[dict[str, Any]], bool]:
    """The first row of a ``flat_topk``/``Hnsw.search`` answer as a page of hits, as
    ``Hnsw.first_page`` builds them: (hits, whether more than ``limit`` followed)."""

def parse_uuids(texts: list[str]) -> Ids:
    """The (k, 16) uint8 bytes of canonical uuid texts (lower-case, hyphenated, as
    ``str(uuid.UUID(...))``); ValueError names the first text that is not one, TypeError
    the first item that is no str."""

def uuid_texts(ids: Ids) -> list[str]:
    """The canonical texts of the rows of a (k, 16) uint8 array (``str(uuid.UUID(bytes=
    row))``)."""

@final
class IdMap:
    """Live record ids to their rows, with no Python object per entry: ``get`` of a text
    that is not a canonical uuid finds nothing (-1). Rows must fit in 0..=2**32-1."""

    def __new__(cls) -> IdMap: ...
    def __len__(self) -> int: ...
    def insert_many(self, ids: Ids, rows: I64) -> None:
        """Map each row of ``ids`` to the row number at the same place of ``rows`` (an id
        already mapped moves, as a dict update)."""
    def get(self, text: object) -> int:
        """The row of the id ``text``, -1 if none."""
    def get_many(self, texts: list[str]) -> I64:
        """``get`` of each text."""
    def remove_many(self, texts: list[str]) -> I64:
        """Unmap each id; the rows they had, -1 where none."""
    def remove_ids(self, ids: Ids) -> I64:
        """``remove_many`` of ids given as bytes ((k, 16) uint8)."""

@disjoint_base
class PropTexts:
    """Every row's properties as JSON text (``json.dumps``'s), all rows in a few large
    buffers and 12 bytes a row: no Python object per row. A dict is made (``json.loads``'s
    value, new each time) only for the rows read. ``set`` appends the new text; the old
    bytes (``garbage``) are reclaimed once they outweigh the live ones."""

    def __new__(cls) -> Self: ...
    def __len__(self) -> int: ...
    @property
    def nbytes(self) -> int:
        """Bytes held: the texts (with garbage) and 12 a row."""
    @property
    def garbage(self) -> int:
        """Bytes of replaced texts not yet reclaimed."""
    def extend(self, texts: list[str]) -> None:
        """Add one row per text."""
    def extend_joined(self, text: str, ends: I64) -> None:
        """Add rows whose texts lie back to back: row ``i`` is ``text[ends[i]:ends[i + 1]]``
        (``ends``: offsets in characters from 0 to ``len(text)``)."""
    def set(self, row: int, text: str) -> None:
        """Replace row ``row``'s text."""
    def dict_of(self, row: int) -> dict[str, Any]:
        """Row ``row``'s properties as a new dict."""
    def dicts(self, rows: list[int] | npt.NDArray[np.integer[Any]]) -> list[dict[str, Any]]:
        """The properties of ``rows`` as new dicts."""
    def texts(self, rows: list[int] | npt.NDArray[np.integer[Any]]) -> list[str]:
        """The JSON texts of ``rows``."""
    def text_bytes(self, row: int) -> bytes:
        """Row ``row``'s JSON text as UTF-8."""
    def values(self, names: list[str], start: int, end: int) -> list[list[Any]]:
        """The values of properties ``names`` in rows ``start..end``, one list per name,
        None where a row lacks it; only those values are made."""
    def view(self, rows: list[int] | npt.NDArray[np.integer[Any]]) -> PropView:
        """The texts of ``rows`` as they are now, kept however the rows change."""
    def repack(self) -> None:
        """Copy the live texts into fresh memory, dropping replaced ones."""

@final
class PropView:
    """Some rows' properties as they were when ``PropTexts.view`` took them; position
    ``i`` is the ``i``-th row asked for. Dicts are made when read, new each time."""

    def __len__(self) -> int: ...
    def dict_of(self, i: int) -> dict[str, Any]: ...
    def dicts(self, at: list[int] | None = None) -> list[dict[str, Any]]: ...
    def pick(self, at: list[int]) -> PropView: ...

@final
class Hnsw:
    """HNSW graph over rows of a matrix the caller owns (only links are stored here).

    ``add(data, start)`` indexes rows ``start..len(data)`` (``start`` must equal ``len(self)``);
    searches take the same matrix again, so the vectors are never copied. Deleted rows
    still route but are never returned. A masked search that lets few rows through is
    answered by an exact scan of those rows. ``save`` writes a checked binary file;
    ``load`` of a damaged file raises RuntimeError. Answers are shaped and padded like
    ``flat_topk``'s, with n = ``len(self)``: k and ef are clamped to the graph. ``add``
    refuses NaN or infinity in the rows it indexes.
    """

    def __new__(
        cls, dim: int, metric: str = "ip", m: int = 16, ef_construction: int = 200, seed: int = 0
    ) -> Hnsw: ...
    def add(self, data: Matrix, start: int) -> None: ...
    def mark_deleted(self, row: int) -> None: ...
    def search(
        self, data: Matrix, queries: Matrix, k: int, ef: int = 64, mask: Mask | None = None
    ) -> tuple[I64, F32]: ...
    def first_page(
        self,
        data: Matrix,
        vector: npt.NDArray[Any],
        limit: int,
        ef: int,
        uuids: Ids,
        props: PropTexts,
        cosine: bool,
    ) -> tuple[list[dict[str, Any]], str | None] | None:
        """One query's first ``limit`` hits (a walk for ``limit + 1``, no mask) as
        ``{"uuid", "metadata", "distance"}`` dicts, nearest first, ties by uuid: uuid from
        ``uuids`` and metadata (a new dict parsed from the row's text) from ``props`` at
        each hit's row, distance ``1 - score`` when ``cosine`` else ``sqrt(max(score, 0))``.
        ``vector`` (1-D, a float dtype) is made the query row as ``query_row`` makes it.
        Returns (hits, the ``nearest_cursor`` after them when more followed (filter text
        ``null``)), or None when ``vector`` is not ``dim`` floats that ``query_row``
        accepts."""
    def save(self, path: str) -> None: ...
    @staticmethod
    def load(path: str) -> Hnsw: ...
    def __len__(self) -> int: ...
    @property
    def dim(self) -> int: ...
    @property
    def quantized_walk(self) -> bool:
        """Queries walk codes of the rows where they pay (default: 8-bit residual codes
        once the float rows reach 2 MiB) or always the float rows; the answer is measured
        and ranked on the float rows either way."""
    @quantized_walk.setter
    def quantized_walk(self, on: bool) -> None: ...

@final
class QuantizedFlat:
    """int8 codes of the rows of a float32 matrix the caller keeps, for an exact search
    that reads a quarter of the bytes (``search`` scans the codes with an integer kernel,
    bounds every row's exact score by a proved error bound, and re-scores on the float rows
    only those the bound cannot rule out).

    ``search(data, queries, k, metric, mask)`` takes the matrix the codes were made of
    (not copied here, as ``Hnsw``) and answers exactly as ``flat_topk`` of one query at a
    time: same ids, bit-equal scores, equal scores by smaller id, same shapes and padding,
    for "ip" and "l2" (zero queries, queries whose products could overflow and masks
    allowing few rows are scanned in f32: same answer, no speed-up). Keep the codes in step with the rows: ``append(rows)`` after rows are added,
    ``set_rows(start, rows)`` after rows change. Rows may hold NaN/inf (never ranked ahead
    of the bound); queries must be finite.
    """

    def __new__(cls, data: Matrix) -> QuantizedFlat: ...
    def append(self, rows: Matrix) -> None: ...
    def set_rows(self, start: int, rows: Matrix) -> None: ...
    def search(
        self, data: Matrix, queries: Matrix, k: int, metric: str = "ip", mask: Mask | None = None
    ) -> tuple[I64, F32]: ...
    def search_rows(
        self,
        data: Matrix,
        rows: I64 | None,
        queries: Matrix,
        k: int,
        metric: str = "ip",
        pool: bool = True,
    ) -> tuple[I64, F32]:
        """``search`` with codes made of rows ``rows`` of ``data`` (int64, strictly
        increasing; code row j is row ``rows[j]``; None: every row): ids are rows of
        ``data``, the answer ``flat_topk`` gives with a mask keeping exactly those rows;
        coded from 257 rows (``search``: 2,049). ``pool`` False scans on the calling
        thread."""
    def __len__(self) -> int: ...
    @property
    def dim(self) -> int: ...
    @property
    def memory_bytes(self) -> int:
        """Bytes of codes plus 20 per row."""
    @property
    def last_candidates(self) -> int:
        """Rows the last ``search`` re-scored on the float rows (summed over its queries)."""
    @staticmethod
    def kernel() -> str:
        """The integer kernels in use: "avx512_vnni+amx" (batches of >= 16 queries through
        AMX tiles; ``EIGENLAKE_AMX=0`` turns it off), "avx512_vnni", "avx2" or "scalar"."""

# ---- analytics (rust/eigenlake-py/src/analytics.rs) -------------------------------------
# metric: "cosine" (distance 1 - cos; inputs are normalised internally) or "euclidean".

def kmeans(
    x: Matrix,
    k: int,
    *,
    max_iter: int = 50,
    tol: float = 1e-4,
    n_init: int = 1,
    seed: int = 0,
    spherical: bool = True,
    init: Matrix | None = None,
) -> tuple[I64, F32, float, int]:
    """(labels (n,), centroids (k, d), inertia, iterations run).

    k-means++ seeding (greedy, on a seeded sample of at most 64·k rows), Lloyd iterations,
    empty clusters reseeded from the farthest points, best of ``n_init`` by inertia.
    ``spherical``: rows and centroids are unit vectors, inertia = sum of ``1 - cos``;
    otherwise inertia = sum of squared euclidean distances. ``tol`` bounds the summed
    squared centroid shift relative to the mean feature variance (scikit-learn's rule).
    ``init`` (k, d) gives the starting centroids (then one run). Labels and inertia belong
    to the returned centroids.
    """

def minibatch_kmeans(
    x: Matrix,
    k: int,
    *,
    batch_size: int = 4096,
    max_iter: int = 100,
    seed: int = 0,
    spherical: bool = True,
) -> tuple[I64, F32, float, int]:
    """Mini-batch k-means (seeded): ``max_iter`` batches of ``batch_size`` rows drawn with
    replacement, per-centroid learning rate 1/count; labels and inertia from a final full
    assignment. Returns as ``kmeans`` (iterations = batches)."""

def dbscan(x: Matrix, eps: float, min_samples: int, metric: str = "cosine") -> tuple[I64, Mask]:
    """(labels (n,), -1 = noise; core-sample mask (n,)). scikit-learn semantics.

    ``eps`` inclusive (distance <= eps), ``min_samples`` counts the point itself; clusters
    numbered in order of their first core point, a border point takes the first cluster
    that reaches it (the same labels as ``sklearn.cluster.DBSCAN``). O(n) extra memory.
    """

def kdist(x: Matrix, k: int, metric: str = "cosine") -> F32:
    """Distance from each row to its k-th nearest neighbour, the row itself counted first."""

def knee(values: npt.NDArray[Any]) -> int:
    """Index of the knee of a sorted curve (largest distance to the chord joining its ends,
    both axes scaled to [0, 1]); 0 for curves shorter than 3 or flat."""

def knn(x: Matrix, k: int, metric: str = "cosine") -> tuple[I64, F32]:
    """k nearest other rows of each row (self excluded): (ids (n, k), distances (n, k))."""

def silhouette(
    x: Matrix, labels: Ints, metric: str = "cosine", sample_size: int | None = None, seed: int = 0
) -> float:
    """Mean silhouette (scikit-learn's ``silhouette_score``), exact.

    Every distinct label is a cluster, -1 included (drop noise before calling); points of
    size-1 clusters score 0; needs 2 <= number of labels <= n - 1 (else ValueError).
    Cosine costs O(n·k·d) (cluster sums of the unit rows), euclidean O(n²·d).
    ``sample_size``: the score of a seeded random subset of that many rows.
    """

def silhouette_samples(x: Matrix, labels: Ints, metric: str = "cosine") -> F32:
    """Silhouette of every row, conventions as ``silhouette``."""

def centre_distances(x: Matrix, labels: Ints, metric: str = "cosine") -> npt.NDArray[np.float64]:
    """Distance (float64) of each row to the mean of the rows sharing its label: ``1 - cos``
    (a zero row or mean counts as norm 1) or euclidean; NaN for negative labels (noise).
    The mean is of the rows as given, not normalised. O(n·d)."""

def principal_plane(
    x: Matrix, rows: Ints, seed: int = 0
) -> tuple[F32, npt.NDArray[np.float64], tuple[float, float], F32]:
    """(mean (d,), the two leading principal axes of ``x[rows]`` as rows (2, d) float64,
    their shares of the total variance, each row's coordinates (m, 2) float32): randomised
    subspace iteration from a seeded 10-vector Gaussian sketch, four power steps, products
    in float32. Each axis' largest loading is positive; axes are zero (and their share 0)
    where the rows span fewer directions. Only ``rows`` are read (NaN or infinity among
    them: ValueError); ``rows`` empty or past ``x``: ValueError."""

def lof(x: Matrix, n_neighbors: int = 20, metric: str = "cosine") -> npt.NDArray[np.float64]:
    """scikit-learn's ``negative_outlier_factor_`` (more negative = more outlying).

    Same as ``LocalOutlierFactor(n_neighbors, metric=metric, algorithm="brute")``:
    k = min(n_neighbors, n - 1) neighbours, self excluded, lrd guard 1e-10.
    """

# ---- members (rust/eigenlake-py/src/members.rs) -------------------------------------------

def member_dicts(
    values: list[Any], rows: Ints, bounds: Ints, key: str = "uuid"
) -> list[list[dict[str, Any]]]:
    """``[[{key: values[r]} for r in rows[bounds[g]:bounds[g + 1]]] for g in
    range(len(bounds) - 1)]``: one list of one-key dicts per group, holding the objects of
    ``values`` themselves. ``bounds`` rising within 0..=len(rows): else ValueError; a row
    outside ``values``: IndexError."""

def id_member_dicts(
    ids: Ids, rows: Ints, bounds: Ints, key: str = "uuid"
) -> list[list[dict[str, str]]]:
    """``member_dicts`` with ``values`` = ``uuid_texts(ids)``, each text made from the
    bytes of its row ((k, 16) uint8) as its dict is: no list of every row's text."""

# ---- rows (rust/eigenlake-py/src/rows.rs) -----------------------------------------------

def json_objects(
    columns: list[tuple[str, str, Any, Mask | None]], rows: int
) -> tuple[str, npt.NDArray[np.uint64]]:
    """The JSON object text of each of ``rows`` rows, back to back in one ASCII string, and
    each one's end offset. ``columns``: ``(name, kind, values, present)``, kind ``"int"`` /
    ``"float"`` / ``"bool"`` (a contiguous 1-D int64 / float64 / bool array), ``"str"`` (a
    list of str, escaped as ``json`` does with ``ensure_ascii``) or ``"json"`` (a list of
    JSON texts written as they are); None allowed where ``present`` is False. A row lacking
    a property (``present`` False) has no key for it. Ragged columns, non-finite floats, a
    None where a row has the property: ValueError; a non-str item: TypeError."""

def stage_rows(src: Matrix, dst: F32, zero_is_bad: bool) -> tuple[I64, I64]:
    """Copy ``src`` into ``dst`` (a writeable C-contiguous float32 array of the same shape)
    in one parallel pass and return the rows that cannot be stored, ascending: (rows with
    NaN or infinity, all-zero rows when ``zero_is_bad``). ``src`` values are not checked
    on the way in (that is what this returns)."""
