"""Analyses say how much of the collection they saw: ``limit=None`` takes every matching
record, ``parameters`` carries ``num_matched`` (filter) and ``num_records`` (analysed), and a
limit that cuts is logged as a warning (API.md, "Additions"), in every mode."""

from __future__ import annotations

import logging

import pytest
from api_helpers import make_index, records

import eigenlake
from eigenlake import ValidationError

N = 60


@pytest.fixture
def idx(client):
    index = make_index(client)
    index.records.add_many(records(N))
    return index


def _humans() -> int:  # the oracle: records(i) cycles three organisms
    return len([i for i in range(N) if i % 3 == 0])


@pytest.mark.parametrize(
    "call",
    [
        lambda ix, **kw: ix.search.cluster(num_clusters=2, **kw),
        lambda ix, **kw: ix.search.cluster(num_clusters=2, auto_tune=True, max_clusters=3, **kw),
        lambda ix, **kw: ix.search.outliers(n_neighbors=5, **kw),
        lambda ix, **kw: ix.search.topics(text_fields=["organism"], num_topics=2, **kw),
    ],
    ids=["kmeans", "autotune", "outliers", "topics"],
)
def test_limit_none_takes_every_match_and_counts_are_reported(idx, call, caplog):
    humans = {"organism": "Homo sapiens"}
    with caplog.at_level(logging.WARNING, logger="eigenlake"):
        every = call(idx, filter=humans, limit=None)
    assert every["parameters"]["num_records"] == _humans() == every["parameters"]["num_matched"]
    assert not [r for r in caplog.records if "matching records" in r.getMessage()]
    cut = call(idx, filter=humans, limit=12)
    assert cut["parameters"]["num_records"] == 12
    assert cut["parameters"]["num_matched"] == _humans()
    whole = call(idx, limit=None)
    assert whole["parameters"]["num_records"] == N == whole["parameters"]["num_matched"]


def test_a_cutting_limit_is_logged_in_process(tmp_path, caplog):
    """The warning is the process's that runs the analysis (embedded here; a server logs
    its own), with the numbers a user needs to decide."""
    with eigenlake.connect(path=str(tmp_path / "store")) as client:
        index = make_index(client)
        index.records.add_many(records(N))
        with caplog.at_level(logging.WARNING, logger="eigenlake"):
            res = index.search.cluster(num_clusters=2, limit=25)
    assert res["parameters"]["num_matched"] == N
    msgs = [r.getMessage() for r in caplog.records if r.name == "eigenlake"]
    assert any("first 25 of 60 matching records" in m and "limit=None" in m for m in msgs)


def test_agent_reports_what_it_matched(idx):
    humans = {"organism": "Homo sapiens"}
    res = idx.agent.query("cluster these proteins", filter=humans, num_clusters=2, limit=10)
    assert res["action"] == "cluster"
    assert res["parameters"]["num_records"] == 10
    assert res["parameters"]["num_matched"] == _humans()
    every = idx.agent.query("cluster these proteins", filter=humans, num_clusters=2, limit=None)
    assert every["parameters"]["num_records"] == _humans()


def test_topics_vectorizer_and_labeller_in_every_mode(idx):
    """``vectorizer`` travels with the request; ``labeller`` runs in the caller's process
    on the answer (so it works against a server too) and sees keywords and representatives."""
    seen: list[tuple[list[str], int]] = []

    def labeller(words: list[str], reps: list[dict]) -> str:
        seen.append((words, len(reps)))
        return "topic: " + " / ".join(words[:2])

    res = idx.search.topics(
        text_fields=["organism"],
        num_topics=3,
        limit=None,
        vectorizer={"stop_words": "none", "ngram_range": [1, 2], "max_df": 1.0},
        labeller=labeller,
    )
    assert len(seen) == len(res["topics"]) == 3
    for topic, (words, n_reps) in zip(res["topics"], seen, strict=True):
        assert topic["label"] == "topic: " + " / ".join(words[:2])
        assert words == [k["word"] for k in topic["keywords"]] and n_reps >= 1
    assert any(" " in k["word"] for t in res["topics"] for k in t["keywords"])  # bigrams
    with pytest.raises(ValidationError, match="vectorizer.ngram_range"):
        idx.search.topics(text_fields=["organism"], vectorizer={"ngram_range": [1, 9]})
    with pytest.raises(ValidationError, match="must return a str"):
        idx.search.topics(text_fields=["organism"], num_topics=2, labeller=lambda w, r: 3)
