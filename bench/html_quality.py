"""HTML article extraction: trafilatura alone vs dropsift's extract_html → clean, same pages.

    python -m bench.html_quality [--data DIR] [--split dev] [--repeats 3]

Prints precision / recall / F1 (bench.metrics, the article-extraction benchmark's metric) and
ms per page for each system, measured in the same run. Timing takes the fastest of `repeats`
passes, systems interleaved pass by pass, because this machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import trafilatura

from bench.metrics import Score, score
from tasks.clean import clean
from tasks.errors import Rejected
from tasks.formats.html import extract_html

REPO = Path(__file__).resolve().parent.parent
BENCHMARK = "article-extraction"


@dataclass(frozen=True)
class Page:
    """One benchmark page: its id, decoded HTML and gold article body."""

    id: str
    html: str
    gold: str


@dataclass(frozen=True)
class Result:
    """A system's score on the pages and its best time per page."""

    name: str
    score: Score
    ms_per_page: float


def default_data_dir() -> Path:
    """$DROPSIFT_BENCH_DATA, else the shared data folder beside the repository."""
    return Path(os.environ.get("DROPSIFT_BENCH_DATA") or REPO.parent / "shared" / "data")


def split_dir(data_dir: Path, split: str = "dev") -> Path:
    """The folder of one split of the article-extraction benchmark."""
    return data_dir / BENCHMARK / split


def load_pages(data_dir: Path, split: str = "dev") -> list[Page]:
    """The split's pages with their gold bodies, sorted by id."""
    folder = split_dir(data_dir, split)
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for page_id in sorted(truth):
        raw = gzip.decompress((folder / "html" / f"{page_id}.html.gz").read_bytes())
        html = raw.decode("utf-8", errors="replace")
        pages.append(Page(page_id, html, truth[page_id].get("articleBody") or ""))
    return pages


def trafilatura_body(page: Page) -> str:
    """trafilatura 2.3.1 on its own, as the benchmark README runs it."""
    return trafilatura.extract(page.html, include_comments=False) or ""


def dropsift_body(page: Page) -> str:
    """The body the pipeline indexes: extract_html, then the cleaning stage."""
    try:
        return clean(extract_html(page.id, page.html)).body
    except Rejected:
        return ""


def extract_only(page: Page) -> str:
    """extract_html alone (its text before cleaning), for the extraction cost."""
    try:
        return extract_html(page.id, page.html).text
    except Rejected:
        return ""


SYSTEMS: dict[str, Callable[[Page], str]] = {
    "trafilatura": trafilatura_body,
    "dropsift": dropsift_body,
    "dropsift extract_html only": extract_only,
}


def evaluate(pages: Sequence[Page], repeats: int = 1) -> list[Result]:
    """Score every system on `pages`; time each as its fastest pass out of `repeats`."""
    best = dict.fromkeys(SYSTEMS, float("inf"))
    outputs: dict[str, list[str]] = {}
    for _ in range(max(1, repeats)):
        for name, system in SYSTEMS.items():
            started = time.perf_counter()
            outputs[name] = [system(page) for page in pages]
            best[name] = min(best[name], time.perf_counter() - started)
    golds = [page.gold for page in pages]
    return [
        Result(name, score(zip(outputs[name], golds, strict=True)), 1000 * best[name] / len(pages))
        for name in SYSTEMS
    ]


def report(results: Sequence[Result], pages: int) -> str:
    """A plain table of the results."""
    lines = [
        f"{pages} pages",
        f"{'system':<28} {'precision':>9} {'recall':>7} {'F1':>7} {'ms/page':>8}",
    ]
    for result in results:
        s = result.score
        lines.append(
            f"{result.name:<28} {s.precision:>9.4f} {s.recall:>7.4f} {s.f1:>7.4f}"
            f" {result.ms_per_page:>8.1f}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=default_data_dir(), help="data folder")
    parser.add_argument("--split", default="dev", help="benchmark split (default: dev)")
    parser.add_argument("--repeats", type=int, default=3, help="timing passes (best counts)")
    args = parser.parse_args(argv)
    folder = split_dir(args.data, args.split)
    if not folder.is_dir():
        parser.error(f"no benchmark data at {folder} (set --data or $DROPSIFT_BENCH_DATA)")
    pages = load_pages(args.data, args.split)
    print(report(evaluate(pages, args.repeats), len(pages)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
