"""The protein k-mer embedder: fixed hash, determinism, and family signal on bundled data."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from eigenlake.embed import ProteinEmbedder, embed_protein, load_proteins
from eigenlake.embed.protein import fnv1a_32
from tests_paths import REPO_ROOT

SEQ = "MKTLLILAVVAAALA"


def test_fnv1a_matches_published_test_vectors() -> None:
    assert fnv1a_32(b"") == 0x811C9DC5
    assert fnv1a_32(b"a") == 0xE40C292C
    assert fnv1a_32(b"foobar") == 0xBF9CF968


def test_embedding_is_unit_length_and_pinned() -> None:
    v = ProteinEmbedder()(SEQ)
    assert v.dtype == np.float32 and v.shape == (320,)
    assert np.linalg.norm(v) == pytest.approx(1.0, abs=1e-6)
    nz = np.nonzero(v)[0]
    # Pinned so a change of hash, weights or bucketing is noticed (it would change every index).
    assert nz[:5].tolist() == [6, 12, 34, 50, 64] and nz.size == 32
    assert v[nz[:5]].tolist() == pytest.approx(
        [-0.31427, 0.095238, -0.157135, 0.047619, -0.1849], abs=1e-5
    )


def test_same_in_a_fresh_interpreter() -> None:
    # Python's own hash() is salted per process; ours must not be.
    code = "from eigenlake.embed import embed_protein; print(sum(embed_protein('MKTLLILAVVAAALA')))"
    outs = {
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        for _ in range(2)
    }
    assert outs == {f"{sum(embed_protein(SEQ))}\n"}


def test_lowercase_and_unknown_letters() -> None:
    e = ProteinEmbedder(dim=64)
    assert np.array_equal(e(SEQ.lower()), e(SEQ))
    assert np.linalg.norm(e("BZXUO")) == pytest.approx(1.0, abs=1e-6)
    assert not e("").any()
    assert e.embed_many([]).shape == (0, 64)


def test_same_family_is_nearer_than_random_pairs() -> None:
    rows = [r for r in load_proteins(REPO_ROOT / "data" / "proteins.tsv.gz") if r["family"]]
    assert len(rows) > 7000 and isinstance(rows[0]["length"], int)
    x = ProteinEmbedder().embed_many(r["sequence"] for r in rows)
    fam = np.array([r["family"] for r in rows])
    rng = np.random.default_rng(0)
    i, j = rng.integers(0, len(rows), (2, 20000))
    same = (fam[i] == fam[j]) & (i != j)
    sims = (x[i] * x[j]).sum(axis=1)
    assert sims[same].mean() > sims[~same].mean() + 0.1
    # Leave-one-out 1-NN family agreement on a sample (chance is ~3%).
    q = rng.choice(len(rows), 1000, replace=False)
    s = x[q] @ x.T
    s[np.arange(q.size), q] = -2
    assert (fam[s.argmax(axis=1)] == fam[q]).mean() > 0.85
