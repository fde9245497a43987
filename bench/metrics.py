"""The article-extraction metric: word 4-gram shingles, per-document normalised counts.

Same definitions as scrapinghub/article-extraction-benchmark's evaluate.py: tokens are `\\w+`
runs (case kept); a text shorter than four tokens is one shorter shingle; per document TP/FP/FN
are divided by their sum; precision is averaged over documents with something predicted,
recall over documents with something to find; F1 comes from the two means.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

_TOKEN = re.compile(r"\w+")
SHINGLE_SIZE = 4

Shingle = tuple[str, ...]


@dataclass(frozen=True)
class Counts:
    """One document's TP/FP/FN shingle counts, normalised to sum to 1 (all 0 if both empty)."""

    tp: float
    fp: float
    fn: float

    @property
    def precision(self) -> float | None:
        """TP / (TP + FP); None when nothing was predicted."""
        if self.tp + self.fp == 0:
            return None
        return 1.0 if self.fp == self.fn == 0 else self.tp / (self.tp + self.fp)

    @property
    def recall(self) -> float | None:
        """TP / (TP + FN); None when there was nothing to find."""
        if self.tp + self.fn == 0:
            return None
        return 1.0 if self.fp == self.fn == 0 else self.tp / (self.tp + self.fn)


@dataclass(frozen=True)
class Score:
    """Precision and recall averaged over documents, and F1 from those two means."""

    precision: float
    recall: float
    f1: float
    documents: int


def tokens(text: str) -> list[str]:
    """The `\\w+` runs of `text`, in order."""
    return _TOKEN.findall(text)


def shingles(text: str, size: int = SHINGLE_SIZE) -> Counter[Shingle]:
    """The multiset of word `size`-grams of `text` (one shorter shingle for a short text)."""
    words = tokens(text)
    if len(words) < size:
        return Counter([tuple(words)] if words else [])
    return Counter(tuple(words[i : i + size]) for i in range(len(words) - size + 1))


def match(predicted: str, gold: str) -> Counts:
    """Normalised TP/FP/FN of the predicted body's shingles against the gold body's."""
    pred, true = shingles(predicted), shingles(gold)
    tp = sum((pred & true).values())
    fp = sum((pred - true).values())
    fn = sum((true - pred).values())
    total = tp + fp + fn
    if total == 0:
        return Counts(0.0, 0.0, 0.0)
    return Counts(tp / total, fp / total, fn / total)


def score(pairs: Iterable[tuple[str, str]]) -> Score:
    """Score (predicted, gold) body pairs: per-document P and R averaged, F1 from the means."""
    counts = [match(predicted, gold) for predicted, gold in pairs]
    precisions = [p for c in counts if (p := c.precision) is not None]
    recalls = [r for c in counts if (r := c.recall) is not None]
    precision = sum(precisions) / len(precisions) if precisions else 0.0
    recall = sum(recalls) / len(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(precision, recall, f1, len(counts))
