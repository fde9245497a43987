"""Quality gate: the pipeline's HTML bodies on the article-extraction dev split.

The pages are evaluation data, not part of the product: without them the gate is skipped.
Run `python -m bench.html_quality` for the full table with timings.
"""

from __future__ import annotations

import pytest

from bench.html_quality import (
    default_data_dir,
    dropsift_body,
    load_pages,
    split_dir,
    trafilatura_body,
)
from bench.metrics import score

# Reached 0.9795 (P 0.9887, R 0.9706) on the dev split; trafilatura alone 0.9619.
F1_FLOOR = 0.975
DEV_PAGES = 61


def test_pipeline_html_f1_on_dev_split() -> None:
    data_dir = default_data_dir()
    if not split_dir(data_dir).is_dir():
        pytest.skip(
            f"article-extraction dev split not found under {data_dir} "
            "(set $DROPSIFT_BENCH_DATA to the shared data folder)"
        )
    pages = load_pages(data_dir)
    assert len(pages) == DEV_PAGES
    golds = [page.gold for page in pages]
    ours = score(zip([dropsift_body(page) for page in pages], golds, strict=True))
    alone = score(zip([trafilatura_body(page) for page in pages], golds, strict=True))
    summary = (
        f"dropsift F1 {ours.f1:.4f} (P {ours.precision:.4f} R {ours.recall:.4f}); "
        f"trafilatura alone F1 {alone.f1:.4f} (P {alone.precision:.4f} R {alone.recall:.4f})"
    )
    assert ours.f1 >= F1_FLOOR, summary
    assert ours.f1 > alone.f1, summary
