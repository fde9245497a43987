"""Plain-text cleaning quality: tasks.clean.clean on labelled generated documents.

    python -m bench.text_quality [--n 60] [--seed 7] [--show 5]

Body metric, per document: tokens are `\\w+` runs (case kept), so whitespace, line breaks and
punctuation never count; the predicted body and the gold body become token multisets P and G;
precision = |P ∩ G| / |P| and recall = |P ∩ G| / |G| (multiset intersection, so a paragraph
kept twice costs precision). An empty prediction has precision 1; an empty gold, recall 1.
Both are averaged over documents. A hard wrap or a sentence cut by a blank line changes no
token, so it costs nothing once the pieces are kept; whether they were re-joined shows in
"paragraphs intact": the share of gold paragraphs found as one predicted paragraph (same
token sequence).

Fields: title accuracy counts a document right when the planted title line is the title, or,
with no title line planted, when no line of the text was taken as one (title_from != "text").
Date accuracy: the planted publication date (wall-clock, zone ignored) is `published`, or
nothing is when none was planted. Author likewise, for planted bylines.

The per-noise-kind table averages the same figures over the documents carrying each kind.
"""

from __future__ import annotations

import argparse
import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.corpus import LabelledDoc, generate_labelled
from tasks.clean import clean
from tasks.document import Document

_TOKEN = re.compile(r"\w+")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


@dataclass(frozen=True)
class DocScore:
    """One document's figures."""

    doc: LabelledDoc
    cleaned: Document
    precision: float
    recall: float
    intact: float
    title_ok: bool
    date_ok: bool
    author_ok: bool
    missing: Counter[str]
    extra: Counter[str]


@dataclass(frozen=True)
class Summary:
    """Figures averaged over a set of documents."""

    documents: int
    precision: float
    recall: float
    intact: float
    title: float
    date: float
    author: float


def tokens(text: str) -> Counter[str]:
    """The multiset of `\\w+` tokens of `text`."""
    return Counter(_TOKEN.findall(text))


def _paragraph_keys(text: str) -> list[tuple[str, ...]]:
    """Each paragraph as its token sequence."""
    return [tuple(_TOKEN.findall(p)) for p in _PARAGRAPH_BREAK.split(text) if _TOKEN.search(p)]


def body_scores(predicted_body: str, gold_body: str) -> tuple[float, float]:
    """(precision, recall) of a predicted body's tokens against the gold body's."""
    predicted, gold = tokens(predicted_body), tokens(gold_body)
    common = sum((predicted & gold).values())
    pred_total, gold_total = sum(predicted.values()), sum(gold.values())
    return (common / pred_total if pred_total else 1.0, common / gold_total if gold_total else 1.0)


def score_document(doc: LabelledDoc) -> DocScore:
    """Clean one labelled document and compare it with its gold."""
    cleaned = clean(Document(source=f"/bench/{doc.name}.txt", text=doc.text))
    predicted, gold = tokens(cleaned.body), tokens(doc.gold_body)
    precision, recall = body_scores(cleaned.body, doc.gold_body)
    gold_paragraphs = _paragraph_keys(doc.gold_body)
    found = Counter(_paragraph_keys(cleaned.body))
    intact = sum(1 for key in gold_paragraphs if found[key] > 0)

    if doc.gold_title is not None:
        title_ok = cleaned.title == doc.gold_title and cleaned.title_from == "text"
    else:
        title_ok = cleaned.title_from != "text"
    published = cleaned.published.replace(tzinfo=None) if cleaned.published else None
    return DocScore(
        doc=doc,
        cleaned=cleaned,
        precision=precision,
        recall=recall,
        intact=intact / len(gold_paragraphs) if gold_paragraphs else 1.0,
        title_ok=title_ok,
        date_ok=published == doc.gold_published,
        author_ok=cleaned.author == doc.gold_author,
        missing=gold - predicted,
        extra=predicted - gold,
    )


def summarise(scores: Sequence[DocScore]) -> Summary:
    """Average the per-document figures."""

    def mean(values: Sequence[float]) -> float:
        return statistics.fmean(values) if values else float("nan")

    return Summary(
        documents=len(scores),
        precision=mean([s.precision for s in scores]),
        recall=mean([s.recall for s in scores]),
        intact=mean([s.intact for s in scores]),
        title=mean([float(s.title_ok) for s in scores]),
        date=mean([float(s.date_ok) for s in scores]),
        author=mean([float(s.author_ok) for s in scores]),
    )


def evaluate(n: int, seed: int, data_dir: Path | None = None) -> list[DocScore]:
    """Score `n` generated documents."""
    return [score_document(doc) for doc in generate_labelled(n, seed, data_dir)]


def by_noise(scores: Sequence[DocScore]) -> dict[str, Summary]:
    """Summaries per noise kind, over the documents carrying it."""
    kinds = sorted({kind for s in scores for kind in s.doc.noise})
    return {kind: summarise([s for s in scores if kind in s.doc.noise]) for kind in kinds}


def _row(label: str, summary: Summary) -> str:
    return (
        f"{label:<18}{summary.documents:>5}{summary.precision:>10.4f}{summary.recall:>10.4f}"
        f"{summary.intact:>9.3f}{summary.title:>8.3f}{summary.date:>8.3f}{summary.author:>8.3f}"
    )


def report(scores: Sequence[DocScore], show: int = 0) -> str:
    """The figures as text: overall, per noise kind, and the `show` worst documents."""
    header = f"{'':<18}{'docs':>5}{'precision':>10}{'recall':>10}{'intact':>9}"
    header += f"{'title':>8}{'date':>8}{'author':>8}"
    lines = [header, _row("all", summarise(scores)), ""]
    lines += [_row(kind, summary) for kind, summary in by_noise(scores).items()]
    worst = sorted(scores, key=lambda s: (min(s.precision, s.recall), s.intact))[:show]
    for s in worst:
        lines += [
            "",
            f"{s.doc.name}  P={s.precision:.4f} R={s.recall:.4f} intact={s.intact:.3f} "
            f"noise={','.join(s.doc.noise)}",
            f"  title: {s.cleaned.title!r} ({s.cleaned.title_from}) gold {s.doc.gold_title!r}",
            f"  date: {s.cleaned.published} gold {s.doc.gold_published}",
            f"  missing: {dict(s.missing.most_common(12))}",
            f"  extra: {dict(s.extra.most_common(12))}",
        ]
        for reason, removed in s.cleaned.cleaning["removed"].items():
            lines.append(f"  removed {reason}: {[r[:60] for r in removed][:8]}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """CLI: print the figures for a seeded labelled set."""
    parser = argparse.ArgumentParser(prog="python -m bench.text_quality", description=__doc__)
    parser.add_argument("--n", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--show", type=int, default=0, help="print the N worst documents")
    args = parser.parse_args(argv)
    print(report(evaluate(args.n, args.seed, args.data), args.show))


if __name__ == "__main__":
    main()
