"""A shard's writes without Ray: a refused update leaves nothing behind (not even the raised
sequence counter that a vector update takes from the driver)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from eigenlake.distributed.shard import ShardActor
from eigenlake.errors import NotFoundError, ValidationError


def test_a_refused_update_leaves_the_sequence_as_it_was(tmp_path: Path) -> None:
    actor = ShardActor(str(tmp_path), 0, 1)
    actor.start()
    actor.create_or_get("ns", "i", dimensions=3)
    uid = actor._idx("ns", "i").records.add(properties={"a": 1}, vector=[1.0, 0.0, 0.0])
    before = actor.next_seq("ns", "i")
    for call in (
        lambda: actor.update("ns", "i", uid, 1000, vector=[1.0, 0.0]),  # wrong dimension
        lambda: actor.replace("ns", "i", uid, 1000, properties={}, vector=["x", 1, 2]),
    ):
        with pytest.raises(ValidationError):
            call()
        assert actor.next_seq("ns", "i") == before
    with pytest.raises(NotFoundError):
        actor.update("ns", "i", str(uuid.uuid4()), 5000, vector=[0.0, 1.0, 0.0])
    assert actor.next_seq("ns", "i") == before
    # an accepted vector update takes the driver's next seq, as before
    actor.update("ns", "i", uid, 1000, vector=[0.0, 1.0, 0.0])
    assert actor.next_seq("ns", "i") > 1000
    actor.close()
