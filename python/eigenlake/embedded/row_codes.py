"""int8 codes of a cache's rows for its exact scans (``_core.QuantizedFlat``).

An exact scan of float rows is bound by the bytes it reads; the codes are a quarter of
them. ``QuantizedFlat.search`` scans the codes, bounds every row's exact score with a
proved error bound and re-scores on the float rows only the rows the bound cannot rule
out, so its answer is ``flat_topk``'s, ids and scores alike. One query over 2,500 to
100,000 rows of 384-d took 2.5 to 10 times less than the float scan (this machine,
``benches/results/quantized.md``).

The codes cost ``dim + 20`` bytes a row (a quarter more than the float rows), made on the
first exact scan of at least ``MIN_ROWS`` rows; ``index_options["quantized_scan"] =
False`` keeps an index on float scans. The cache's rows below ``n`` never change (an
update appends a row and tombstones the old one; growth copies them), so the codes only
catch up with rows added since, under the index lock every search holds. A graph that
comes to cover every row releases them (``AnnState``): from then on it answers instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _core
from ..errors import ValidationError

# below this many rows a float scan reads little enough that codes do not pay
MIN_ROWS = 1_000


def quantized_scan(index_options: dict[str, Any] | None) -> bool:
    """``index_options["quantized_scan"]`` (default True): exact scans read int8 codes
    of the rows (exact answers still; a quarter more memory)."""
    value = (index_options or {}).get("quantized_scan", True)
    if not isinstance(value, bool):
        raise ValidationError(
            f"index_options.quantized_scan: expected true or false, got {value!r}"
        )
    return value


class RowCodes:
    """The codes of one cache's rows, made on demand and caught up with its appends."""

    __slots__ = ("_codes",)

    def __init__(self) -> None:
        self._codes: Any = None  # _core.QuantizedFlat over rows 0..len(codes)

    def covering(self, matrix: np.ndarray, options: dict[str, Any] | None) -> Any:
        """Codes of every row of ``matrix`` (the cache's used rows), or None where a float
        scan is the better one (few rows, or the index turned codes off)."""
        if len(matrix) < MIN_ROWS or not quantized_scan(options):
            return None
        codes = self._codes
        if codes is None:
            self._codes = codes = _core.QuantizedFlat(matrix)
        elif len(codes) < len(matrix):
            codes.append(matrix[len(codes) :])
        return codes

    def release(self) -> None:
        """Drop the codes (a graph now answers the searches that scanned them); a later
        exact scan makes them again. Safe from another thread: a scan running holds its
        own reference."""
        self._codes = None

    @property
    def memory_bytes(self) -> int:
        return 0 if self._codes is None else int(self._codes.memory_bytes)
