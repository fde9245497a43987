"""Cost of tasks.clean.clean per plain-text document, on generated news-sized documents.

    python -m bench.clean_cost [--n 500] [--seed 7] [--repeat 3]

Each document is cleaned `repeat` times and its fastest time kept (the machine is shared:
the minimum is the least noisy estimate of a document's own cost); the median and p95 of
those per-document times are printed. A warm-up pass first pays for one-off imports and
dateparser's lazy loading, which no long-running worker pays per document.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from pathlib import Path

from bench.corpus import news_documents
from tasks.clean import clean
from tasks.document import Document

_WARM_UP_DOCS = 20


def percentile(values: Sequence[float], share: float) -> float:
    """The `share` quantile of `values` (nearest rank)."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(share * len(ordered)) - 1))
    return ordered[rank]


def measure(docs: Sequence[Document], repeat: int) -> list[float]:
    """Milliseconds per document: the fastest of `repeat` runs of clean() on each."""
    for doc in docs[:_WARM_UP_DOCS]:
        clean(doc)
    timings = []
    for doc in docs:
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            clean(doc)
            best = min(best, time.perf_counter() - start)
        timings.append(best * 1000)
    return timings


def main(argv: Sequence[str] | None = None) -> None:
    """CLI: print median and p95 ms per document."""
    parser = argparse.ArgumentParser(prog="python -m bench.clean_cost", description=__doc__)
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args(argv)
    generated = list(news_documents(args.n, args.seed, args.data))
    docs = [Document(source=f"/bench/{d.name}.txt", text=d.text) for d in generated]
    timings = measure(docs, args.repeat)
    size = statistics.fmean(len(d.text.encode("utf-8")) for d in docs) / 1000
    print(
        f"clean(): {len(docs)} documents, {size:.1f} KB mean, best of {args.repeat}\n"
        f"  median {statistics.median(timings):.2f} ms/doc, p95 {percentile(timings, 0.95):.2f} "
        f"ms/doc, mean {statistics.fmean(timings):.2f} ms/doc, max {max(timings):.2f} ms/doc"
    )


if __name__ == "__main__":
    main()
