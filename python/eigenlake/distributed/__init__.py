"""Scale-out on Ray: an index split over shard actors, each an embedded store.

``connect_ray(path=..., num_shards=...)`` returns a client whose indexes have the embedded
Index's method names and result shapes for records, ``search.nearest`` and k-means
``search.cluster``. See docs/distributed.md. Ray is an optional extra (``eigenlake[ray]``).
"""

from __future__ import annotations

from .client import ShardedClient, ShardedIndexes, connect_ray
from .merge import shard_of
from .sharded import ShardedIndex

__all__ = ["connect_ray", "ShardedClient", "ShardedIndexes", "ShardedIndex", "shard_of"]
