"""The server's usage ledger: search units per API key and index, and per key and UTC day
for the quotas (``daily_search_units`` in the keys file). What a unit is: ``api/usage.py``.

Totals live in memory and are saved to ``<store>/.usage.json`` (a name no namespace can
have) at most every ``SAVE_EVERY`` seconds and at shutdown, written to a temporary file and
renamed into place, so a crash loses at most the last seconds of accounting, never the file.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
import time
from typing import Any

from ..errors import QuotaExceededError
from .auth import KeyEntry

log = logging.getLogger("eigenlake.server")

FILE = ".usage.json"
SAVE_EVERY = 10.0
ANONYMOUS = "anonymous"  # a server without keys
_FIELDS = ("calls", "records_scanned", "compute_ms", "search_units")


def _today() -> str:
    return dt.datetime.now(dt.timezone.utc).date().isoformat()


class Ledger:
    def __init__(self, root: str | None = None) -> None:
        self._path = os.path.join(root, FILE) if root else None
        self._lock = threading.Lock()
        # (key id, namespace, index) -> totals; (key id, day) -> units that day
        self._totals: dict[tuple[str, str, str], dict[str, float]] = {}
        self._days: dict[tuple[str, str], float] = {}
        self._saved = time.monotonic()
        self._dirty = False
        self._load()

    # ---- quotas and recording ------------------------------------------------------------

    def check_quota(self, entry: KeyEntry | None) -> None:
        """429 when the key has used its units for today (checked before the work runs; a
        call that starts under the quota completes, so a day may end a little over it)."""
        if entry is None or entry.daily_search_units is None:
            return
        day = _today()
        with self._lock:
            used = self._days.get((entry.key_id, day), 0.0)
        if used >= entry.daily_search_units:
            raise QuotaExceededError(
                f"API key {entry.key_id}… has used {used:g} of its {entry.daily_search_units:g}"
                f" search units for {day} (UTC); the quota resets at midnight UTC"
            )

    def record(self, entry: KeyEntry | None, namespace: str, index: str, answer: Any) -> None:
        """Add the ``usage`` of an answer (or of each answer of a batch)."""
        answers = answer if isinstance(answer, list) else [answer]
        key = ANONYMOUS if entry is None else entry.key_id
        day = _today()
        with self._lock:
            for a in answers:
                usage = a.get("usage") if isinstance(a, dict) else None
                if not isinstance(usage, dict):
                    continue
                row = self._totals.setdefault((key, namespace, index), dict.fromkeys(_FIELDS, 0))
                row["calls"] += 1
                for name in _FIELDS[1:]:
                    row[name] += float(usage.get(name) or 0)
                units = float(usage.get("search_units") or 0)
                self._days[(key, day)] = self._days.get((key, day), 0.0) + units
                self._dirty = True
            due = self._dirty and time.monotonic() - self._saved > SAVE_EVERY
        if due:
            self.save()

    # ---- reading -------------------------------------------------------------------------

    def report(self, entry: KeyEntry | None) -> dict[str, Any]:
        """``GET /v1/usage``: every key's rows for an admin key (or a server without keys),
        the key's own otherwise."""
        everyone = entry is None or entry.admin
        mine = None if entry is None else entry.key_id
        day = _today()
        with self._lock:
            rows = [
                {"key": k, "namespace": ns, "index": idx, **_rounded(t)}
                for (k, ns, idx), t in sorted(self._totals.items())
                if everyone or k == mine
            ]
            today = {
                k: round(units, 6)
                for (k, d), units in sorted(self._days.items())
                if d == day and (everyone or k == mine)
            }
        out: dict[str, Any] = {"day": day, "totals": rows, "today": today}
        if entry is not None:
            out["key"] = entry.key_id
            out["daily_search_units"] = entry.daily_search_units
        return out

    # ---- persistence ---------------------------------------------------------------------

    def _load(self) -> None:
        if self._path is None or not os.path.exists(self._path):
            return
        try:
            with open(self._path, encoding="utf-8") as f:
                doc = json.load(f)
            for row in doc.get("totals", []):
                key = (str(row["key"]), str(row["namespace"]), str(row["index"]))
                self._totals[key] = {name: float(row.get(name) or 0) for name in _FIELDS}
            for row in doc.get("days", []):
                self._days[(str(row["key"]), str(row["day"]))] = float(row["search_units"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            # accounting must not keep the server from starting: say so, start from zero
            log.warning("usage totals in %s unreadable (%s); starting from zero", self._path, e)
            self._totals.clear()
            self._days.clear()

    def save(self) -> None:
        if self._path is None:
            return
        with self._lock:
            doc = {
                "totals": [
                    {"key": k, "namespace": ns, "index": idx, **t}
                    for (k, ns, idx), t in sorted(self._totals.items())
                ],
                "days": [
                    {"key": k, "day": d, "search_units": u}
                    for (k, d), u in sorted(self._days.items())
                ],
            }
            self._saved = time.monotonic()
            self._dirty = False
        tmp = f"{self._path}.{os.getpid()}.tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(doc, f)
            os.replace(tmp, self._path)
        except OSError as e:
            log.warning("could not save usage totals to %s: %s", self._path, e)


def _rounded(totals: dict[str, float]) -> dict[str, Any]:
    return {
        "calls": int(totals["calls"]),
        "records_scanned": int(totals["records_scanned"]),
        "compute_ms": round(totals["compute_ms"], 3),
        "search_units": round(totals["search_units"], 6),
    }
