"""Total work for a JSON Lines feed that grows over time: linear when read like a log.

    python -m bench.feed_growth --n 10000 --chunk 100          # appended lines only
    python -m bench.feed_growth --n 2000 --chunk 100 --whole   # every pass reads it whole

A feed of `n` items (scraped-looking news bodies from bench.corpus) is appended `chunk` lines
at a time; after each append the door decides and the pipeline makes its pass, in this
process, on the real Redis and Elasticsearch (a fresh prefix, removed afterwards). `--whole`
forgets the feed's position before each pass, so every pass takes the file whole, as
dropsift did before feeds were read like a log. Reported: items processed (summed over
passes), bytes read, and this process's CPU seconds (rusage: door and pipeline; Redis and
Elasticsearch work on their own processes), with the CPU of the first and last tenth of the
passes per 1,000 items processed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import time

from bench.corpus import news_documents
from bench.stack import add_service_options, bench_settings, remove
from worker import compose
from worker.enqueue import submit_many
from worker.logs import configure_logging
from worker.pipeline import feeds
from worker.pipeline.batch import process_files
from worker.settings import Settings


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(settings: Settings, n: int, chunk: int, seed: int, whole: bool) -> dict[str, float]:
    ctx = compose.pipeline_context(settings)
    # Enrichment costs the same per item either way: left out, reading shows.
    ctx.config = dataclasses.replace(ctx.config, enrichers=("stats",))
    lines = [
        json.dumps({"title": doc.gold_title or doc.name, "body": doc.text}) + "\n"
        for doc in news_documents(n, seed)
    ]
    feed = settings.inbox / "crawler" / "items.jsonl"
    feed.parent.mkdir(parents=True)
    feed.touch()
    processed = 0
    per_pass: list[tuple[int, float]] = []
    started, cpu_started = time.perf_counter(), _cpu()
    for start in range(0, n, chunk):
        with feed.open("a") as handle:
            handle.writelines(lines[start : start + chunk])
        cpu = _cpu()
        if whole:
            feeds.forget_position(ctx.ledger, str(feed))
        entry = ctx.ledger.get(str(feed))
        before = entry.feed.lines if entry and entry.feed and not whole else 0
        results, failed = submit_many([feed], ctx.ledger, lambda paths: None, root=settings.inbox)
        assert not failed and results[feed] == "queued", (results, failed)
        assert process_files([str(feed)], ctx).states[str(feed)] == "indexed"
        entry = ctx.ledger.get(str(feed))
        assert entry is not None and entry.feed is not None
        items = entry.feed.lines - before
        processed += items
        per_pass.append((items, _cpu() - cpu))
    seconds, cpu_total = time.perf_counter() - started, _cpu() - cpu_started
    read = int(ctx.ledger.r.hget(ctx.ledger.key_of(str(feed)), "feed_bytes_read") or 0)
    tenth = max(1, len(per_pass) // 10)

    def per_thousand(passes: list[tuple[int, float]]) -> float:
        return sum(c for _, c in passes) / max(1, len(passes)) / chunk * 1000

    return {
        "items": n,
        "passes": len(per_pass),
        "processed": processed,
        "size_mb": feed.stat().st_size / 1e6,
        "read_mb": read / 1e6,
        "cpu_s": cpu_total,
        "seconds": seconds,
        "first_tenth_cpu_per_1k": per_thousand(per_pass[:tenth]),
        "last_tenth_cpu_per_1k": per_thousand(per_pass[-tenth:]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--chunk", type=int, default=100, help="lines appended per pass")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--whole", action="store_true", help="read the whole feed every pass")
    add_service_options(parser)
    args = parser.parse_args()
    settings = bench_settings(args, "feed")
    configure_logging("json", "WARNING")
    try:
        result = run(settings, args.n, args.chunk, args.seed, args.whole)
    finally:
        remove(settings)
    mode = "whole file every pass" if args.whole else "appended lines only"
    print(
        f"{mode}: {result['items']} items in {result['passes']} passes of {args.chunk}; "
        f"items processed {result['processed']}, feed {result['size_mb']:.1f} MB, "
        f"read {result['read_mb']:.1f} MB"
    )
    print(
        f"worker CPU {result['cpu_s']:.1f} s ({result['seconds']:.1f} s wall); CPU per 1,000 "
        f"items appended: first tenth {result['first_tenth_cpu_per_1k']:.2f} s, "
        f"last tenth {result['last_tenth_cpu_per_1k']:.2f} s"
    )


if __name__ == "__main__":
    main()
