"""Prometheus metrics: the workers' own counters and timings, and the ledger as the API sees it.

A Celery worker is a main process and a pool of forked children: the children count into
prometheus-client's multiprocess files, and the main process serves their sum on
DROPSIFT_WORKER_METRICS_PORT. The API serves the ledger's files by state and quarantine
reason and the depth of the queue at `/metrics`.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

import structlog
from prometheus_client import (
    CollectorRegistry,
    Histogram,
    multiprocess,
    start_http_server,
)
from prometheus_client import (
    Counter as CounterMetric,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from worker.pipeline.ledger import Ledger
from worker.pipeline.states import FileState

log = structlog.get_logger(__name__)

# Seconds, from a file's last write to its document being indexed (searchable a refresh
# interval later): the freshness a scraper sees.
_LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)

FILES = CounterMetric(
    "dropsift_files", "Files (and feed items) that reached a final state.", ["state", "reason"]
)
BATCHES = CounterMetric("dropsift_batches", "Batches processed, by how they ended.", ["outcome"])
BULK_RETRIES = CounterMetric(
    "dropsift_bulk_retries", "Bulk requests retried for transient item failures."
)
STAGE_SECONDS = Histogram(
    "dropsift_stage_seconds", "Time a batch spent in each pipeline stage.", ["stage"]
)
DROP_TO_INDEXED = Histogram(
    "dropsift_drop_to_indexed_seconds",
    "From a file's last write to its document being indexed.",
    buckets=_LATENCY_BUCKETS,
)


ENRICHED_DOCUMENTS = CounterMetric(
    "dropsift_enriched_documents",
    "Documents phase 2 was done with, by outcome (enriched, failed, gone).",
    ["outcome"],
)
ENRICHMENT_STAGE_SECONDS = Histogram(
    "dropsift_enrichment_stage_seconds",
    "Time a phase 2 batch spent in each of its stages (enrich, story, index).",
    ["stage"],
)
DROP_TO_ENRICHED = Histogram(
    "dropsift_drop_to_enriched_seconds",
    "From a file's last write to its document being enriched.",
    buckets=_LATENCY_BUCKETS,
)


def record_enrichment(
    outcomes: dict[str, int], timings: dict[str, float], latencies: Iterable[float]
) -> None:
    """Count one phase 2 batch: documents by outcome, its stage times, drop-to-enriched."""
    for outcome, n in outcomes.items():
        if n:
            ENRICHED_DOCUMENTS.labels(outcome=outcome).inc(n)
    for stage, seconds in timings.items():
        ENRICHMENT_STAGE_SECONDS.labels(stage=stage).observe(seconds)
    for seconds in latencies:
        DROP_TO_ENRICHED.observe(seconds)


def record_batch(
    states: dict[str, tuple[str, str]],
    timings: dict[str, float],
    latencies: Iterable[float],
    bulk_retries: int,
    outcome: str = "done",
) -> None:
    """Count one batch: each file's (state, reason), its stage times and file latencies."""
    for state, reason in states.values():
        FILES.labels(state=state, reason=reason).inc()
    for stage, seconds in timings.items():
        STAGE_SECONDS.labels(stage=stage).observe(seconds)
    for seconds in latencies:
        DROP_TO_INDEXED.observe(seconds)
    if bulk_retries:
        BULK_RETRIES.inc(bulk_retries)
    BATCHES.labels(outcome=outcome).inc()


# --- the worker's side ----------------------------------------------------------------------


def serve_worker_metrics(port: int, host: str = "0.0.0.0") -> bool:
    """Serve the sum over the pool's children (in the worker's main process).

    PROMETHEUS_MULTIPROC_DIR must be set before prometheus_client is first imported (the CLI
    does it); False when the port is taken, so a second worker on the machine still runs.
    """
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    try:
        start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        log.warning("worker_metrics_unavailable", port=port, error=str(exc))
        return False
    log.info("worker_metrics", port=port)
    return True


def child_exited(pid: int) -> None:
    """A pool child is gone: its live gauges stop counting (counters stay summed)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid)


# --- the API's side -------------------------------------------------------------------------


class LedgerCollector(Collector):
    """Files by state and quarantine reason, and the queue's depth, read at most every
    `cache_seconds` (the ledger is read whole: about 0.6 s for 20,000 files)."""

    def __init__(self, ledger: Ledger, queues: list[str], cache_seconds: float = 10.0) -> None:
        self.ledger = ledger
        self.queues = queues
        self.cache_seconds = cache_seconds
        self._cached: tuple[float, list[Any]] = (0.0, [])

    def collect(self) -> Iterator[Any]:
        now = time.monotonic()
        if now - self._cached[0] > self.cache_seconds:
            self._cached = (now, self._measure())
        yield from self._cached[1]

    def _measure(self) -> list[Any]:
        states: Counter[str] = Counter({str(state): 0 for state in FileState})
        reasons: Counter[str] = Counter()
        for entry in self.ledger.entries():
            states[str(entry.state)] += 1
            if entry.state == FileState.QUARANTINED:
                reasons[entry.reason or "unknown"] += 1
        files = GaugeMetricFamily(
            "dropsift_ledger_files", "Files in the ledger by state.", labels=["state"]
        )
        for state, n in sorted(states.items()):
            files.add_metric([state], n)
        quarantined = GaugeMetricFamily(
            "dropsift_quarantined_files", "Quarantined files by reason.", labels=["reason"]
        )
        for reason, n in sorted(reasons.items()):
            quarantined.add_metric([reason], n)
        depth = GaugeMetricFamily(
            "dropsift_queue_depth", "Tasks waiting in the queue.", labels=["queue"]
        )
        for queue in self.queues:
            depth.add_metric([queue], int(self.ledger.r.llen(queue)))
        return [files, quarantined, depth]


def mount_api_metrics(app: Any, ledger: Ledger, queues: list[str]) -> None:
    """`GET /metrics` on the API: the ledger's files by state and reason, the queue depth."""
    from prometheus_client import make_asgi_app

    registry = CollectorRegistry()
    registry.register(LedgerCollector(ledger, queues))
    app.mount("/metrics", make_asgi_app(registry))
