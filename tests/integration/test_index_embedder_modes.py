"""Index embedders in every mode (``client`` fixture: embedded, a server process, shards on
Ray): records written without a vector are embedded where the data is (the server, the
sharded driver), ``nearest(text=...)`` embeds the query there too. The server is its own
process, so these use the built-in ``protein-kmer`` embedder (registered in every process);
the oracle is that embedder called here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from eigenlake import embed
from eigenlake.errors import ValidationError


def _stored(idx: Any) -> dict[str, np.ndarray]:
    uuids, x = idx.records.to_numpy()
    return dict(zip(uuids, x, strict=True))


KMER = "protein-kmer"
SEQS = ["MKTLLILAVV", "GSHMLEDPVD", "MAAAKKLLPQ", "WWYYHHCCMM", "MKTLLVLAVA", "PPGGSSTTAA"]


def test_remote_and_distributed_embed_like_embedded(client: Any) -> None:
    idx = client.indexes.create_or_get(
        namespace="t",
        index="seqs",
        dimensions=320,
        index_options={"embedder": {"model": KMER, "field": "seq"}},
    )
    res = idx.records.add_many([{"properties": {"seq": s, "i": i}} for i, s in enumerate(SEQS)])
    one = idx.records.add(properties={"seq": "MKTAYIAKQR", "i": 99})
    want = embed.get(KMER)(SEQS + ["MKTAYIAKQR"])
    stored = _stored(idx)
    got = np.stack([stored[u] for u in [*res, one]])
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    hits = idx.search.nearest(text=SEQS[3], limit=2)
    assert hits["results"][0]["metadata"] == {"seq": SEQS[3], "i": 3}
    batch = idx.search.nearest(text=SEQS[:2], limit=1)
    assert [b["results"][0]["metadata"]["i"] for b in batch] == [0, 1]
    failed = idx.records.add_many([{"properties": {"i": 5}}], on_error="continue")
    assert "record 0: no vector, and no 'seq' property" in str(failed.failed_records[0].error)
    plain = client.indexes.create_or_get(namespace="t", index="plain", dimensions=4)
    with pytest.raises(ValidationError, match="this index has no embedder: pass vector="):
        plain.search.nearest(text="MKT")
    with pytest.raises(ValidationError, match=r"record 1: vector is missing"):
        plain.records.add_many([{"properties": {}, "vector": [1, 0, 0, 0]}, {"properties": {}}])
