"""Every mode offers the one surface of ``eigenlake.api.protocols`` with the same argument
names, kinds and defaults (mypy checks the types; this pins the defaults, which it cannot)."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from eigenlake.api import batch, protocols
from eigenlake.distributed import client as d_client
from eigenlake.distributed import search as d_search
from eigenlake.distributed import sharded as d_sharded
from eigenlake.embedded import index as e_index
from eigenlake.embedded import indexes as e_indexes
from eigenlake.embedded import manage as e_manage
from eigenlake.embedded import records as e_records
from eigenlake.embedded import search as e_search
from eigenlake.embedded import settings as e_settings
from eigenlake.remote import client as r_client
from eigenlake.remote import index as r_index
from eigenlake.remote import records as r_records
from eigenlake.remote import search as r_search

MODES: dict[str, dict[type, Any]] = {
    "embedded": {
        protocols.Records: e_records.Records,
        protocols.Search: e_search.Search,
        protocols.Settings: e_settings.Settings,
        protocols.Manage: e_manage.Manage,
        protocols.Agent: e_index.Agent,
        protocols.Batch: batch.Batch,
        protocols.BatchWriter: batch.BatchWriter,
        protocols.Indexes: e_indexes.Indexes,
    },
    "remote": {
        protocols.Records: r_records.RemoteRecords,
        protocols.Search: r_search.RemoteSearch,
        protocols.Settings: r_index.RemoteSettings,
        protocols.Manage: r_index.RemoteManage,
        protocols.Agent: r_index.RemoteAgent,
        protocols.Batch: batch.Batch,
        protocols.BatchWriter: batch.BatchWriter,
        protocols.Indexes: r_client.RemoteIndexes,
    },
    "distributed": {
        protocols.Records: d_sharded.ShardedRecords,
        protocols.Search: d_search.ShardedSearch,
        protocols.Settings: d_sharded.ShardedSettings,
        protocols.Manage: d_sharded.ShardedManage,
        protocols.Agent: d_sharded.ShardedAgent,
        protocols.Batch: batch.Batch,
        protocols.BatchWriter: batch.BatchWriter,
        protocols.Indexes: d_client.ShardedIndexes,
    },
}


def methods(proto: type) -> list[str]:
    """The protocol's methods, with those it inherits from other protocols (Search's
    analyses come from Analyses; a mode may still override them)."""
    found: dict[str, None] = {}
    for base in proto.__mro__:
        if base.__module__ != protocols.__name__:
            continue
        for n, v in vars(base).items():
            if callable(v) and (not n.startswith("_") or n in ("__enter__", "__exit__")):
                found[n] = None
    return list(found)


CASES = [
    (mode, proto, name)
    for mode, impls in MODES.items()
    for proto in impls
    for name in methods(proto)
]


@pytest.mark.parametrize(("mode", "proto", "name"), CASES)
def test_mode_offers_the_method_with_the_same_arguments(mode: str, proto: type, name: str) -> None:
    impl = MODES[mode][proto]
    assert hasattr(impl, name), f"{mode} {impl.__name__} lacks {name}"
    want = inspect.signature(getattr(proto, name)).parameters
    got = inspect.signature(getattr(impl, name)).parameters
    for pname, p in want.items():
        assert pname in got, f"{mode} {impl.__name__}.{name} lacks argument {pname}"
        q = got[pname]
        assert q.kind == p.kind, f"{mode} {impl.__name__}.{name}({pname}): {q.kind} != {p.kind}"
        assert q.default == p.default, (
            f"{mode} {impl.__name__}.{name}({pname}) defaults to {q.default!r}, "
            f"the surface says {p.default!r}"
        )
