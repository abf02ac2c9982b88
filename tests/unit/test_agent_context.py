"""`build_context` works on any object with `settings.schema()` and `snapshot`."""

from __future__ import annotations

from typing import Any

import numpy as np

from eigenlake.agent.context import build_context
from eigenlake.agent.runner import _summary_fields
from eigenlake.analysis.snapshot import Snapshot


class FakeIndex:
    config = {"index_options": {"metadataConfiguration": {"nonFilterableMetadataKeys": ["note"]}}}

    def __init__(self, metadata: list[dict[str, Any]], schema: dict[str, Any]) -> None:
        self.metadata, self._schema = metadata, schema
        self.settings = self

    def schema(self) -> dict[str, Any]:
        return self._schema

    def snapshot(self, filter: Any = None, limit: int | None = None) -> Snapshot:
        rows = self.metadata[:limit]
        return Snapshot(
            [str(i) for i in range(len(rows))], np.zeros((len(rows), 2), np.float32), rows
        )


def test_types_values_and_filterability() -> None:
    meta = [
        {
            "id": f"r{i}",
            "kind": ["a", "b"][i % 2],
            "note": "x",
            "n": i,
            "when": "2026-01-01T00:00:00Z",
            "extra": 1.5,
        }
        for i in range(10)
    ]
    schema = {
        "properties": {
            "id": {"type": "string"},
            "kind": {"type": "string", "enum": ["a", "b", "c"]},
            "note": {"type": "string"},
            "n": {"type": "integer"},
            "when": {"type": "string", "format": "date-time"},
        }
    }
    ctx = build_context(FakeIndex(meta, schema), time_field="when")
    f = ctx.fields
    assert (f["kind"].type, f["kind"].values) == ("string", ["a", "b", "c"])
    assert f["note"].filterable is False and f["kind"].filterable is True
    assert (f["n"].type, f["when"].type, f["extra"].type) == ("integer", "datetime", "number")
    assert f["id"].distinct_ratio == 1.0 and f["kind"].distinct_ratio == 0.2
    assert [x.name for x in ctx.numeric_fields()] == ["n", "extra"]
    # ids are not summaries; a kind is
    assert _summary_fields(ctx) == ["kind", "note"]
