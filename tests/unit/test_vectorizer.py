"""The c-TF-IDF vectorizer: its checks, stop words per language, n-grams and document
frequencies (hand-worked cases), and topics/cluster keywords that follow it."""

from __future__ import annotations

import numpy as np
import pytest

from eigenlake import ValidationError
from eigenlake.analysis.ctfidf import tokenize, top_keywords
from eigenlake.analysis.snapshot import Snapshot
from eigenlake.analysis.topics import run_topics
from eigenlake.analysis.vectorizer import make_vectorizer


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ("english", "vectorizer must be a dict"),
        ({"stopwords": "english"}, "unknown keys"),
        ({"stop_words": "klingon"}, "unknown language"),
        ({"stop_words": [1, 2]}, "stop_words"),
        ({"extra_stop_words": "said"}, "extra_stop_words"),
        ({"ngram_range": [1, 4]}, "ngram_range"),
        ({"ngram_range": [2, 2]}, "ngram_range"),
        ({"ngram_range": [1, True]}, "ngram_range"),
        ({"min_df": 0}, "min_df"),
        ({"min_df": 1.5}, "min_df"),
        ({"min_df": True}, "min_df"),
        ({"max_df": 0}, "max_df"),
        ({"max_df": 1.2}, "max_df"),
    ],
)
def test_bad_specs_name_the_key(spec, field):
    with pytest.raises(ValidationError, match=field):
        make_vectorizer(spec)


def test_languages_and_ngrams():
    fr = make_vectorizer({"stop_words": "french"})
    assert tokenize("Les taux d'intérêt de la banque", stop_words=fr.stop_words) == [
        "taux",
        "d'intérêt",
        "banque",
    ]
    de = make_vectorizer({"stop_words": "german", "ngram_range": [1, 2]})
    got = tokenize("Die Zinsen der Bank steigen", stop_words=de.stop_words, ngram_max=de.ngram_max)
    assert got == ["zinsen", "bank", "steigen", "zinsen bank", "bank steigen"]
    tri = make_vectorizer({"stop_words": "none", "ngram_range": [1, 3]})
    assert tokenize("a b c", stop_words=tri.stop_words, ngram_max=3) == []  # 1-letter words
    assert tokenize("ab cd ef", stop_words=tri.stop_words, ngram_max=3)[-1] == "ab cd ef"


def test_document_frequencies_prune_by_count_and_share():
    docs = [["oil", "opec", "rare"], ["oil", "opec"], ["oil", "bank"], ["oil", "bank"]]
    assert make_vectorizer({"min_df": 2, "max_df": 1.0}).prune(docs) == [
        ["oil", "opec"],
        ["oil", "opec"],
        ["oil", "bank"],
        ["oil", "bank"],
    ]
    # "oil" is in 4/4 > 0.9 of the documents: boilerplate; min_df 0.5 = 2 documents
    assert make_vectorizer({"min_df": 0.5}).prune(docs) == [["opec"], ["opec"], ["bank"], ["bank"]]


def test_keywords_follow_extra_stop_words():
    texts = ["said oil prices", "said oil opec", "said bank rates", "said bank loans"] * 3
    labels = [0, 0, 1, 1] * 3
    default = top_keywords(texts, labels, [0, 1], top_n=3)
    assert all("said" not in [w for w, _ in kw] for kw in default.values())  # max_df 0.9
    kept = top_keywords(texts, labels, [0, 1], top_n=5, vectorizer=make_vectorizer({"max_df": 1.0}))
    assert "said" in [w for w, _ in kept[0]]
    dropped = make_vectorizer({"max_df": 1.0, "extra_stop_words": ["Said"]})
    assert "said" not in [w for w, _ in top_keywords(texts, labels, [0, 1], vectorizer=dropped)[0]]


def test_topics_take_the_vectorizer_and_say_so():
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((2, 8))
    x = np.vstack([centres[i % 2] + 0.05 * rng.standard_normal(8) for i in range(40)])
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    meta = [{"t": "interest rates rise" if i % 2 else "crude oil output"} for i in range(40)]
    snap = Snapshot(uuids=[str(i) for i in range(40)], vectors=x, metadata=meta)
    res = run_topics(snap, text_fields=["t"], num_topics=2, vectorizer={"ngram_range": [1, 2]})
    words = {w["word"] for t in res["topics"] for w in t["keywords"]}
    assert {"interest rates", "crude oil"} <= words
    assert res["parameters"]["vectorizer"] == {"ngram_range": [1, 2]}
    with pytest.raises(ValidationError, match="vectorizer.min_df"):
        run_topics(snap, text_fields=["t"], num_topics=2, vectorizer={"min_df": -1})
