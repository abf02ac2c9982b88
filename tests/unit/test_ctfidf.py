"""c-TF-IDF against a hand-computed case, and the tokeniser's rules."""

from __future__ import annotations

import math

import numpy as np
import pytest

from eigenlake.analysis.ctfidf import ctfidf_weights, record_text, tokenize, top_keywords
from eigenlake.analysis.vectorizer import Vectorizer


def test_weights_match_hand_computation() -> None:
    # class 0: "apple banana", "apple"; class 1: "banana cherry"
    texts = ["apple banana", "apple", "banana cherry", "ignored noise words"]
    labels = [0, 0, 1, -1]
    got = top_keywords(texts, labels, [0, 1], top_n=3)
    # A = 5 terms / 2 classes = 2.5; f = apple 2, banana 2, cherry 1.
    idf_ab, idf_c = math.log(1 + 2.5 / 2), math.log(1 + 2.5 / 1)
    assert got[0] == [
        ("apple", pytest.approx(2 / 3 * idf_ab)),
        ("banana", pytest.approx(1 / 3 * idf_ab)),
    ]
    assert got[1] == [
        ("cherry", pytest.approx(0.5 * idf_c)),
        ("banana", pytest.approx(0.5 * idf_ab)),
    ]


def test_weight_matrix_formula() -> None:
    counts = np.array([[3.0, 0.0, 1.0], [1.0, 2.0, 0.0]])
    w = ctfidf_weights(counts)
    a = counts.sum() / 2
    f = counts.sum(axis=0)
    expected = counts / counts.sum(axis=1, keepdims=True) * np.log(1 + a / f)
    np.testing.assert_allclose(w, expected)


def test_a_word_in_every_class_weighs_less_than_a_distinctive_one() -> None:
    texts = ["family kinase", "family kinase", "family toxin", "family toxin"]
    got = top_keywords(texts, [0, 0, 1, 1], [0, 1], top_n=2, vectorizer=Vectorizer(max_df=1.0))
    assert got[0][0][0] == "kinase" and got[1][0][0] == "toxin"
    assert got[0][1] == ("family", pytest.approx(0.5 * math.log(1 + 4 / 4)))
    assert got[0][1][1] < got[0][0][1]


def test_terms_in_almost_every_document_are_dropped() -> None:
    texts = ["family kinase"] * 10 + ["family toxin"] * 9 + ["toxin"]
    got = top_keywords(texts, [0] * 10 + [1] * 10, [0, 1], vectorizer=Vectorizer(max_df=0.9))
    assert [w for w, _ in got[0]] == ["kinase"]
    assert [w for w, _ in got[1]] == ["toxin"]


def test_tokenizer_lowercases_and_drops_stop_words_and_numbers() -> None:
    assert tokenize("The Oil prices rose 12 pct in 1987, said OPEC") == [
        "oil",
        "prices",
        "rose",
        "pct",
        "said",
        "opec",
    ]


def test_bigrams_are_added_from_kept_words() -> None:
    assert tokenize("interest rates of the bank", bigrams=True) == [
        "interest",
        "rates",
        "bank",
        "interest rates",
        "rates bank",
    ]


def test_sequences_become_kmers() -> None:
    seq = "MKTLLILAVVAAALARSSSA"  # 20 letters, no spaces
    toks = tokenize(seq)
    assert toks[:3] == ["MKT", "KTL", "TLL"] and len(toks) == len(seq) - 2


def test_record_text_joins_fields_and_skips_missing() -> None:
    meta = {"organism": "Homo sapiens", "tags": ["a1", "b2"], "n": 3}
    assert record_text(meta, ["organism", "tags", "missing"]) == "Homo sapiens \n a1 \n b2"


def test_empty_classes_give_empty_keywords() -> None:
    assert top_keywords(["", "the of"], [0, 1], [0, 1]) == {0: [], 1: []}
