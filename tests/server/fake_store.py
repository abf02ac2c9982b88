"""A small in-memory stand-in for the embedded client, to test the HTTP layer alone.

It follows the public Index API of API.md closely enough for status codes and shapes;
the real store is exercised by tests/integration in both modes.
"""

from __future__ import annotations

import uuid as uuidlib
from typing import Any

import numpy as np

from eigenlake.api.results import AddManyResult, FailedRecord
from eigenlake.errors import ConflictError, NotFoundError, ValidationError

OPS = {"$eq", "$gte", "$lt"}


def _validate(flt: dict[str, Any] | None) -> None:
    for key, cond in (flt or {}).items():
        for op in cond if isinstance(cond, dict) else ():
            if op not in OPS:
                raise ValidationError(f"unknown operator {op} on {key}")


def _match(props: dict[str, Any], flt: dict[str, Any] | None) -> bool:
    for key, cond in (flt or {}).items():
        val = props.get(key)
        if isinstance(cond, dict):
            for op, arg in cond.items():
                ok = {
                    "$eq": lambda v, a: v == a,
                    "$gte": lambda v, a: v is not None and v >= a,
                    "$lt": lambda v, a: v is not None and v < a,
                }.get(op)
                if ok is None:
                    raise ValidationError(f"unknown operator {op} on {key}")
                if not ok(val, arg):
                    return False
        elif val != cond:
            return False
    return True


class FakeIndex:
    def __init__(self, store: FakeStore, key: tuple[str, str], dims: int, schema: Any) -> None:
        self.store, self.key, self.dims, self.schema_ = store, key, dims, schema or {}
        self.rows: dict[str, tuple[dict[str, Any], np.ndarray]] = {}
        self.records, self.search, self.settings, self.manage, self.agent = (
            self,
            self,
            self,
            self,
            self,
        )

    # settings
    def dimensions(self) -> int:
        return self.dims

    def schema(self) -> dict[str, Any]:
        return dict(self.schema_)

    def shards(self) -> dict[str, Any]:
        return {"count": 1}

    # records
    def _check(self, properties: Any, vector: Any) -> np.ndarray:
        v = np.asarray(vector, dtype=np.float32)
        if v.shape != (self.dims,):
            raise ValidationError(f"vector has {v.size} dimensions, index has {self.dims}")
        if properties.get("bad"):
            raise ValidationError("property 'bad' is not allowed")
        return v

    def add(
        self,
        *,
        properties: dict[str, Any],
        vector: Any,
        id: str | None = None,
        on_duplicate: str = "error",
    ) -> str:
        v = self._check(properties, vector)
        rid = id or str(uuidlib.uuid4())
        if rid in self.rows and on_duplicate == "error":
            raise ConflictError(f"record {rid} exists")
        if rid not in self.rows or on_duplicate == "replace":
            self.rows[rid] = (dict(properties), v)
        return rid

    def add_many(
        self,
        records: list[dict[str, Any]],
        *,
        on_duplicate: str = "error",
        on_error: str = "raise",
        batch_size: int = 500,
    ) -> AddManyResult:
        ok, failed = [], []
        for i, r in enumerate(records):
            try:
                self._check(r["properties"], r["vector"])
            except ValidationError as exc:
                if on_error == "raise":
                    raise
                failed.append(FailedRecord(r.get("id"), str(exc), i))
                continue
            ok.append(r)
        ids = [
            self.add(
                properties=r["properties"],
                vector=r["vector"],
                id=r.get("id"),
                on_duplicate=on_duplicate,
            )
            for r in ok
        ]
        return AddManyResult(ids, failed)

    def add_vectors(self, vectors: list[dict[str, Any]], *, batch_size: int = 500) -> AddManyResult:
        recs = [{"properties": {}, **v} for v in vectors]
        return self.add_many(recs, batch_size=batch_size)

    def get(
        self,
        id: str,
        *,
        return_data: bool = True,
        return_metadata: bool = True,
        with_vector: bool = False,
    ) -> dict[str, Any] | None:
        if id not in self.rows:
            return None
        props, v = self.rows[id]
        out: dict[str, Any] = {"uuid": id, "metadata": props}
        if with_vector:
            out["vector"] = v.tolist()
        return out

    def exists(self, id: str) -> bool:
        return id in self.rows

    def remove(self, id: str) -> None:
        if self.rows.pop(id, None) is None:
            raise NotFoundError(f"record {id} not found")

    def remove_many(
        self, *, filter: dict[str, Any], limit: int | None = None, on_missing: str = "skip"
    ) -> dict[str, Any]:
        hits = [k for k, (p, _) in self.rows.items() if _match(p, filter)][:limit]
        for k in hits:
            del self.rows[k]
        return {"deleted": len(hits)}

    def update(
        self, id: str, *, properties: dict[str, Any] | None = None, vector: Any = None
    ) -> None:
        if id not in self.rows:
            raise NotFoundError(f"record {id} not found")
        props, v = self.rows[id]
        self.rows[id] = (
            {**props, **(properties or {})},
            v if vector is None else self._check({}, vector),
        )

    def replace(self, *, id: str, properties: dict[str, Any], vector: Any = None) -> None:
        if id not in self.rows:
            raise NotFoundError(f"record {id} not found")
        v = self.rows[id][1] if vector is None else self._check(properties, vector)
        self.rows[id] = (dict(properties), v)

    def list(
        self,
        *,
        filter: dict[str, Any] | None = None,
        limit: int = 100,
        after: str | None = None,
        with_vector: bool = False,
        with_properties: bool = True,
        offset: int = 0,
        newest_first: bool = True,
    ) -> dict[str, Any]:
        _validate(filter)
        keys = [k for k, (p, _) in self.rows.items() if _match(p, filter)]
        if after is not None:  # records.list: cursor paging
            start = keys.index(after) + 1 if after in keys else 0
            page = keys[start : start + limit]
            nxt = page[-1] if start + limit < len(keys) and page else None
            return {
                "objects": [self.get(k, with_vector=with_vector) for k in page],
                "next_after": nxt,
            }
        page = keys[offset : offset + limit]
        nxt = page[-1] if offset + limit < len(keys) and page else None
        return {"objects": [self.get(k, with_vector=with_vector) for k in page], "next_after": nxt}

    # search
    def nearest(
        self,
        *,
        vector: Any,
        limit: int = 10,
        filter: dict[str, Any] | None = None,
        after: str | None = None,
    ) -> dict[str, Any]:
        q = self._check({}, vector)
        _validate(filter)
        hits = [
            (float(np.linalg.norm(v - q)), k)
            for k, (p, v) in self.rows.items()
            if _match(p, filter)
        ]
        hits.sort()
        return {
            "results": [{**(self.get(k) or {}), "distance": d} for d, k in hits[:limit]],
            "next_after": None,
        }

    def cluster(self, **kwargs: Any) -> dict[str, Any]:
        members = [{"uuid": k} for k in self.rows]
        return {
            "clusters": [
                {"cluster_id": 0, "count": len(members), "representatives": [], "members": members}
            ],
            "noise_count": 0,
            "parameters": {"num_clusters": 1, **kwargs},
        }

    def topics(
        self, *, filter: dict[str, Any] | None = None, num_topics: int | None = 5, **_: Any
    ) -> dict[str, Any]:
        return {"topics": [], "parameters": {"num_topics": num_topics}}

    def outliers(
        self,
        *,
        filter: dict[str, Any] | None = None,
        limit: int | None = 1000,
        n_neighbors: int = 20,
        **_: Any,
    ) -> dict[str, Any]:
        return {"outliers": [], "parameters": {"n_neighbors": n_neighbors}}

    def query(self, query: str, **kwargs: Any) -> dict[str, Any]:
        return {"action": "filter", "filter": kwargs.get("filter") or {}, "query": query}

    # manage
    def delete(self) -> None:
        self.store.indexes_.pop(self.key, None)


class FakeStore:
    """Quacks like EmbeddedClient: `.indexes.create_or_get/open`, `.close()`."""

    def __init__(self) -> None:
        self.indexes_: dict[tuple[str, str], FakeIndex] = {}
        self.indexes = self
        self.closed = False

    def create_or_get(
        self, *, namespace: str, index: str, dimensions: int, schema: Any = None, **_: Any
    ) -> FakeIndex:
        key = (namespace, index)
        if key in self.indexes_:
            if self.indexes_[key].dims != dimensions:
                raise ConflictError(
                    f"index {namespace}/{index} has {self.indexes_[key].dims} dimensions"
                )
            return self.indexes_[key]
        self.indexes_[key] = FakeIndex(self, key, dimensions, schema)
        return self.indexes_[key]

    def open(self, *, namespace: str, index: str) -> FakeIndex:
        try:
            return self.indexes_[(namespace, index)]
        except KeyError:
            raise NotFoundError(f"index {namespace}/{index} not found") from None

    def list(self) -> list[dict[str, str]]:
        return [{"namespace": ns, "index": name} for ns, name in sorted(self.indexes_)]

    def delete(self, *, namespace: str, index: str, **_: Any) -> dict[str, bool]:
        self.open(namespace=namespace, index=index).delete()
        return {"deleted": True}

    def close(self) -> None:
        self.closed = True
