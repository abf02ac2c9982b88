"""The name-length limit applies to new indexes only."""

from __future__ import annotations

import pytest

import eigenlake
from eigenlake.embedded import indexes as indexes_mod
from eigenlake.errors import ValidationError


def test_an_index_made_before_the_limit_still_opens_and_drops(tmp_path, monkeypatch) -> None:
    with eigenlake.connect(path=str(tmp_path / "store")) as client:
        client.indexes.create_or_get(namespace="n", index="x" * 150, dimensions=3)
        monkeypatch.setattr(indexes_mod, "MAX_NAME_BYTES", 100)  # a stricter release
        with pytest.raises(ValidationError, match="index is too long"):
            client.indexes.create_or_get(namespace="n", index="y" * 150, dimensions=3)
        again = client.indexes.create_or_get(namespace="n", index="x" * 150, dimensions=3)
        again.records.add(properties={"a": 1}, vector=[1.0, 0.0, 0.0])
        assert client.indexes.open(namespace="n", index="x" * 150).records.list()["objects"]
        client.indexes.delete(namespace="n", index="x" * 150)
        assert client.indexes.list() == []
