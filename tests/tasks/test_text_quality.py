"""Quality gate: plain-text cleaning on the seeded labelled set stays above pinned floors."""

from __future__ import annotations

import pytest

from bench.corpus import ground_truth_path
from bench.text_quality import DocScore, body_scores, evaluate, summarise

# Reached on (n=60, seed=7): precision 0.9993, recall 0.9938, title 1.000, date 1.000.
# Floors sit a little under, so a rule change that costs quality fails here.
N_DOCS = 60
SEED = 7
PRECISION_FLOOR = 0.99
RECALL_FLOOR = 0.985
TITLE_FLOOR = 0.95
DATE_FLOOR = 0.95


@pytest.fixture(scope="module")
def scores() -> list[DocScore]:
    """The labelled set cleaned and scored (skipped without the benchmark data)."""
    if not ground_truth_path().exists():
        pytest.skip(
            f"benchmark data not found at {ground_truth_path()} (set DROPSIFT_BENCH_DATA): "
            "the article-extraction dev set is evaluation data, not part of the product"
        )
    return evaluate(N_DOCS, SEED)


def test_body_precision_and_recall_above_floor(scores: list[DocScore]) -> None:
    """Kept text is the article (precision) and all of it (recall)."""
    summary = summarise(scores)
    assert summary.documents == N_DOCS
    assert summary.precision >= PRECISION_FLOOR, summary
    assert summary.recall >= RECALL_FLOOR, summary


def test_title_and_date_above_floor(scores: list[DocScore]) -> None:
    """Planted title and date lines are found; none is invented where none was planted."""
    summary = summarise(scores)
    assert summary.title >= TITLE_FLOOR, summary
    assert summary.date >= DATE_FLOOR, summary


def test_metric_ignores_layout_and_counts_duplicates() -> None:
    """Line breaks and punctuation cost nothing; a body kept twice halves precision."""
    gold = "The council met on Tuesday.\n\nIt approved the budget."
    assert body_scores("The council met\non Tuesday. It approved the budget", gold) == (1.0, 1.0)
    assert body_scores(gold + "\n\n" + gold, gold) == (0.5, 1.0)
    assert body_scores("", gold) == (1.0, 0.0)
    assert body_scores("The council met on Tuesday.", gold)[1] == pytest.approx(5 / 9)
