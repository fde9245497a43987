"""Throughput from inbox to searchable and to enriched; the fast-path ratio to a bulk load.

    python -m bench.throughput --n 5000 --fast-path      # phase 1 only (clean, dedupe,
                                                         # language), and the same documents
                                                         # via helpers.bulk, same run
    python -m bench.throughput --n 2000                  # both phases, and the model-bound
                                                         # limit measured in the same run
    python -m bench.throughput --n 2000 --scale-out      # one worker of both phases against
                                                         # a phase 1 and a phase 2 worker

Runs on the local stack (`dropsift stack up`): a real watcher, real `dropsift worker`
processes, real Redis and Elasticsearch, on a fresh prefix (index, Redis keys, queues) that
is removed afterwards. The clock starts when the files are renamed into the inbox; searchable
is when every file has its final state and every indexed document answers a search; enriched
is when phase 2 has updated every one of them. Worker CPU is the worker processes' own
(user + system, from /proc), divided by documents; Elasticsearch's is read the same way when
it runs on this machine (it serves others too: a busy machine inflates it). The CPU budget
line splits the cores' time over the run: the machine's busy time from /proc/stat, and the
workers', Elasticsearch's, Redis's and the bench's own (its watcher and polling) within it.

The full pipeline is compared with the model-bound limit (cores ÷ the entity model's CPU
per document, measured in this process on the same documents). With `--layout split` the
workers' CPU is known per phase, and the bench also prints the ceiling were phase 2 nothing
but its model: phase 1's measured CPU and Elasticsearch indexing each distinct document
twice at bulk speed (the helpers.bulk run of the same documents) still cost what they cost.
Last, the cores' time over the run per distinct document (the model, each phase beyond it,
Elasticsearch, Redis, the bench, idle) beside what a full pipeline at 0.85 of the limit
would leave for everything but the model.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from elasticsearch import Elasticsearch, helpers

from bench.corpus import news_documents, write
from bench.processes import CpuBudget, cpu_seconds, elasticsearch_pid, layout, private_stack
from search.client import make_client
from search.mapping import MAPPINGS, SETTINGS
from tasks.clean import clean
from tasks.enrichers.entities import EntitiesEnricher, load_model
from tasks.enrichers.language import detect_language
from tasks.extract import read_file
from worker import compose
from worker.pipeline.states import TERMINAL
from worker.settings import Settings

# Files polled per round trip; phase 2's outcomes.
POLL_WINDOW = 64
ENRICHED = ("enriched", "failed")
FAST_PATH_ENRICHERS = '["language", "stats", "summary"]'


def _es_cpu() -> float:
    pid = elasticsearch_pid()
    return cpu_seconds([pid]) if pid else float("nan")


def pipeline_run(
    files: list[Path], settings: Settings, env: dict[str, str], workdir: Path, how: str, c: int
) -> dict[str, Any]:
    """Rename the files into the inbox under a running watcher and workers; time both phases."""
    client = compose.redis_client(settings)
    es = compose.es_client(settings, timeout=60)
    compose.index_sink(settings, es).ensure()
    ledger = compose.ledger(settings, client)
    workers = layout(settings, env, workdir / f"worker-{how}.log", how, c)
    stop = threading.Event()
    watcher = compose.watcher(settings)
    thread = threading.Thread(target=watcher.run, args=(stop,), daemon=True)
    thread.start()
    time.sleep(1)
    enriching = bool(compose.pipeline_config(settings).late_enrichers)
    try:
        cpu0, es0 = sum(w.cpu() for w in workers), _es_cpu()
        phase_cpu0 = [w.cpu() for w in workers]
        budget = CpuBudget(workers, urlsplit(settings.redis_url).port or 6379)
        budget.begin()
        started = time.monotonic()
        targets = []
        for path in files:
            target = settings.inbox / path.name
            path.rename(target)
            targets.append(str(target))
        searchable = enriched = queued = most = 0.0
        # Four times a second, the files still on their way are polled a window at a time,
        # in file order (the order they are processed in), each window in one pipelined
        # round trip, the next only when the one before is done: the bench must not load
        # the box it measures. A file once final stays so.
        states: dict[str, str] = {}
        doc_ids: set[str] = set()
        waiting = list(targets)  # phase 1 not final yet
        unenriched: list[str] = []  # indexed, phase 2 not done

        def poll(keys: list[str], field: str, done: Any) -> list[str]:
            """The keys not done yet; each window is polled until one holds a key not done."""
            left = list(keys)
            while left:
                window = left[:POLL_WINDOW]
                pipe = client.pipeline(transaction=False)
                for key in window:
                    pipe.hmget(ledger.key_of(key), ["state", "enrichment", "doc_id"])
                open_ = []
                for key, (state, phase2, doc) in zip(window, pipe.execute(), strict=True):
                    value = state if field == "state" else phase2
                    if value not in done:
                        open_.append(key)
                    elif field == "state":
                        states[key] = state
                        if state == "indexed":
                            doc_ids.add(doc)
                            if phase2 not in ENRICHED:
                                unenriched.append(key)
                left = open_ + left[POLL_WINDOW:]
                if open_:
                    break
            return left

        while not enriched:
            time.sleep(0.25)
            if not queued and watcher.queued >= len(targets):
                queued = time.monotonic() - started
            waiting = poll(waiting, "state", TERMINAL)
            unenriched = poll(unenriched, "enrichment", ENRICHED)
            if not searchable and not waiting:
                while es.count(index=settings.alias)["count"] < len(doc_ids):
                    time.sleep(0.05)
                searchable = time.monotonic() - started
            indexed = sum(s == "indexed" for s in states.values())
            if searchable and not most and len(unenriched) <= 0.05 * indexed:
                most = time.monotonic() - started  # the tail after it: copies waiting
            if searchable and (not enriching or not unenriched):
                enriched = time.monotonic() - started
        cpu, es_cpu = sum(w.cpu() for w in workers) - cpu0, _es_cpu() - es0
        by_phase: dict[str, float] = {}
        for worker, before in zip(workers, phase_cpu0, strict=True):
            by_phase[worker.phase] = by_phase.get(worker.phase, 0.0) + worker.cpu() - before
        spent = budget.end()
        wall = (enriched or searchable) * (os.cpu_count() or 1)
        rss = max(w.rss() for w in workers)
    finally:
        stop.set()
        thread.join(timeout=10)
        for worker in workers:
            worker.stop()
    counts: dict[str, int] = {}
    for k in targets:
        e = ledger.get(k)
        if e is not None:
            counts[e.state] = counts.get(e.state, 0) + 1
    # What went other than planned (the workers log warnings only): retries, splits.
    events: dict[str, int] = {}
    for line in (workdir / f"worker-{how}.log").read_text(errors="replace").splitlines():
        if line.startswith("{"):
            event = json.loads(line).get("event", "?")
            events[event] = events.get(event, 0) + 1
    n = len(files)
    docs = counts.get("indexed", 0)
    return {
        "documents": docs,
        "layout": how,
        "searchable_s": searchable,
        "queued_s": queued,
        "enriched_s": enriched,
        "most_enriched_s": most,
        "searchable_docs_s": n / searchable,
        "enriched_docs_s": n / enriched if enriching else None,
        "enriched_unique_s": docs / enriched if enriching else None,
        "worker_cpu_ms": cpu / n * 1000,
        "es_cpu_ms": es_cpu / n * 1000,
        "states": counts,
        "worker_peak_rss_mb": rss,
        "warnings": events,
        "cpu_budget": spent,
        "phase_cpu_s": by_phase,
        "core_seconds": wall,
    }


def bulk_run(files: list[Path], es: Elasticsearch, index: str) -> dict[str, Any]:
    """The same documents, as they are, straight into a fresh index with helpers.bulk."""
    es.options(ignore_status=404).indices.delete(index=index)
    mappings = {**MAPPINGS, "dynamic": "true"}
    es.indices.create(index=index, mappings=mappings, settings=SETTINGS)
    texts = [(p.name, p.read_text(errors="replace")) for p in files]
    es0 = _es_cpu()
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
    es_cpu = _es_cpu() - es0
    es.indices.delete(index=index)
    return {
        "seconds": seconds,
        "docs_per_s": len(texts) / seconds,
        "es_cpu_ms": es_cpu / len(texts) * 1000,
    }


def model_seconds(files: list[Path], sample: int = 200) -> float:
    """CPU seconds of the entity model per document, on a sample of the same documents."""
    docs = [clean(read_file(p, 10**8, {}).documents[0]) for p in files[:sample]]
    docs = [d.replace(language=detect_language(d.body)) for d in docs]
    load_model()
    enricher = EntitiesEnricher()
    enricher.enrich(docs[:10])  # warm-up
    started = time.process_time()
    enricher.enrich(docs)
    return (time.process_time() - started) / len(docs)


def _report(n: int, result: dict[str, Any]) -> None:
    line = (
        f"  [{result['layout']}] searchable {result['searchable_docs_s']:.1f} docs/s "
        f"({result['searchable_s']:.1f} s; the watcher had queued every file after "
        f"{result['queued_s']:.0f} s)"
    )
    if result["enriched_docs_s"]:
        line += (
            f", enriched {result['enriched_docs_s']:.1f} docs/s ({result['enriched_s']:.1f} s; "
            f"{result['enriched_unique_s']:.1f}/s of the {result['documents']} distinct "
            f"documents, the copies need no model; 95 % of them after "
            f"{result['most_enriched_s']:.1f} s)"
        )
    print(line)
    print(
        f"    worker CPU {result['worker_cpu_ms']:.2f} ms/doc, Elasticsearch CPU "
        f"{result['es_cpu_ms']:.2f} ms/doc, worker peak RSS {result['worker_peak_rss_mb']:.0f} "
        f"MB, states {result['states']}, worker warnings {result['warnings']}"
    )
    spent, cores_s = result["cpu_budget"], result["core_seconds"]
    parts = ", ".join(f"{k} {v:.1f}" for k, v in spent.items() if k != "machine")
    print(
        f"    CPU seconds of the {cores_s:.1f} the cores had: busy {spent['machine']:.1f} ({parts})"
    )


def _report_model(
    n: int, result: dict[str, Any], model: float, limit: float, baseline: dict[str, Any] | None
) -> None:
    """The full pipeline against the model-bound limit, and what the rest of its CPU went to."""
    distinct = max(1, result["documents"])
    # The worker CPU that is not the model: load-independent, unlike the rate.
    per_doc = result["worker_cpu_ms"] * n / distinct
    print(
        f"  [{result['layout']}] distinct documents enriched / limit: "
        f"{result['enriched_unique_s'] / limit:.2f}; model share of the worker "
        f"CPU per document: {model * 1000 / per_doc:.2f} ({per_doc:.1f} ms)"
    )
    phases = result["phase_cpu_s"]
    if "1" in phases and "2" in phases and baseline:
        first = phases["1"] / distinct * 1000
        second = phases["2"] / distinct * 1000
        # Each distinct document is indexed twice (searchable, then enriched); copies are
        # not indexed. At bulk speed that is the least Elasticsearch can spend on them.
        es_floor = 2 * baseline["es_cpu_ms"]
        ceiling = (os.cpu_count() or 1) / ((model * 1000 + first + es_floor) / 1000)
        print(
            f"    per distinct document: phase 1 {first:.1f} ms, phase 2 {second:.1f} ms "
            f"(the model {model * 1000:.1f}, the rest {second - model * 1000:.1f}); "
            f"Elasticsearch indexing it twice at bulk speed {es_floor:.1f} ms"
        )
        reached = result["enriched_unique_s"] / ceiling
        print(
            f"    ceiling were phase 2 nothing but its model: {ceiling:.1f} docs/s, "
            f"{ceiling / limit:.2f} of the limit; reached {reached:.2f} of it"
        )
    _report_budget(result, model, distinct)


# The goal: everything but the model within 15 % of the run.
GOAL = 0.85


def _report_budget(result: dict[str, Any], model: float, distinct: int) -> None:
    """The cores' time over the run per distinct document, and what the goal would allow."""
    spent, phases = result["cpu_budget"], result["phase_cpu_s"]
    parts = {"the model": model * distinct}
    if "1" in phases and "2" in phases:
        parts["phase 1"] = phases["1"]
        parts["phase 2 beyond the model"] = phases["2"] - model * distinct
    else:
        parts["workers beyond the model"] = spent["workers"] - model * distinct
    parts.update({k: v for k, v in spent.items() if k not in ("machine", "workers")})
    parts["idle"] = result["core_seconds"] - spent["machine"]
    ms = {k: v / distinct * 1000 for k, v in parts.items()}
    rest = sum(ms.values()) - ms["the model"]
    print(
        "    the cores' time per distinct document: "
        + ", ".join(f"{k} {v:.1f} ms" for k, v in ms.items())
    )
    print(
        f"    all but the model: {rest:.1f} ms; {GOAL} of the limit allows "
        f"{ms['the model'] * (1 / GOAL - 1):.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--fast-path", action="store_true", help="phase 1 only, and a bulk load")
    parser.add_argument("--layout", choices=["one", "split"], default="one")
    parser.add_argument("--scale-out", action="store_true", help="both layouts, same run")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--es-url", default="http://127.0.0.1:9200")
    args = parser.parse_args()

    print(f"load before: {os.getloadavg()[0]:.2f}; {os.cpu_count()} cores", flush=True)
    enrichers = FAST_PATH_ENRICHERS if args.fast_path else None
    es = make_client(args.es_url, request_timeout=120)
    layouts = ["one", "split"] if args.scale_out else [args.layout]
    results = []
    baseline = None
    model = None
    size_kb = 0.0
    for how in layouts:
        with private_stack(args.redis_url, args.es_url, args.batch_size, enrichers) as (
            settings,
            env,
            workdir,
        ):
            staged = write(list(news_documents(args.n, args.seed)), workdir / "staged")
            size_kb = sum(p.stat().st_size for p in staged) / len(staged) / 1024
            if baseline is None:
                baseline = bulk_run(staged, es, f"{settings.index_prefix}-plain-bulk")
            if not args.fast_path and model is None:
                model = model_seconds(staged)
            results.append(pipeline_run(staged, settings, env, workdir, how, args.concurrency))
    mode = "fast path (phase 1 only)" if args.fast_path else "full pipeline (both phases)"
    print(
        f"{args.n} documents, {size_kb:.1f} KB average, concurrency {args.concurrency}, "
        f"batch {args.batch_size}; dropsift {mode}:"
    )
    for result in results:
        _report(args.n, result)
    if baseline and args.fast_path:
        fast = results[0]
        ratio = fast["searchable_docs_s"] / baseline["docs_per_s"]
        cores = os.cpu_count() or 1
        # What the two cores allow: each document costs its worker CPU and Elasticsearch's
        # CPU for indexing it (as measured at bulk speed); nothing else runs.
        limit = cores / ((fast["worker_cpu_ms"] + baseline["es_cpu_ms"]) / 1000)
        print(
            f"helpers.bulk, same documents: {baseline['docs_per_s']:.1f} docs/s "
            f"({baseline['seconds']:.1f} s), Elasticsearch CPU {baseline['es_cpu_ms']:.2f} ms/doc"
        )
        print(
            f"fast-path ratio: {ratio:.2f}; physical limit at this worker CPU: {limit:.0f} "
            f"docs/s, a ratio of {limit / baseline['docs_per_s']:.2f}"
        )
    if model:
        cores = os.cpu_count() or 1
        limit = cores / model
        print(f"entity model: {model * 1000:.1f} ms CPU/doc; model-bound limit {limit:.1f} docs/s")
        for result in results:
            if result["enriched_unique_s"]:
                _report_model(args.n, result, model, limit, baseline)
    print(f"load after: {os.getloadavg()[0]:.2f}")
    print(
        f"bench process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )


if __name__ == "__main__":
    main()
