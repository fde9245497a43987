"""Throughput from inbox to searchable, and the fast-path ratio against a plain bulk load.

    python -m bench.throughput --n 5000                  # full pipeline, all enrichers
    python -m bench.throughput --n 5000 --fast-path      # clean + dedupe + language, and the
                                                         # same documents via helpers.bulk

Runs on the local stack (`dropsift stack up`): a real watcher, a real Celery worker process,
real Redis and Elasticsearch, on a fresh index and Redis database that are removed afterwards.
The clock starts when the files are renamed into the inbox and stops when every file has its
final state in the ledger and every indexed document answers a search.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import redis
from elasticsearch import Elasticsearch, helpers

from bench.corpus import news_documents, write
from search.client import make_client
from search.index import drop_all
from search.mapping import MAPPINGS, SETTINGS
from worker import compose
from worker.celery_app import celery_app
from worker.pipeline.states import TERMINAL
from worker.settings import PROJECT_ROOT, Settings

FAST_PATH_ENRICHERS = '["language", "stats"]'


def _worker(env: dict[str, str], log: Path, concurrency: int, app: Any) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "worker.cli", "worker", "--concurrency", str(concurrency)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 120
    while not app.control.ping(timeout=0.5):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"worker did not start:\n{log.read_text()[-3000:]}")
    return proc


def _peak_rss_mb(pid: int) -> float:
    """Peak RSS of a process and its children, from /proc (VmHWM), in MB."""
    total = 0.0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(c) for c in children.read_text().split()]
    for p in pids:
        status = Path(f"/proc/{p}/status")
        if status.exists():
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total = max(total, int(line.split()[1]) / 1024)
    return total


def pipeline_run(
    files: list[Path], settings: Settings, env: dict[str, str], concurrency: int, workdir: Path
) -> dict[str, Any]:
    """Rename the files into the inbox under a running watcher and worker; time to searchable."""
    client = compose.redis_client(settings)
    es = compose.es_client(settings, timeout=60)
    compose.index_sink(settings, es).ensure()
    ledger = compose.ledger(settings, client)
    app = celery_app(settings)
    worker = _worker(env, workdir / "worker.log", concurrency, app)
    stop = threading.Event()
    watcher = compose.watcher(settings)
    thread = threading.Thread(target=watcher.run, args=(stop,), daemon=True)
    thread.start()
    time.sleep(1)
    try:
        started = time.monotonic()
        targets = []
        for path in files:
            target = settings.inbox / path.name
            path.rename(target)
            targets.append(str(target))
        waiting = list(targets)
        while waiting:
            # One pipelined round trip a second: the bench must not load the box it measures.
            pipe = client.pipeline(transaction=False)
            for key in waiting:
                pipe.hget(ledger.key_of(key), "state")
            polled = pipe.execute()
            waiting = [k for k, state in zip(waiting, polled, strict=True) if state not in TERMINAL]
            time.sleep(1.0)
        entries = [ledger.get(k) for k in targets]
        indexed = {e.doc_id for e in entries if e is not None and e.state == "indexed"}
        while es.count(index=settings.alias)["count"] < len(indexed):
            time.sleep(0.05)
        seconds = time.monotonic() - started
        rss = _peak_rss_mb(worker.pid)
    finally:
        stop.set()
        thread.join(timeout=10)
        os.killpg(worker.pid, 15)
        worker.wait(timeout=60)
    counts: dict[str, int] = {}
    for e in entries:
        if e is not None:
            counts[e.state] = counts.get(e.state, 0) + 1
    return {
        "files": len(files),
        "seconds": seconds,
        "docs_per_s": len(files) / seconds,
        "states": counts,
        "worker_peak_rss_mb": rss,
    }


def bulk_run(files: list[Path], es: Elasticsearch, index: str) -> dict[str, Any]:
    """The same documents, as they are, straight into a fresh index with helpers.bulk."""
    es.options(ignore_status=404).indices.delete(index=index)
    mappings = {**MAPPINGS, "dynamic": "true"}
    es.indices.create(index=index, mappings=mappings, settings=SETTINGS)
    texts = [(p.name, p.read_text(errors="replace")) for p in files]
    started = time.monotonic()
    helpers.bulk(
        es,
        (
            {"_index": index, "_id": name, "_source": {"title": name, "body": text}}
            for name, text in texts
        ),
        chunk_size=500,
    )
    while es.count(index=index)["count"] < len(texts):
        time.sleep(0.05)
    seconds = time.monotonic() - started
    es.indices.delete(index=index)
    return {"files": len(texts), "seconds": seconds, "docs_per_s": len(texts) / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument(
        "--fast-path",
        action="store_true",
        help="no entities or keywords; also time a plain helpers.bulk load",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--es-url", default="http://127.0.0.1:9200")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="dropsift-bench-"))
    prefix = f"bench-{uuid.uuid4().hex[:6]}"
    settings = Settings(
        redis_url=args.redis_url,
        es_url=args.es_url,
        index_prefix=prefix,
        state_dir=workdir,
        inbox=workdir / "inbox",
        stable_seconds=0.2,
        rescan_seconds=600,
        batch_size=args.batch_size,
    )
    settings.inbox.mkdir()
    env = {
        **os.environ,
        "DROPSIFT_REDIS_URL": settings.redis_url,
        "DROPSIFT_ES_URL": settings.es_url,
        "DROPSIFT_INDEX_PREFIX": prefix,
        "DROPSIFT_INBOX": str(settings.inbox),
        "DROPSIFT_STATE_DIR": str(workdir),
        "DROPSIFT_LOG_LEVEL": "WARNING",
        "DROPSIFT_LOG_FORMAT": "json",
    }
    if args.fast_path:
        env["DROPSIFT_ENRICHERS"] = FAST_PATH_ENRICHERS
    print(f"generating {args.n} documents (seed {args.seed})", flush=True)
    staged = write(list(news_documents(args.n, args.seed)), workdir / "staged")
    size_kb = sum(p.stat().st_size for p in staged) / len(staged) / 1024
    es = make_client(settings.es_url, request_timeout=120)
    try:
        baseline = None
        if args.fast_path:
            baseline = bulk_run(staged, es, f"{prefix}-plain-bulk")
        result = pipeline_run(staged, settings, env, args.concurrency, workdir)
    finally:
        drop_all(es, settings.alias)
        client = redis.Redis.from_url(settings.redis_url)
        keys = [
            *client.scan_iter(f"{prefix}*", count=1000),
            f"_kombu.binding.{prefix}",
            f"_kombu.binding_permanent.{prefix}",
        ]
        client.delete(*keys)
        shutil.rmtree(workdir, ignore_errors=True)
    mode = "fast path (clean + dedupe + language)" if args.fast_path else "full pipeline"
    print(
        f"{args.n} documents, {size_kb:.1f} KB average, concurrency {args.concurrency}, "
        f"batch {args.batch_size}, {os.cpu_count()} cores"
    )
    print(
        f"dropsift {mode}: {result['docs_per_s']:.1f} docs/s ({result['seconds']:.1f} s), "
        f"states {result['states']}, worker peak RSS {result['worker_peak_rss_mb']:.0f} MB"
    )
    if baseline:
        print(
            f"helpers.bulk, same documents: {baseline['docs_per_s']:.1f} docs/s "
            f"({baseline['seconds']:.1f} s)"
        )
        print(f"fast-path ratio: {result['docs_per_s'] / baseline['docs_per_s']:.2f}")
    print(
        f"bench process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )


if __name__ == "__main__":
    main()
