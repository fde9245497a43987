"""The relevance benchmark's metrics, labelling rule and query set."""

from __future__ import annotations

import math

import pytest

from bench.relevance import (
    Query,
    documents,
    is_relevant,
    labels,
    load_queries,
    ndcg_at_k,
    recall_at_k,
    words,
)


def test_ndcg_and_recall() -> None:
    assert ndcg_at_k(["a", "b", "c"], {"a", "b"}) == 1.0
    assert ndcg_at_k(["x", "a"], {"a"}) == pytest.approx(1 / math.log2(3))
    assert ndcg_at_k(["x", "y"], {"a"}) == 0.0
    assert recall_at_k(["a", "x"], {"a", "b"}) == 0.5
    assert recall_at_k([f"d{i}" for i in range(20)], {"d15"}) == 0.0  # past the tenth hit


def test_words_fold_case_and_diacritics() -> None:
    assert words("Erdoğan's Straße, Ærø Jelić") == ["erdogan", "s", "strasse", "aero", "jelic"]


def test_relevance_rule_needs_every_group_or_the_phrase() -> None:
    tokens = words("Peace talks resumed; the negotiators talked")
    vocab = set(tokens)
    assert is_relevant(Query("talk", "x", (("talk", "talks"),)), tokens, vocab)
    assert not is_relevant(Query("x", "x", (("talks",), ("war",))), tokens, vocab)
    assert is_relevant(Query("x", "x", phrase=("peace", "talks")), tokens, vocab)
    assert not is_relevant(Query("x", "x", phrase=("talks", "peace")), tokens, vocab)


def test_every_query_of_the_set_has_relevant_documents() -> None:
    queries = load_queries()
    assert {q.kind for q in queries} == {"inflection", "typo", "diacritics", "phrase", "multi_word"}
    found = labels(queries, documents())
    assert all(found[q.q] for q in queries)
