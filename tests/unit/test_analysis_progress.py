"""``progress=`` on the analyses: a bar on stderr that advances at the safe points (each k
an auto-tune tries), only when asked (or on a terminal above 50,000 records)."""

from __future__ import annotations

import numpy as np
import pytest

import eigenlake
from eigenlake import ValidationError


@pytest.fixture
def idx(tmp_path):
    with eigenlake.connect(path=str(tmp_path)) as c:
        index = c.indexes.create_or_get(namespace="n", index="i", dimensions=8)
        rng = np.random.default_rng(0)
        index.records.add_many(
            [
                {"properties": {"t": f"w{i % 5}"}, "vector": v}
                for i, v in enumerate(rng.standard_normal((300, 8)))
            ]
        )
        yield index


def test_bar_counts_the_ks_tried(idx, capsys):
    res = idx.search.cluster(auto_tune=True, min_clusters=2, max_clusters=5, progress=True)
    err = capsys.readouterr().err
    assert "cluster" in err and "4 steps" in err  # k = 2, 3, 4, 5
    assert res["parameters"]["num_clusters"] in (2, 3, 4, 5)


def test_silent_unless_asked(idx, capsys):
    idx.search.cluster(auto_tune=True, max_clusters=4)  # stderr is no terminal here
    idx.search.outliers(progress=False)
    assert capsys.readouterr().err == ""
    idx.search.topics(text_fields=["t"], num_topics=2, progress=True)
    assert "topics" in capsys.readouterr().err


def test_progress_is_checked(idx):
    with pytest.raises(ValidationError, match="progress"):
        idx.search.cluster(progress="yes")
