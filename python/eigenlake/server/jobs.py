"""Background delete jobs (`background: true` on delete-many / delete-by-filter).

Jobs run one at a time on a worker thread; ids are integers as the PyPI client expects.
Shutdown waits for queued jobs so an acknowledged job is not lost mid-way.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .errors import status_for


class Jobs:
    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._jobs: dict[int, dict[str, Any]] = {}
        self._owner: dict[int, tuple[str, str]] = {}

    def submit(self, owner: tuple[str, str], fn: Callable[[], int]) -> dict[str, Any]:
        with self._lock:
            job_id = next(self._ids)
            job: dict[str, Any] = {"job_id": job_id, "status": "queued", "deleted": None}
            self._jobs[job_id] = job
            self._owner[job_id] = owner
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="eigenlake-job")
            self._pool.submit(self._run, job_id, fn)
        return dict(job)

    def _run(self, job_id: int, fn: Callable[[], int]) -> None:
        self._set(job_id, status="running")
        try:
            deleted = fn()
        except Exception as exc:  # reported through the job, not raised
            self._set(job_id, status="failed", error=str(exc), error_status=status_for(exc))
        else:
            self._set(job_id, status="completed", deleted=int(deleted))

    def _set(self, job_id: int, **fields: Any) -> None:
        with self._lock:
            self._jobs[job_id].update(fields)

    def get(self, owner: tuple[str, str], job_id: int) -> dict[str, Any] | None:
        with self._lock:
            if self._owner.get(job_id) != owner:
                return None
            return dict(self._jobs[job_id])

    def drain(self) -> None:
        """Wait for every queued job (a later submit starts a new worker)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
