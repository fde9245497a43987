"""Push throughput: items per second accepted by `POST /api/documents`, and to searchable,
against dropping the same items as JSON Lines files into the inbox.

    python -m bench.push_throughput --n 2000 --batch 100

Runs on the local stack: a real Celery worker process (fast path: language and stats, so the
ingestion paths show rather than the entity model), a real watcher, the API served by
uvicorn on 127.0.0.1, real Redis and Elasticsearch on a fresh prefix removed afterwards. The
same `n` items (scraped-looking news bodies from bench.corpus) go in twice, in batches of
`batch`: pushed (one POST per batch), then, from a clean state, written as one JSON Lines file
per batch (to a temporary name, renamed into place). Accepted: the last 202, or the last
rename. Searchable: every item has its final state in the ledger, and the index is refreshed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import threading
import time
from pathlib import Path
from typing import Any

import redis
import urllib3
import uvicorn
from pydantic import SecretStr

from bench.corpus import news_documents
from bench.processes import start_worker, wait_ready
from bench.stack import add_service_options, bench_settings, remove, stack_env
from bench.throughput import FAST_PATH_ENRICHERS
from search.index import drop_all, ensure_index
from tasks.source import ItemRef
from worker import compose
from worker.pipeline.states import TERMINAL
from worker.push import PUSH_FOLDER, push_file
from worker.settings import Settings

KEY = "bench-key"


def _searchable(
    settings: Settings, es: Any, sources: list[str], started: float, timeout: float = 900
) -> float:
    """Seconds from `started` until every item is settled in the ledger and searchable."""
    ledger = compose.ledger(settings)
    waiting = list(sources)
    while waiting:
        if time.perf_counter() - started > timeout:
            raise RuntimeError(f"{len(waiting)} items not settled after {timeout} s")
        pipe = ledger.r.pipeline(transaction=False)
        for source in waiting:
            pipe.hget(ledger.key_of(source), "state")
        states = pipe.execute()
        waiting = [s for s, state in zip(waiting, states, strict=True) if state not in _FINAL]
        time.sleep(0.1)
    es.indices.refresh(index=settings.alias)
    return time.perf_counter() - started


_FINAL = {str(state) for state in TERMINAL}


def push(batches: list[list[dict[str, Any]]], url: str, folder: Path) -> tuple[float, list[str]]:
    """POST each batch; the seconds until the last 202, and the items' sources."""
    http = urllib3.PoolManager()
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    sources: list[str] = []
    started = time.perf_counter()
    for batch in batches:
        answer = http.request("POST", url, body=json.dumps(batch).encode(), headers=headers)
        assert answer.status == 202, answer.data[:300]
        path = push_file(folder, json.loads(answer.data)["push_id"])
        sources.extend(str(ItemRef.line(str(path), n)) for n in range(1, len(batch) + 1))
    return time.perf_counter() - started, sources


def drop(batches: list[list[dict[str, Any]]], folder: Path) -> tuple[float, list[str]]:
    """Write each batch as a JSON Lines file, renamed into place; seconds until the last."""
    folder.mkdir(parents=True, exist_ok=True)
    sources: list[str] = []
    started = time.perf_counter()
    for number, batch in enumerate(batches):
        temp = folder / f".batch-{number}.jsonl"
        temp.write_text("".join(json.dumps(item) + "\n" for item in batch))
        path = folder / f"batch-{number}.jsonl"
        os.rename(temp, path)
        sources.extend(str(ItemRef.line(str(path), n)) for n in range(1, len(batch) + 1))
    return time.perf_counter() - started, sources


def _reset(settings: Settings, client: redis.Redis, es: Any) -> None:
    # The inbox itself stays: the watcher's inotify watch is on it.
    for folder in settings.inbox.iterdir():
        shutil.rmtree(folder, ignore_errors=True)
    keys = list(client.scan_iter(f"{settings.index_prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
    drop_all(es, settings.alias)
    ensure_index(es, settings.alias)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    add_service_options(parser)
    args = parser.parse_args()
    settings = bench_settings(
        args,
        "push",
        stable_seconds=0.2,
        rescan_seconds=600,
        api_key=SecretStr(KEY),
        enrichers=json.loads(FAST_PATH_ENRICHERS),
    )
    env = stack_env(settings, DROPSIFT_ENRICHERS=FAST_PATH_ENRICHERS)
    items = [
        {"title": doc.gold_title or doc.name, "body": doc.text}
        for doc in news_documents(args.n, args.seed)
    ]
    batches = [items[i : i + args.batch] for i in range(0, len(items), args.batch)]
    es = compose.es_client(settings, timeout=120)
    client = redis.Redis.from_url(settings.redis_url)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(compose.api_app(settings, es), host="127.0.0.1", port=port, log_config=None)
    )
    stop = threading.Event()
    results: dict[str, tuple[float, float]] = {}
    worker = None
    try:
        _reset(settings, client, es)
        log = settings.state_dir / "worker.log"
        worker = start_worker(env, log, phase="all", concurrency=2)
        wait_ready(settings, [worker], log)
        threading.Thread(target=server.run, daemon=True).start()
        watcher = compose.watcher(settings)
        threading.Thread(target=watcher.run, args=(stop,), daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        started = time.perf_counter()
        url = f"http://127.0.0.1:{port}/api/documents"
        accepted, sources = push(batches, url, settings.inbox / PUSH_FOLDER)
        results["push"] = (accepted, _searchable(settings, es, sources, started))
        time.sleep(2)  # the last files' entries are written after their items'
        _reset(settings, client, es)
        started = time.perf_counter()
        accepted, sources = drop(batches, settings.inbox / "crawler")
        results["files"] = (accepted, _searchable(settings, es, sources, started))
    finally:
        stop.set()
        server.should_exit = True
        if worker is not None:
            worker.stop()
        remove(settings)
    print(f"{args.n} items in batches of {args.batch}, {os.cpu_count()} cores, fast path")
    for mode, (accepted, searchable) in results.items():
        print(
            f"{mode:5}: accepted {args.n / accepted:8.1f} items/s ({accepted:.2f} s); "
            f"searchable {args.n / searchable:6.1f} items/s ({searchable:.1f} s)"
        )


if __name__ == "__main__":
    main()
