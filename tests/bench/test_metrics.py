"""The article-extraction metric: shingles, per-document normalisation, averaging."""

from __future__ import annotations

import pytest

from bench.metrics import Counts, match, score, shingles, tokens


def test_tokens_are_word_runs() -> None:
    assert tokens("It's 2019 — U.S. co-founder!") == ["It", "s", "2019", "U", "S", "co", "founder"]


def test_shingles_are_a_multiset_of_word_4grams() -> None:
    grams = shingles("a b c d a b c d")
    assert grams[("a", "b", "c", "d")] == 2
    assert sum(grams.values()) == 5


def test_short_text_is_one_shorter_shingle_and_empty_text_none() -> None:
    assert shingles("only three words") == {("only", "three", "words"): 1}
    assert not shingles("  — ")


def test_perfect_prediction() -> None:
    counts = match("one two three four five", "one two three four five")
    assert counts == Counts(1.0, 0.0, 0.0)
    assert counts.precision == counts.recall == 1.0


def test_counts_are_normalised_by_their_sum() -> None:
    # predicted: 4 shingles, all right; gold: 6 shingles -> TP 4, FP 0, FN 2.
    counts = match("a b c d e f g", "a b c d e f g h i")
    assert counts.tp == pytest.approx(4 / 6)
    assert counts.fn == pytest.approx(2 / 6)
    assert counts.precision == 1.0
    assert counts.recall == pytest.approx(4 / 6)


def test_extra_text_costs_precision_only() -> None:
    counts = match("a b c d e f g h i", "a b c d e f g")
    assert counts.precision == pytest.approx(4 / 6)
    assert counts.recall == 1.0


def test_empty_prediction_counts_for_recall_not_precision() -> None:
    counts = match("", "a b c d e")
    assert counts.precision is None
    assert counts.recall == 0.0


def test_score_averages_per_document_then_takes_f1_of_the_means() -> None:
    result = score(
        [
            ("a b c d e f g h i", "a b c d e f g"),  # P 4/6, R 1
            ("a b c d e f g", "a b c d e f g"),  # P 1, R 1
            ("", "x y z w v"),  # no precision, R 0
        ]
    )
    precision = (4 / 6 + 1) / 2
    recall = (1 + 1 + 0) / 3
    assert result.documents == 3
    assert result.precision == pytest.approx(precision)
    assert result.recall == pytest.approx(recall)
    assert result.f1 == pytest.approx(2 * precision * recall / (precision + recall))


def test_long_and_short_documents_weigh_the_same() -> None:
    long_gold = " ".join(f"w{i}" for i in range(1000))
    result = score([(long_gold, long_gold), ("", "a b c d e")])
    assert result.recall == pytest.approx(0.5)


def test_no_documents() -> None:
    assert score([]).f1 == 0.0
