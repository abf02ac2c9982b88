"""Usage accounting: what a search or an analysis costs, in search units (defined here once).

Every ``nearest``, ``cluster``, ``outliers``, ``topics`` and agent answer carries
``usage: {"records_scanned", "compute_ms", "search_units"}``:

- ``records_scanned``: the records the call covers after its filter — for ``nearest`` every
  record the filter keeps (whether a graph or a scan answered: the cost of a query does not
  depend on the index's internal state), for an analysis the records analysed (after
  ``limit``). A batch of queries counts each query.
- ``compute_ms``: wall time of the work where it ran (the server's, for a remote call).
- ``search_units``: ``records_scanned × dimensions / 1,000,000 × work``, where ``work`` is 1
  for ``nearest`` and an agent answer that only filters (one read per record in scope) and
  ``ANALYSIS_WORK`` (4) for the analyses (a k-means or a neighbour graph reads each record several times); at least
  ``MIN_UNITS`` (0.001) a call. So a query over 100,000 records of 384 dimensions costs
  38.4 units, clustering 8,000 proteins of 320 dimensions 10.24 units, whatever the machine.

The server adds the units up per API key and index (``GET /v1/usage``) and can cap a key's
units per day (``daily_search_units`` in the keys file; over it: HTTP 429).
"""

from __future__ import annotations

import logging
import time
from typing import Any

log = logging.getLogger("eigenlake")
# A call at least this long is logged (info): what a user may want to see in a long job.
SLOW_MS = 5_000.0

VALUES_PER_UNIT = 1_000_000
ANALYSIS_WORK = 4
MIN_UNITS = 0.001
WORK = {
    "nearest": 1,
    "filter": 1,  # an agent answer that lists the matching records
    "cluster": ANALYSIS_WORK,
    "outliers": ANALYSIS_WORK,
    "topics": ANALYSIS_WORK,
}


def search_units(kind: str, records_scanned: int, dimensions: int) -> float:
    """The units of a call (see the module docstring)."""
    values = records_scanned * dimensions * WORK.get(kind, ANALYSIS_WORK)
    if type(values) is int:
        # an int over 10**6 is already the float nearest its 6-decimal value: what
        # round(..., 6) would give, without its decimal conversion (~0.25 us a call)
        return max(values / VALUES_PER_UNIT, MIN_UNITS)
    return round(max(values / VALUES_PER_UNIT, MIN_UNITS), 6)


def scanned(records: int, dimensions: int) -> dict[str, int]:
    """What the process doing the work puts in its answer (``usage``); ``complete`` turns
    it into the reported usage once the call's time is known."""
    return {"records_scanned": int(records), "dimensions": int(dimensions)}


def complete(answer: Any, kind: str, started: float, share: float = 1.0) -> Any:
    """Finish ``answer["usage"]`` begun by ``scanned`` with the call's ``compute_ms``
    (``share`` of the time since ``started``, for one answer of a batch) and its units.
    An answer whose usage is complete already (a server's) or absent is left as it is."""
    usage = answer.get("usage") if isinstance(answer, dict) else None
    if not isinstance(usage, dict) or "search_units" in usage:
        return answer
    records = int(usage.get("records_scanned", 0))
    dims = int(usage.pop("dimensions", 0))
    usage.update(finished(kind, records, dims, started, share))
    return answer


def finished(
    kind: str, records: int, dimensions: int, started: float, share: float = 1.0
) -> dict[str, Any]:
    """The complete usage of a call over ``records`` rows of ``dimensions`` that began at
    ``started`` (``time.perf_counter``): what ``complete`` makes of ``scanned``'s."""
    ms = (time.perf_counter() - started) * 1000.0 * share
    if ms >= SLOW_MS:
        log.info("%s over %d records took %.1f s", kind, records, ms / 1000.0)
    return {
        "records_scanned": records,
        # round(ms, 3) without its decimal conversion: the float nearest a whole µs count
        "compute_ms": round(ms * 1000.0) / 1000.0,
        "search_units": search_units(kind, records, dimensions),
    }
