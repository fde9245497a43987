"""Thin Celery shells over the pipeline: they take paths, never documents.

Retries are Celery's own (autoretry with exponential backoff and jitter). They never end a
file on their own: the ledger counts a file's attempts and quarantines it after
DROPSIFT_MAX_ATTEMPTS, and outages are not counted, so a backlog waits for the service.
"""

from __future__ import annotations

import os
import time
from functools import lru_cache
from typing import Any

import structlog
from celery import Task, shared_task
from celery.signals import worker_init, worker_process_shutdown
from celery.utils.time import get_exponential_backoff_interval

from search.events import delete_expired_events
from tasks.errors import Transient
from worker import compose
from worker.metrics import child_exited, record_batch, record_enrichment, serve_worker_metrics
from worker.pipeline.batch import SplitBatch, forget_files, is_transient, process_files
from worker.pipeline.context import Context
from worker.pipeline.enrichment import SplitEnrichment, enrich_documents
from worker.settings import get_settings

log = structlog.get_logger(__name__)

_RETRY: dict[str, Any] = {
    "bind": True,
    "autoretry_for": (Exception,),
    "retry_backoff": 2,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": None,
}


@lru_cache(maxsize=1)
def publisher() -> compose.Publisher:
    return compose.publisher(get_settings())


@lru_cache(maxsize=1)
def context() -> Context:
    """Built lazily in each worker child, after the fork; not kept when building fails."""
    return compose.pipeline_context(
        get_settings(), resend=publisher().process, enrich_later=publisher().enrich
    )


@worker_init.connect
def _serve_metrics(**_: Any) -> None:
    """The main process serves what its pool children counted (see worker.metrics)."""
    port = get_settings().worker_metrics_port
    if port and os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        serve_worker_metrics(port)


@worker_process_shutdown.connect
def _child_gone(pid: int | None = None, **_: Any) -> None:
    child_exited(pid or os.getpid())


_RETENTION_EVERY = 3600.0
_retention_at = [0.0]


def _enforce_retention(ctx: Context) -> None:
    """Outcome records older than DROPSIFT_EVENTS_RETENTION_DAYS go (checked hourly)."""
    if time.monotonic() - _retention_at[0] < _RETENTION_EVERY:
        return
    _retention_at[0] = time.monotonic()
    days = get_settings().events_retention_days
    try:
        removed = delete_expired_events(ctx.sink.es, ctx.config.index_prefix, days)
    except Exception as exc:
        log.warning("events_retention_failed", error=repr(exc)[:300])
        return
    if removed:
        log.info("events_expired", indices=removed, retention_days=days)


def _later(retries: int) -> float:
    return float(get_exponential_backoff_interval(2, retries, 60, True))


@shared_task(name=compose.PROCESS_FILES, **_RETRY)
def process_files_task(self: Task, paths: list[str]) -> dict[str, str]:
    """Process a batch of files. Service outages retry without limit; file faults are bounded."""
    redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
    ctx = context()
    _enforce_retention(ctx)
    try:
        result = process_files(paths, ctx, holder=self.request.id, redelivered=redelivered)
    except Transient as exc:
        if not exc.paths:
            return {}
        countdown = get_exponential_backoff_interval(2, self.request.retries, 300, True)
        raise self.retry(args=[exc.paths], exc=exc, countdown=countdown) from exc
    except SplitBatch as split:
        record_batch({}, {}, [], 0, outcome="split")
        return _split(split.paths, "a delivery of it died")
    except Exception as exc:
        if len(paths) > 1 and not is_transient(exc):
            # Not pinned on one file: halves are tried until the file that fails is alone,
            # where its attempts are counted.
            return _split(paths, f"{type(exc).__name__}: {exc}"[:300])
        raise  # an outage, or one file: Celery retries it (autoretry_for)
    record_batch(
        {p: (str(state), result.reasons.get(p, "")) for p, state in result.states.items()},
        result.timings,
        result.latencies,
        result.bulk_retries,
    )
    for path in result.retry:
        publisher().process_later([path], _later(1))
    if result.deferred:
        publisher().process_later(result.deferred, _later(self.request.retries + 1))
    return {path: str(state) for path, state in result.states.items()}


def _split(paths: list[str], why: str) -> dict[str, str]:
    half = len(paths) // 2
    for part in (paths[:half], paths[half:]):
        publisher().process(part)
    log.warning("batch_split", files=len(paths), why=why)
    return {}


@shared_task(name=compose.FORGET_FILES, **_RETRY)
def forget_files_task(self: Task, paths: list[str]) -> dict[str, str]:
    """Files deleted from the inbox: their documents lose them as a source."""
    return {path: str(state) for path, state in forget_files(paths, context()).items()}


@shared_task(name=compose.ENRICH_DOCUMENTS, **_RETRY)
def enrich_documents_task(self: Task, doc_ids: list[str], tries: int = 0) -> dict[str, int]:
    """Phase 2 of indexed documents: entities, keywords, stories, updated in place."""
    redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
    try:
        result = enrich_documents(doc_ids, context(), tries=tries, redelivered=redelivered)
    except Transient as exc:
        if not exc.paths:
            return {}
        countdown = get_exponential_backoff_interval(2, self.request.retries, 300, True)
        raise self.retry(args=[exc.paths, tries], exc=exc, countdown=countdown) from exc
    except SplitEnrichment as split:
        return _split_enrichment(split.doc_ids, "a delivery of it died")
    except Exception as exc:
        if len(doc_ids) > 1 and not is_transient(exc):
            # As in phase 1: halves until the document that fails is alone, where its
            # attempts are counted (and it is given up after DROPSIFT_MAX_ATTEMPTS).
            return _split_enrichment(doc_ids, f"{type(exc).__name__}: {exc}"[:300])
        raise
    if result.waiting:
        # The canonical's own phase 2 is usually a task or two ahead: look again soon, a
        # little later each time (backoff doubling to a minute would leave copies waiting
        # long after their canonical is done).
        publisher().enrich_later(result.waiting, min(10.0, 1.0 + tries), tries + 1)
    done = {
        "enriched": len(result.enriched),
        "gone": len(result.gone),
        "failed": len(result.failed),
    }
    record_enrichment(done, result.timings, result.latencies)  # a waiting copy: when it is done
    return {**done, "waiting": len(result.waiting)}


def _split_enrichment(doc_ids: list[str], why: str) -> dict[str, int]:
    half = len(doc_ids) // 2
    for part in (doc_ids[:half], doc_ids[half:]):
        publisher().enrich(part)
    log.warning("enrich_split", documents=len(doc_ids), why=why)
    return {}
