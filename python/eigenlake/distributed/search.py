"""``ShardedIndex.search``: scatter-gather nearest neighbours and distributed k-means."""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from .._args import check_filter_arg, check_limit, check_offset, cursor_text
from ..errors import ValidationError
from ..ids import canonical_id
from ..vectors import as_vector
from .merge import decode_cursor, encode_cursor, merge_hits, query_key

if TYPE_CHECKING:
    from .sharded import ShardedIndex


class ShardedSearch:
    def __init__(self, index: ShardedIndex) -> None:
        self._index = index

    def nearest(
        self,
        *,
        vector: Any,
        limit: int = 10,
        filter: dict[str, Any] | None = None,
        after: str | None = None,
        with_vector: bool = False,
    ) -> dict[str, Any]:
        """Each shard returns its own top hits; the global top ``limit`` is among them.

        The cursor holds the page offset and the (distance, uuid) of the last hit, like the
        embedded one, so pages never repeat a record.
        """
        limit = check_limit(limit)  # the embedded checks, so both modes refuse alike
        check_filter_arg(filter)
        after = cursor_text(after, "nearest")
        q = as_vector(vector, self._index.dimensions, "query")
        key = query_key(q, filter)
        offset, last = 0, None
        if after is not None:
            cur = decode_cursor(after, "nearest")
            if not isinstance(cur, dict) or cur.get("h") != key:
                raise ValidationError("after: this cursor belongs to another query or filter")
            try:
                offset = check_offset(cur.get("o"), "after (its offset)")
                last = (float(cur["d"]), canonical_id(cur["u"]))
            except (ValueError, KeyError, TypeError):
                raise ValidationError(
                    f"after {after[:40]!r} is not a cursor returned by nearest()"
                ) from None
            # (each shard's own search is bounded by its rows, whatever the offset)
        # one more than the page so we know whether another page exists
        per_shard = offset + limit + 1
        hits = merge_hits(self._index._call("nearest", q, per_shard, filter, with_vector))
        if last is not None:
            hits = [h for h in hits if (h["distance"], h["uuid"]) > last]
        page = hits[:limit]
        next_after = None
        if len(hits) > limit and page:
            next_after = encode_cursor(
                {
                    "o": offset + len(page),
                    "d": page[-1]["distance"],
                    "u": page[-1]["uuid"],
                    "h": key,
                }
            )
        return {"results": page, "next_after": next_after}

    def get(self, id: str, *, with_vector: bool = False) -> dict[str, Any] | None:
        return self._index.records.get(id, return_data=with_vector, return_metadata=True)

    def iterate(
        self, *, page_size: int = 500, with_vector: bool = False, with_properties: bool = True
    ) -> Iterator[dict[str, Any]]:
        """Every record once, in the merged ``records.list`` order."""
        return self._index.records.iterate(
            page_size=page_size, with_vector=with_vector, with_properties=with_properties
        )

    def cluster(
        self,
        *,
        filter: dict[str, Any] | None = None,
        limit: int | None = 1000,
        algorithm: str = "kmeans",
        num_clusters: int | None = None,
        distance_metric: str = "cosine",
        text_fields: builtins.list[str] | None = None,
        max_iterations: int = 50,
        representatives_per_cluster: int = 3,
        auto_tune: bool = False,
        min_clusters: int = 2,
        max_clusters: int = 8,
        dbscan_eps: float | None = None,
        dbscan_min_samples: int = 5,
        seed: int = 0,
        init: np.ndarray | None = None,
    ) -> dict[str, Any]:
        """Distributed spherical (cosine) or euclidean k-means; see docs/distributed.md.

        ``limit=None`` clusters every matching record. ``init`` (k, d) gives the starting
        centroids instead of k-means++ seeding.
        """
        from .kmeans import run_kmeans

        return run_kmeans(
            self._index,
            filter=filter,
            limit=limit,
            algorithm=algorithm,
            num_clusters=num_clusters,
            distance_metric=distance_metric,
            text_fields=text_fields,
            max_iterations=max_iterations,
            representatives_per_cluster=representatives_per_cluster,
            auto_tune=auto_tune,
            seed=seed,
            init=init,
        )

    def outliers(self, **_: Any) -> dict[str, Any]:
        raise _not_distributed("search.outliers")

    def topics(self, **_: Any) -> dict[str, Any]:
        raise _not_distributed("search.topics")


def _not_distributed(what: str) -> ValidationError:
    return ValidationError(
        f"{what} is not distributed yet; a sharded index supports records, search.nearest"
        " and search.cluster(algorithm='kmeans')"
    )


__all__ = ["ShardedSearch"]
