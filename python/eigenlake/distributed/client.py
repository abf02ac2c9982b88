"""``connect_ray``: a client whose indexes are split over shard actors on a Ray cluster."""

from __future__ import annotations

from typing import Any

from ..api.checks import check_int
from ..api.closing import Closing
from ..api.protocols import Indexes as IndexesSurface
from ..errors import ConflictError, ValidationError
from .rpc import gather
from .shard import ShardActor
from .sharded import ShardedIndex


def connect_ray(
    *,
    path: str,
    num_shards: int,
    address: str | None = None,
    actor_options: dict[str, Any] | None = None,
    **ray_init_kwargs: Any,
) -> ShardedClient:
    """Start ``num_shards`` shard actors storing under ``path`` (``<path>/shard-<i>``).

    Joins the running Ray session when there is one; else calls ``ray.init(address,
    ...)`` (and ``client.close()`` shuts that Ray down). Needs ``pip install
    "eigenlake[ray]"``.

    Parameters
    ----------
    path : str
        The store's root directory, reachable by the shard actors (a local disk for a
        local Ray; shared storage on a multi-node cluster).
    num_shards : int
        Shard actors, at least 1; a path keeps the count it was written with.
    address : str or None, default None
        For ``ray.init`` when no Ray session runs: None starts a local Ray, ``"auto"``
        or ``"ray://host:10001"`` joins a cluster.
    actor_options : dict or None, default None
        Passed to ``.options()`` of every shard actor (e.g. ``{"num_cpus": 1}``).
    **ray_init_kwargs
        Further keyword arguments of ``ray.init`` (when this call starts Ray).

    Returns
    -------
    ShardedClient
        A client (a context manager) whose ``indexes`` have the embedded Index's methods
        and answer shapes.

    Raises
    ------
    ValidationError
        Ray is not installed, or a bad ``num_shards`` or ``path``.
    ConflictError
        ``path`` holds a layout written with another number of shards.

    Examples
    --------
    >>> with connect_ray(path="/shared/lake", num_shards=4) as client:  # doctest: +SKIP
    ...     idx = client.indexes.open(namespace="demo", index="papers")
    """
    try:
        import ray
    except ImportError:  # optional extra
        raise ValidationError("connect_ray needs Ray: pip install 'eigenlake[ray]'") from None
    if isinstance(num_shards, bool) or not isinstance(num_shards, int) or num_shards < 1:
        raise ValidationError(f"num_shards must be a positive integer, got {num_shards!r}")
    if not isinstance(path, str) or not path:
        raise ValidationError("path must be a directory path reachable by the shard actors")
    owns_ray = not ray.is_initialized()
    if owns_ray:
        ray.init(address=address, **ray_init_kwargs)
    try:
        return ShardedClient(path, num_shards, actor_options or {}, owns_ray)
    except BaseException:
        if owns_ray:  # do not leave a Ray we started running behind a failed connect
            ray.shutdown()
        raise


class ShardedClient(Closing):
    def __init__(
        self, path: str, num_shards: int, actor_options: dict[str, Any], owns_ray: bool
    ) -> None:
        import ray

        self.path = path
        self.num_shards = num_shards
        self._owns_ray = owns_ray
        # Any: Ray's stubs type handles per method; shards are called by name throughout
        remote: Any = ray.remote(ShardActor).options(**actor_options)
        self._shards: list[Any] = [remote.remote(path, i, num_shards) for i in range(num_shards)]
        try:
            self._check_layout()
            gather([s.start.remote() for s in self._shards])
        except BaseException:
            self._kill()
            raise
        self.indexes = ShardedIndexes(self._shards)
        self._closed = False

    def _check_layout(self) -> None:
        """Refuse a path written with another shard count before anything is created:
        records are placed by uuid hash modulo the count, so another count loses them."""
        found = {n for n in gather([s.existing_layout.remote() for s in self._shards]) if n}
        if found and found != {self.num_shards}:
            raise ConflictError(
                f"{self.path} holds a {max(found)}-shard layout; connect with"
                f" num_shards={max(found)} (resharding is not supported yet)"
            )

    def ready(self) -> bool:
        return not self._closed

    def close(self) -> None:
        if self._closed:
            return
        try:
            gather([s.close.remote() for s in self._shards])  # flush and close the stores
        finally:
            self._kill()
            self._closed = True
            if self._owns_ray:
                import ray

                ray.shutdown()

    def _kill(self) -> None:
        import ray

        for s in self._shards:
            ray.kill(s)

    def __repr__(self) -> str:
        return (
            f"ShardedClient(path={self.path!r}, num_shards={self.num_shards}, mode='distributed')"
        )


class ShardedIndexes(IndexesSurface[ShardedIndex]):
    """``client.indexes`` over the shards; ``create_or_get`` is written once in
    ``api.protocols.Indexes`` over ``_shard_count`` and ``_create_or_get``."""

    def __init__(self, shards: list[Any]) -> None:
        self._shards = shards

    def _shard_count(self, shard_count: Any) -> int:
        """``shard_count`` is 1 (the contract's default), None, or the client's
        ``num_shards``; every shard is given ``num_shards``."""
        n = len(self._shards)
        if shard_count is not None:
            check_int("shard_count", shard_count, minimum=1)
            if shard_count not in (1, n):  # 1 is the contract's default: accept it
                raise ValidationError(
                    f"shard_count={shard_count} but this client has num_shards={n}"
                )
        return n

    def _create_or_get(self, namespace: str, index: str, **settings: Any) -> ShardedIndex:
        """The same index created on every shard (same settings, so each shard derives the
        same uuids)."""
        configs = gather(
            [s.create_or_get.remote(namespace, index, **settings) for s in self._shards]
        )
        return ShardedIndex(self._shards, namespace, index, configs[0])

    def open(self, *, namespace: str, index: str) -> ShardedIndex:
        """The index (``NotFoundError`` when a shard does not hold it)."""
        configs = gather([s.open.remote(namespace, index) for s in self._shards])
        return ShardedIndex(self._shards, namespace, index, configs[0])

    def ref(self, *, namespace: str, index: str) -> ShardedIndex:
        """An index handle without a round trip; errors surface on first use."""
        return ShardedIndex(self._shards, namespace, index, None)

    def delete(self, *, namespace: str, index: str, **_: Any) -> dict[str, Any]:
        """Drop the index on every shard (``NotFoundError`` when it does not exist)."""
        gather([s.delete.remote(namespace, index) for s in self._shards])
        return {"deleted": True}

    def close(self) -> None:
        """Nothing to release here: ``client.close()`` stops the shards."""

    def list(self) -> list[dict[str, str]]:
        """``[{"namespace", "index"}]`` of the indexes every shard holds."""
        per_shard = gather([s.list_indexes.remote() for s in self._shards])
        everywhere = set.intersection(
            *({(i["namespace"], i["index"]) for i in found} for found in per_shard)
        )
        return [i for i in per_shard[0] if (i["namespace"], i["index"]) in everywhere]
