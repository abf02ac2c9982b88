"""Topic quality (NPMI coherence x diversity) against hand-worked cases, and its use for k."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from eigenlake.analysis.snapshot import Snapshot
from eigenlake.analysis.topic_quality import Corpus
from eigenlake.analysis.topics import run_topics


def npmi(docs: list[set[str]], a: str, b: str) -> float:
    n = len(docs)
    pa = sum(a in d for d in docs) / n
    pb = sum(b in d for d in docs) / n
    pab = sum(a in d and b in d for d in docs) / n
    if pab == 0:
        return -1.0
    if pab == 1:
        return 1.0
    return math.log(pab / (pa * pb)) / -math.log(pab)


def test_coherence_equals_npmi_by_hand() -> None:
    texts = [
        "apple banana cherry",
        "apple banana",
        "apple cherry grape",
        "grape melon",
        "melon kiwi grape",
        "kiwi lemon",
    ]
    corpus = Corpus(texts)
    docs = [set(t.split()) for t in texts]
    topics = [["apple", "banana", "cherry"], ["grape", "melon", "kiwi", "lemon"]]
    ids = [np.array([corpus.vocab.index(w) for w in t]) for t in topics]
    want = np.mean(
        [np.mean([npmi(docs, a, b) for a, b in itertools.combinations(t, 2)]) for t in topics]
    )
    assert corpus.coherence(ids) == pytest.approx(want, abs=1e-6)


def test_never_together_is_minus_one_and_always_together_is_one() -> None:
    corpus = Corpus(["alpha beta", "alpha beta", "gamma delta"])
    v = corpus.vocab
    assert corpus.coherence([np.array([v.index("alpha"), v.index("gamma")])]) == -1.0
    # alpha and beta always co-occur but p(alpha, beta) = 2/3 < 1: NPMI = 1 exactly
    assert corpus.coherence([np.array([v.index("alpha"), v.index("beta")])]) == pytest.approx(1.0)


def test_diversity_counts_repeated_words() -> None:
    texts = ["red green", "red blue", "yellow green", "yellow blue"] * 3
    corpus = Corpus(texts)
    labels = np.array([0, 0, 1, 1] * 3)
    q = corpus.quality(labels, 2)
    top = corpus.top_words(labels, 2)
    listed = sum(t.size for t in top)
    assert q["diversity"] == pytest.approx(len(set(np.concatenate(top))) / listed)
    assert q["topic_quality"] == pytest.approx(max(q["coherence"], 0) * q["diversity"], abs=1e-6)


def test_auto_tune_prefers_the_partition_with_coherent_words() -> None:
    # three well separated groups, each with its own vocabulary: k = 3 must win
    rng = np.random.default_rng(0)
    centres = np.eye(3, 16, dtype=np.float32) * 4
    words = [["oil", "crude", "barrel"], ["bank", "rate", "loan"], ["goal", "match", "team"]]
    x, meta = [], []
    for g in range(3):
        for i in range(40):
            x.append(centres[g] + rng.normal(0, 0.3, 16).astype(np.float32))
            w = words[g]
            meta.append({"text": f"{w[i % 3]} {w[(i + 1) % 3]}"})
    v = np.asarray(x, dtype=np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    snap = Snapshot(uuids=[str(i) for i in range(len(v))], vectors=v, metadata=meta)
    res = run_topics(snap, text_fields="text", max_topics=6)
    params = res["parameters"]
    assert params["num_topics"] == 3
    assert params["selection"] == "topic_quality"
    assert [s["num_topics"] for s in params["scores"]] == [2, 3, 4, 5, 6]
    best = max(params["scores"], key=lambda s: s["topic_quality"])
    assert best["num_topics"] == 3
    # the reported partition is the scored one: each topic holds exactly one group
    for t in res["topics"]:
        groups = {int(m["uuid"]) // 40 for m in t["members"]}
        assert len(groups) == 1 and t["count"] == 40


def test_without_words_silhouette_picks_k() -> None:
    # three separated groups but no text at all: quality cannot decide, silhouette does
    rng = np.random.default_rng(1)
    centres = np.eye(3, 8, dtype=np.float32) * 4
    v = np.vstack([centres[g] + rng.normal(0, 0.2, (30, 8)) for g in range(3)]).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    meta = [{"text": ""} for _ in range(len(v))]
    snap = Snapshot(uuids=[str(i) for i in range(len(v))], vectors=v, metadata=meta)
    res = run_topics(snap, text_fields="text", max_topics=6)
    params = res["parameters"]
    assert params["selection"] == "silhouette"
    assert params["num_topics"] == 3
    assert params["num_topics_requested"] is None
    best = max(params["scores"], key=lambda s: s["silhouette"])
    assert best["num_topics"] == 3
    fixed = run_topics(snap, text_fields="text", num_topics=4)["parameters"]
    assert fixed["num_topics_requested"] == 4 and fixed["num_topics"] == 4


def test_bad_topic_bounds_name_the_field() -> None:
    from eigenlake.errors import ValidationError

    v = np.eye(4, 8, dtype=np.float32)
    snap = Snapshot(uuids=list("abcd"), vectors=v, metadata=[{"text": "x"}] * 4)
    with pytest.raises(ValidationError, match=r"max_topics \(2\) must be >= min_topics \(3\)"):
        run_topics(snap, text_fields="text", min_topics=3, max_topics=2)
    with pytest.raises(ValidationError, match="max_iterations"):
        run_topics(snap, text_fields="text", max_iterations=0)
