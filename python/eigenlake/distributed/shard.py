"""One shard: a Ray actor owning an embedded store in ``<root>/shard-<i>``.

The actor is a thin adapter over the embedded ``Index``: every record a shard holds lives
in its own SQLite store, so a shard is exactly as durable as an embedded index. Ray
serialises calls to one actor, so the embedded index sees one caller at a time. It uses
the index's internal API (``embedded/internal.py``: ``reading``/``writing`` spans and
their views, ``snapshot``), never its private state.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import _core
from ..analysis.ctfidf import record_text
from ..analysis.representatives import distances_to
from ..embedded.cache import Cache
from ..embedded.client import EmbeddedClient
from ..embedded.index import Index
from ..embedded.internal import WriteView
from ..embedded.validate import _spec
from ..errors import ConflictError
from .merge import cosine_silhouette_sum, normalise

MARKER = "shard.json"


class ShardActor:
    """Wrapped with ``ray.remote`` by the client; plain methods so it is testable without Ray."""

    def __init__(self, root: str, shard: int, num_shards: int) -> None:
        self.dir = os.path.join(root, f"shard-{shard}")
        self.shard = shard
        self.num_shards = num_shards
        self._client: EmbeddedClient | None = None
        self._jobs: dict[str, _KMeansJob] = {}

    # ---- lifecycle ----------------------------------------------------------------------

    def existing_layout(self) -> int | None:
        """The shard count this directory was created with, None when new (read-only)."""
        try:
            with open(os.path.join(self.dir, MARKER)) as f:
                return int(json.load(f)["num_shards"])
        except FileNotFoundError:
            return None

    def start(self) -> None:
        found = self.existing_layout()
        if found is not None and found != self.num_shards:
            raise ConflictError(f"{self.dir} belongs to a {found}-shard layout")
        os.makedirs(self.dir, exist_ok=True)
        if found is None:
            tmp = os.path.join(self.dir, MARKER + ".tmp")
            with open(tmp, "w") as f:
                json.dump({"shard": self.shard, "num_shards": self.num_shards}, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, os.path.join(self.dir, MARKER))  # atomic: never half a marker
        self._client = EmbeddedClient(self.dir)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _idx(self, ns: str, name: str) -> Index:
        assert self._client is not None, "shard not started"
        return self._client.indexes.ref(namespace=ns, index=name)

    # ---- indexes ------------------------------------------------------------------------

    def create_or_get(self, ns: str, name: str, **kwargs: Any) -> dict[str, Any]:
        assert self._client is not None, "shard not started"
        idx = self._client.indexes.create_or_get(namespace=ns, index=name, **kwargs)
        return self._settings(idx)

    def open(self, ns: str, name: str) -> dict[str, Any]:
        assert self._client is not None, "shard not started"
        return self._settings(self._client.indexes.open(namespace=ns, index=name))

    @staticmethod
    def _settings(idx: Index) -> dict[str, Any]:
        with idx.reading() as view:
            return dict(view.config)

    def delete(self, ns: str, name: str) -> dict[str, Any]:
        return self._idx(ns, name).manage.delete()

    def list_indexes(self) -> list[dict[str, str]]:
        assert self._client is not None, "shard not started"
        return self._client.indexes.list()

    # ---- records ------------------------------------------------------------------------

    def write_state(self, ns: str, name: str) -> dict[str, Any]:
        """What the driver validates a write against: the settings, the schema as this
        shard has it, and this shard's next sequence number."""
        with self._idx(ns, name).reading() as view:
            return {
                "config": dict(view.config),
                "schema": copy.deepcopy(view.schema.source),
                "next_seq": view.next_seq,
            }

    def next_seq(self, ns: str, name: str) -> int:
        with self._idx(ns, name).reading() as view:
            return view.next_seq

    def insert(
        self,
        ns: str,
        name: str,
        batch: dict[str, Any],
        on_duplicate: str,
        on_error: str,
    ) -> tuple[list[str], list[tuple[int, str, str]], list[str]]:
        """Store records the driver validated, at the sequence numbers it chose.

        ``batch`` holds ``uuids``, ``props``, ``vectors`` (float32, one row each),
        ``positions`` (in the caller's call, for messages), ``ranks`` (order in the whole
        call) and ``base``: record ``i`` gets seq ``max(base, next_seq) + ranks[i]``, so
        merging the shards by seq gives the order one embedded index would have stored
        the call in. ``fragments`` are properties an open schema gains from the call;
        those a stored record carries are declared in the same transaction.

        Returns (stored uuids, failures as (position, uuid, message), declared names).
        """
        idx = self._idx(ns, name)
        uuids: list[str] = batch["uuids"]
        props: list[dict[str, Any]] = batch["props"]
        positions: list[int] = batch["positions"]
        ranks: list[int] = batch["ranks"]
        fragments: dict[str, dict[str, Any]] = batch.get("fragments") or {}
        failed: list[tuple[int, str, str]] = []
        with idx.writing() as w:
            with w.transaction() as store:
                cache = w.cache
                keep: list[int] = []
                replaced: list[str] = []
                replaced_rows: list[int] = []
                stored = cache.rows(uuids).tolist()
                for i, uid in enumerate(uuids):
                    if stored[i] >= 0:
                        if on_duplicate == "error":
                            msg = f"record {positions[i]}: id {uid} already exists"
                            if on_error == "raise":
                                raise ConflictError(msg)
                            failed.append((positions[i], uid, msg))
                            continue
                        if on_duplicate == "skip":
                            continue
                        replaced.append(uid)
                        replaced_rows.append(stored[i])
                    keep.append(i)
                if replaced:
                    store.delete_seqs(cache.seq[replaced_rows].tolist())
                start = max(int(batch["base"]), w.next_seq)
                seqs = [start + int(ranks[i]) for i in keep]
                matrix = np.ascontiguousarray(batch["vectors"], dtype=np.float32)
                if keep:
                    store.insert(
                        (s, uuids[i], matrix[i].tobytes(), json.dumps(props[i]))
                        for s, i in zip(seqs, keep, strict=True)
                    )
                    store.set_meta("next_seq", max(seqs) + 1)
                schema = w.schema
                used = sorted(n for n in fragments if any(n in props[i] for i in keep))
                new = {
                    n: _spec(n, fragments[n], n not in schema.non_filterable)
                    for n in used
                    if n not in schema.props
                }
                if new:
                    w.declare(store, new)
            for spec in new.values():
                cache.add_column(spec)
            cache.kill(replaced)
            cache.append([uuids[i] for i in keep], seqs, matrix[keep], [props[i] for i in keep])
        return [uuids[i] for i in keep], failed, used

    def update(self, ns: str, name: str, uid: str, min_seq: int, **kwargs: Any) -> dict[str, Any]:
        idx = self._idx(ns, name)
        with idx.writing() as w:
            return self._with_min_seq(w, min_seq, kwargs, lambda: idx.records.update(uid, **kwargs))

    def replace(self, ns: str, name: str, uid: str, min_seq: int, **kwargs: Any) -> dict[str, Any]:
        idx = self._idx(ns, name)
        with idx.writing() as w:
            return self._with_min_seq(
                w, min_seq, kwargs, lambda: idx.records.replace(id=uid, **kwargs)
            )

    @staticmethod
    def _with_min_seq(
        w: WriteView, min_seq: int, kwargs: dict[str, Any], write: Callable[[], dict[str, Any]]
    ) -> dict[str, Any]:
        """Run ``write`` (in the caller's span) with the store's next seq at least
        ``min_seq`` when it sets a vector: a new vector gives a record a new seq (the
        embedded rule: it moves to the end), and the driver's global next one puts it after
        every other shard's records. A refused write puts the next seq back, so it leaves
        nothing behind."""
        before = w.next_seq
        raised = kwargs.get("vector") is not None and before < min_seq
        if raised:
            with w.transaction() as store:
                store.set_meta("next_seq", int(min_seq))
        try:
            return write()
        except BaseException:
            if raised:  # the span holds the write lock: nothing else took a seq meanwhile
                with w.transaction() as store:
                    store.set_meta("next_seq", int(before))
            raise

    def schema_properties(self, ns: str, name: str) -> dict[str, Any]:
        with self._idx(ns, name).reading() as view:
            return dict(view.schema.source.get("properties", {}))

    def schema(self, ns: str, name: str) -> dict[str, Any]:
        return self._idx(ns, name).settings.schema()

    def declare(self, ns: str, name: str, fragments: dict[str, dict[str, Any]]) -> None:
        """Adopt properties another shard's writes added (schema evolution), so a filter on
        them works on every shard, also on those holding no record with them yet."""
        with self._idx(ns, name).writing() as w:
            with w.transaction() as store:
                schema = w.schema
                new = {
                    n: _spec(n, f, n not in schema.non_filterable)
                    for n, f in fragments.items()
                    if n not in schema.props
                }
                if new:
                    w.declare(store, new)
            for spec in new.values():
                w.cache.add_column(spec)

    def remove_many(self, ns: str, name: str, flt: Any, limit: int | None) -> int:
        idx = self._idx(ns, name)
        if limit == 0:  # the filter is still checked, as embedded checks it
            with idx.reading() as view:
                view.parse_filter(flt)
            return 0
        return int(idx.records.remove_many(filter=flt, limit=limit)["deleted"])

    def existing(self, ns: str, name: str, uuids: list[str]) -> list[str]:
        with self._idx(ns, name).reading() as view:
            rows = view.cache.rows(uuids).tolist()
            return [u for u, r in zip(uuids, rows, strict=True) if r >= 0]

    def get(self, ns: str, name: str, uid: str, **kwargs: Any) -> dict[str, Any] | None:
        return self._idx(ns, name).records.get(uid, **kwargs)

    def exists(self, ns: str, name: str, uid: str) -> bool:
        return self._idx(ns, name).records.exists(uid)

    def remove(self, ns: str, name: str, uid: str) -> dict[str, Any]:
        return self._idx(ns, name).records.remove(uid)

    def count(self, ns: str, name: str, flt: Any) -> int:
        with self._idx(ns, name).reading() as view:
            return int(view.filter_mask(view.parse_filter(flt)).sum())

    def list_page(
        self, ns: str, name: str, flt: Any, limit: int, after_seq: int, **kwargs: Any
    ) -> tuple[list[dict[str, Any]], list[int], bool]:
        """A page after ``after_seq`` with each object's sequence number (the merge key)."""
        idx = self._idx(ns, name)
        with idx.reading() as view:  # one span: the seqs belong to the page just read
            page = idx.records.list(
                filter=flt, limit=limit, after=str(after_seq) if after_seq else None, **kwargs
            )
            objs: list[dict[str, Any]] = page.get("objects") or []
            seqs = _seqs(view.cache, [o["uuid"] for o in objs])
        return objs, seqs, page["next_after"] is not None

    def seq_order(self, ns: str, name: str, count: int, newest_first: bool) -> np.ndarray:
        """Seqs of the first ``count`` live records, oldest (or newest) first: the keys
        ``search.list`` merges to find which records fill a page."""
        with self._idx(ns, name).reading() as view:
            cache = view.cache
            seqs = np.sort(cache.seq[: cache.n][cache.alive_mask()])
            if newest_first:
                seqs = seqs[::-1]
            return np.ascontiguousarray(seqs[:count])

    def records_at(
        self, ns: str, name: str, seqs: list[int], with_vector: bool, with_properties: bool
    ) -> list[tuple[int, dict[str, Any]]]:
        """(seq, record) of the live records at ``seqs`` (a record gone meanwhile is left
        out)."""
        with self._idx(ns, name).reading() as view:
            cache = view.cache
            wanted = np.asarray(seqs, dtype=np.int64)
            rows = np.flatnonzero(np.isin(cache.seq[: cache.n], wanted) & cache.alive_mask())
            row_of = {int(cache.seq[r]): int(r) for r in rows.tolist()}
            found = [(int(s), row_of[int(s)]) for s in seqs if int(s) in row_of]
            recs = view.records_by_rows(
                [r for _s, r in found], with_vector=with_vector, with_properties=with_properties
            )
            by_uuid = {r["uuid"]: r for r in recs}
            uids = cache.uuid_texts([r for _s, r in found])
            return [(s, by_uuid[u]) for (s, _r), u in zip(found, uids, strict=True) if u in by_uuid]

    def snapshot(self, ns: str, name: str, flt: Any, limit: int | None) -> dict[str, Any]:
        """The embedded snapshot of this shard's first ``limit`` matching rows (vectors
        as the analyses see them), with each row's seq so the driver can merge."""
        idx = self._idx(ns, name)
        with idx.reading() as view:  # one span: the seqs belong to the snapshot
            snap = idx.snapshot(flt, limit)
            seqs = _seqs(view.cache, snap.uuids)
        return {
            "uuids": snap.uuids,
            "vectors": snap.vectors,
            "metadata": snap.metadata,
            "seqs": np.asarray(seqs, dtype=np.int64),
            "schema": snap.schema,
        }

    # ---- search -------------------------------------------------------------------------

    def nearest(
        self, ns: str, name: str, vector: Any, limit: int, flt: Any, with_vector: bool
    ) -> tuple[list[dict[str, Any]], int]:
        """(hits, records in scope): the driver sums the scope for ``usage``."""
        # the driver asks each shard for offset + limit + 1 hits, which may pass the public
        # MAX_LIMIT; the unchecked entry point is still bounded by the rows that exist
        found = self._idx(ns, name).search._nearest(vector, limit, flt, None, with_vector)
        return list(found["results"]), int(found["usage"]["records_scanned"])

    # ---- distributed k-means (state per job id, dropped by km_finish) --------------------

    def km_keys(self, ns: str, name: str, flt: Any, limit: int) -> list[int]:
        """Sequence numbers of the first ``limit`` matching rows (for a global ``limit``)."""
        with self._idx(ns, name).reading() as view:
            rows = np.flatnonzero(view.filter_mask(view.parse_filter(flt)))
            seqs = np.sort(view.cache.seq[rows])[:limit]
        return [int(s) for s in seqs]

    def km_open(
        self, job: str, ns: str, name: str, flt: Any, limit: int | None, spherical: bool
    ) -> dict[str, Any]:
        idx = self._idx(ns, name)
        with idx.reading() as view:
            snap = idx.snapshot(flt, limit)
            seqs = _seqs(view.cache, snap.uuids)
        j = _KMeansJob(snap.uuids, snap.metadata, seqs, snap.vectors, spherical)
        self._jobs[job] = j
        # moments for the driver's convergence tolerance (relative to feature variance)
        x64 = j.x.astype(np.float64)
        return {"n": len(seqs), "sum": x64.sum(axis=0), "sumsq": (x64 * x64).sum(axis=0)}

    def km_sample(self, job: str, size: int, seed: int) -> np.ndarray:
        j = self._jobs[job]
        rng = np.random.default_rng([seed, self.shard])
        take = np.sort(rng.choice(len(j.raw), size=min(size, len(j.raw)), replace=False))
        return j.x[take]

    def km_step(self, job: str, centroids: np.ndarray) -> dict[str, Any]:
        return self._jobs[job].step(centroids)

    def km_silhouette(self, job: str, sums: np.ndarray, counts: np.ndarray) -> float:
        """This shard's part of the exact cosine silhouette (``cosine_silhouette_sum``) of
        its rows as the last step labelled them, from the global sums and sizes."""
        j = self._jobs[job]
        return cosine_silhouette_sum(j.x, j.labels, sums, counts)

    def km_finish(
        self, job: str, means: np.ndarray, n_reps: int, metric: str, fields: list[str] | None
    ) -> dict[int, Any]:
        return self._jobs.pop(job).finish(means, n_reps, metric, fields)

    def km_drop(self, job: str) -> None:
        self._jobs.pop(job, None)


class _KMeansJob:
    """One shard's rows of one clustering run, and their current labels."""

    FAR = 8  # farthest rows reported per step, to reseed empty clusters

    def __init__(
        self,
        uuids: list[str],
        metadata: Sequence[dict[str, Any]],
        seqs: list[int],
        vectors: np.ndarray,
        spherical: bool,
    ) -> None:
        self.uuids, self.metadata, self.seqs = uuids, metadata, np.asarray(seqs, np.int64)
        self.raw = np.ascontiguousarray(vectors, dtype=np.float32)
        # spherical k-means works on directions (_core.kmeans normalises the same way)
        self.x = normalise(self.raw) if spherical and len(self.raw) else self.raw
        self.spherical = spherical
        self.labels = np.full(len(self.raw), -1, dtype=np.int64)

    def step(self, centroids: np.ndarray) -> dict[str, Any]:
        k, d = centroids.shape
        if len(self.x) == 0:
            zeros = np.zeros((k, d), dtype=np.float64)
            return _partial(zeros, zeros, np.zeros(k, np.int64), 0, np.zeros(0), self.x)
        metric = "ip" if self.spherical else "l2"
        ids, scores = _core.flat_topk(np.ascontiguousarray(centroids), self.x, 1, metric)
        labels = np.asarray(ids, dtype=np.int64)[:, 0]
        score = np.asarray(scores, dtype=np.float64)[:, 0]
        dist = 1.0 - score if self.spherical else np.sqrt(np.maximum(score, 0.0))
        changed = int((labels != self.labels).sum())
        self.labels = labels
        counts = np.bincount(labels, minlength=k).astype(np.int64)
        order = np.argsort(labels, kind="stable")
        sums = _cluster_sums(self.x, order, counts)
        # the representatives' centre is the mean of the stored (not normalised) vectors
        raw_sums = sums if self.x is self.raw else _cluster_sums(self.raw, order, counts)
        far = np.argpartition(-dist, min(self.FAR, len(dist)) - 1)[: self.FAR]
        return _partial(sums, raw_sums, counts, changed, dist[far], self.x[far])

    def finish(
        self, means: np.ndarray, n_reps: int, metric: str, fields: list[str] | None
    ) -> dict[int, Any]:
        """Per cluster: members (uuid, seq) in seq order and the ``n_reps`` nearest to the
        cluster mean with their distances (the driver keeps the global nearest)."""
        out: dict[int, Any] = {}
        for c in np.unique(self.labels[self.labels >= 0]).tolist():
            rows = np.flatnonzero(self.labels == c)  # already in seq order
            d = distances_to(self.raw[rows].astype(np.float64), means[c], metric)
            near = np.argsort(d, kind="stable")[:n_reps]
            out[c] = {
                "uuids": [self.uuids[r] for r in rows.tolist()],
                "seqs": self.seqs[rows].tolist(),
                "reps": [
                    {
                        "uuid": self.uuids[rows[i]],
                        "metadata": self.metadata[rows[i]],
                        "distance": float(d[i]),
                        "seq": int(self.seqs[rows[i]]),
                    }
                    for i in near.tolist()
                ],
            }
            if fields:  # c-TF-IDF needs every member's text on the driver
                out[c]["texts"] = [record_text(self.metadata[r], fields) for r in rows.tolist()]
        return out


def _seqs(cache: Cache, uuids: list[str]) -> list[int]:
    """The seqs of live records (by uuid), read inside the span that found them."""
    rows = cache.rows(uuids)
    if not bool((rows >= 0).all()):
        raise KeyError(uuids[int(np.argmax(rows < 0))])  # as the dict did: no live row
    return cache.seq[rows].tolist()


def _cluster_sums(x: np.ndarray, order: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per-cluster row sums in float64 via one sort and ``reduceat`` (``np.add.at`` is an
    order of magnitude slower for this)."""
    sums = np.zeros((len(counts), x.shape[1]), dtype=np.float64)
    live = np.flatnonzero(counts)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])[live]
    sums[live] = np.add.reduceat(x[order].astype(np.float64), starts, axis=0)
    return sums


def _partial(
    sums: np.ndarray,
    raw_sums: np.ndarray,
    counts: np.ndarray,
    changed: int,
    far_dist: np.ndarray,
    far_vec: np.ndarray,
) -> dict[str, Any]:
    return {
        "sums": sums,
        "raw_sums": raw_sums,
        "counts": counts,
        "changed": changed,
        "far_dist": far_dist.tolist(),
        "far_vec": far_vec,
    }


__all__ = ["ShardActor"]
