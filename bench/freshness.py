"""Freshness: from a file renamed into the inbox to its first search hit, and to enriched.

    python -m bench.freshness [--rate 20] [--seconds 60]

The full pipeline as `dropsift up` runs it: a `dropsift watch` process, a phase 1 worker and
a phase 2 worker (niced), on the local stack's Redis and Elasticsearch with a prefix of their
own that is removed afterwards. Generated news documents (bench.corpus) are renamed into
the inbox at a steady rate; a poller searches every 100 ms for the documents of the files
dropped and not yet seen (by their `sources`), so "searchable" is what a search sees (after
Elasticsearch's refresh), and "enriched" is the first search hit that carries
`enriched: true`. Prints p50, p95 and max of both, and the load of the machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time

from bench.corpus import news_documents, write
from bench.processes import layout, private_stack
from worker import compose
from worker.settings import PROJECT_ROOT, Settings

POLL_SECONDS = 0.1


def _percentiles(values: list[float]) -> str:
    if not values:
        return "none"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return (
        f"p50 {statistics.median(ordered):.2f} s, p95 {p95:.2f} s, max {ordered[-1]:.2f} s "
        f"({len(ordered)} files)"
    )


def _poll(
    settings: Settings,
    dropped: dict[str, float],
    seen: dict[str, float],
    enriched: dict[str, float],
    stop: threading.Event,
) -> None:
    """Search for the dropped files' documents until told to stop."""
    es = compose.es_client(settings)
    while not stop.is_set():
        now = time.time()
        waiting = [p for p in list(dropped) if p not in enriched]
        for start in range(0, len(waiting), 500):
            chunk = waiting[start : start + 500]
            hits = es.search(
                index=settings.alias,
                size=1000,
                query={"terms": {"sources": chunk}},
                source_includes=["sources", "enriched"],
            )["hits"]["hits"]
            for hit in hits:
                for source in hit["_source"].get("sources", []):
                    if source in dropped:
                        seen.setdefault(source, now - dropped[source])
                        if hit["_source"].get("enriched"):
                            enriched.setdefault(source, now - dropped[source])
        stop.wait(POLL_SECONDS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=20.0, help="files per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--concurrency", type=int, default=2, help="phase 2 processes")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--es-url", default="http://127.0.0.1:9200")
    args = parser.parse_args()
    n = int(args.rate * args.seconds)
    print(f"load before: {os.getloadavg()[0]:.2f}; {os.cpu_count()} cores", flush=True)
    with private_stack(args.redis_url, args.es_url, batch_size=16) as (settings, env, workdir):
        # Written under temporary names inside the inbox, then renamed into place: what the
        # README asks of scrapers (a rename from another folder looks like a new file).
        staged = []
        for path in write(list(news_documents(n, args.seed)), workdir / "staged"):
            staged.append(path.rename(settings.inbox / f".{path.name}.part"))
        compose.index_sink(settings).ensure()
        log = workdir / "processes.log"
        workers = layout(settings, env, log, "split", args.concurrency)
        with open(log, "ab") as out:
            watcher = subprocess.Popen(
                [sys.executable, "-m", "worker.cli", "watch"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=PROJECT_ROOT,
                start_new_session=True,
            )
        dropped: dict[str, float] = {}
        seen: dict[str, float] = {}
        enriched: dict[str, float] = {}
        stop = threading.Event()
        poller = threading.Thread(target=_poll, args=(settings, dropped, seen, enriched, stop))
        try:
            time.sleep(3)  # the watcher's first scan
            poller.start()
            started = time.monotonic()
            for i, path in enumerate(staged):
                # A steady rate: each file at its own moment, however long the last took.
                time.sleep(max(0.0, started + i / args.rate - time.monotonic()))
                target = settings.inbox / path.name.removeprefix(".").removesuffix(".part")
                path.rename(target)
                dropped[str(target)] = time.time()
            deadline = time.monotonic() + 300
            while len(enriched) < len(dropped) and time.monotonic() < deadline:
                time.sleep(0.5)
            # When phase 1 recorded each file: the rest of "searchable" is the index refresh.
            ledger = compose.ledger(settings)
            entries = {p: ledger.get(p) for p in dropped}
            indexed = [e.updated_at - dropped[p] for p, e in entries.items() if e is not None]
        finally:
            stop.set()
            if poller.is_alive():
                poller.join(timeout=10)
            watcher.terminate()
            watcher.wait(timeout=30)
            for worker in workers:
                worker.stop()
    print(f"{n} files renamed into the inbox at {args.rate:g}/s for {args.seconds:g} s")
    print(f"drop -> indexed (ledger): {_percentiles(indexed)}")
    print(f"drop -> searchable: {_percentiles(list(seen.values()))}")
    print(f"drop -> enriched:   {_percentiles(list(enriched.values()))}")
    missing = len(dropped) - len(enriched)
    if missing:
        print(f"{missing} files not enriched within the wait")
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
