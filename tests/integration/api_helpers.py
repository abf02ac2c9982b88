"""Small builders shared by the API tests (public API only)."""

from __future__ import annotations

from typing import Any

import numpy as np

from eigenlake import schema as s

DIM = 8


def protein_schema() -> tuple[dict[str, Any], dict[str, Any]]:
    return (
        s.SchemaBuilder(additional_properties=False)
        .add("accession", s.string(required=True))
        .add("organism", s.string())
        .add("sequence", s.string(filterable=False))
        .add("length", s.integer(minimum=0))
        .add("score", s.number())
        .add("reviewed", s.boolean())
        .add("tags", s.array(s.string()))
        .add("seen", s.datetime())
        .add("day", s.date())
        .build()
    )


def make_index(client: Any, name: str = "proteins", **kw: Any) -> Any:
    schema, options = protein_schema()
    return client.indexes.create_or_get(
        namespace="tests",
        index=name,
        dimensions=DIM,
        schema=schema,
        index_options={**options, **kw.pop("options", {})},
        **kw,
    )


def records(n: int, seed: int = 0) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        out.append(
            {
                "properties": {
                    "accession": f"P{i:05d}",
                    "organism": ["Homo sapiens", "Mus musculus", "Conus geographus"][i % 3],
                    "sequence": "MKV" * (i % 5 + 1),
                    "length": 50 + 10 * i,
                    "score": float(i) / 3,
                    "reviewed": i % 2 == 0,
                    "tags": ["toxin"] if i % 4 == 0 else ["enzyme", "secreted"],
                    "seen": f"2024-03-{i % 28 + 1:02d}T12:00:00+02:00",
                    "day": f"2024-03-{i % 28 + 1:02d}",
                },
                "vector": rng.standard_normal(DIM).astype(np.float32),
            }
        )
    return out
