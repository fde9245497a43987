"""Phase 1 in this process, profiled: CPU per document and where it goes.

    python -m bench.fast_path_profile [--n 1000] [--batch-size 32] [--top 30] [--phase2]

Generated news documents (bench.corpus) through process_files in batches, as a worker runs
them (phase 1 only: language and stats, no phase 2), on the local stack's Redis and
Elasticsearch with a prefix of their own that is removed afterwards. Prints this process's
CPU per document (the pipeline's share; Elasticsearch's is its own process) and the
cProfile functions that cost most, cumulative and own time. `--phase2` profiles phase 2 of
the documents phase 1 indexed.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import pstats
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from bench.corpus import news_documents, write
from worker import compose
from worker.logs import configure_logging
from worker.pipeline.batch import process_files
from worker.pipeline.enrichment import enrich_documents
from worker.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--phase2", action="store_true", help="profile phase 2 instead")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args()
    configure_logging("json", "WARNING")  # as the throughput bench runs its workers

    workdir = Path(tempfile.mkdtemp(prefix="dropsift-profile-"))
    prefix = f"bench-{uuid.uuid4().hex[:6]}"
    settings = Settings(
        redis_url=args.redis_url,
        index_prefix=prefix,
        state_dir=workdir,
        inbox=workdir / "inbox",
        enrichers=["language", "stats", "summary", "keywords", "entities"]
        if args.phase2
        else ["language", "stats"],
    )
    paths = [str(p) for p in write(list(news_documents(args.n, args.seed)), settings.inbox)]
    client = compose.redis_client(settings)
    es = compose.es_client(settings)
    ctx = compose.pipeline_context(settings, client=client, es=es)
    late = ctx.config.late_enrichers
    handed: list[str] = []
    ctx.config = dataclasses.replace(ctx.config, late_enrichers=late if args.phase2 else ())
    ctx.enrich_later = handed.extend
    work: list[list[str]] = []
    batches = [paths[i : i + args.batch_size] for i in range(0, len(paths), args.batch_size)]
    try:
        process_files(batches[0], ctx)  # warm-up: models loaded, scripts cached
        profile = cProfile.Profile()
        if args.phase2:
            enrich_documents(handed, ctx)
            for batch in batches[1:]:
                handed.clear()
                process_files(batch, ctx)
                work.append(list(handed))
        cpu, wall = time.process_time(), time.perf_counter()
        profile.enable()
        for batch in work if args.phase2 else batches[1:]:
            if args.phase2:
                enrich_documents(batch, ctx)
            else:
                process_files(batch, ctx)
        profile.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        compose.remove_prefix(settings, client, es)
        shutil.rmtree(workdir, ignore_errors=True)
    n = sum(len(b) for b in (work if args.phase2 else batches[1:]))
    print(
        f"{n} documents in batches of {args.batch_size}: {cpu / n * 1000:.2f} ms CPU and "
        f"{wall / n * 1000:.2f} ms wall per document in this process (profiler overhead in)"
    )
    stats = pstats.Stats(profile)
    stats.sort_stats("cumulative").print_stats(args.top)
    stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
