"""The one composition root: every client, ledger, publisher, watcher and pipeline context.

The CLI, the Celery tasks, the tests and the benches all build what they talk to here, so
each is configured exactly as production configures it.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING

import redis
from elasticsearch import Elasticsearch

from search.client import make_client
from search.events import drop_events
from search.index import drop_all
from search.indexer import IndexSink, RetryPolicy
from tasks.boilerplate_memory import SourceBoilerplate
from tasks.dedupe import ContentRegistry
from tasks.enrichers import split_phases
from tasks.enrichers.keywords import RedisFrequencies
from tasks.neardup import NearDupIndex
from tasks.story import RecentStories
from tasks.title_memory import SiteTitles
from worker.pipeline.context import Context, PipelineConfig, Send
from worker.pipeline.ledger import Ledger
from worker.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from worker.watcher import Watcher

PROCESS_FILES = "dropsift.process_files"
FORGET_FILES = "dropsift.forget_files"
ENRICH_DOCUMENTS = "dropsift.enrich_documents"


def redis_client(settings: Settings) -> redis.Redis:
    """Text replies; a file name that is not UTF-8 goes through as its own bytes."""
    return redis.Redis.from_url(
        settings.redis_url, decode_responses=True, encoding_errors="surrogateescape"
    )


def es_client(settings: Settings, timeout: float = 30.0) -> Elasticsearch:
    return make_client(
        settings.es_url,
        user=settings.es_user,
        password=settings.es_password,
        api_key=settings.es_api_key,
        ca_file=settings.es_ca_file,
        request_timeout=timeout,
    )


def ledger(settings: Settings, client: redis.Redis | None = None) -> Ledger:
    return Ledger(client or redis_client(settings), settings.key_prefix)


@dataclass(frozen=True)
class Publisher:
    """Sends work to the workers by task name: the watcher and ingest need no task code."""

    settings: Settings

    def _send(
        self, task: str, paths: list[str], countdown: float | None = None, *extra: object
    ) -> None:
        from worker.celery_app import celery_app

        celery_app(self.settings).send_task(task, args=[paths, *extra], countdown=countdown)

    def process(self, paths: list[str]) -> None:
        self._send(PROCESS_FILES, paths)

    def process_later(self, paths: list[str], countdown: float) -> None:
        self._send(PROCESS_FILES, paths, countdown)

    def forget(self, paths: list[str]) -> None:
        self._send(FORGET_FILES, paths)

    def enrich(self, doc_ids: list[str]) -> None:
        """Phase 2 of indexed documents, on the enrichment queue."""
        self._send(ENRICH_DOCUMENTS, doc_ids)

    def enrich_later(self, doc_ids: list[str], countdown: float, tries: int) -> None:
        self._send(ENRICH_DOCUMENTS, doc_ids, countdown, tries)


def publisher(settings: Settings) -> Publisher:
    return Publisher(settings)


def pipeline_config(settings: Settings) -> PipelineConfig:
    early, late = split_phases(settings.enrichers)
    return PipelineConfig(
        inbox=settings.inbox,
        max_file_bytes=settings.max_file_bytes,
        json_fields=settings.json_fields,
        enrichers=early,
        late_enrichers=late,
        max_attempts=settings.max_attempts,
        index_prefix=settings.index_prefix,
        worker=f"{socket.gethostname()}:{os.getpid()}",
        lease_seconds=float(settings.task_time_limit),
    )


def index_sink(settings: Settings, es: Elasticsearch | None = None) -> IndexSink:
    policy = RetryPolicy(
        max_retries=settings.bulk_max_retries,
        backoff=settings.bulk_backoff_seconds,
        backoff_max=settings.bulk_backoff_max_seconds,
    )
    return IndexSink(es or es_client(settings, timeout=60), settings.alias, policy)


def pipeline_context(
    settings: Settings,
    *,
    client: redis.Redis | None = None,
    es: Elasticsearch | None = None,
    resend: Send | None = None,
    enrich_later: Send | None = None,
) -> Context:
    """Everything a batch talks to; the index is made sure of (Transient when it is down)."""
    r = client or redis_client(settings)
    prefix = settings.key_prefix
    sink = index_sink(settings, es)
    sink.ensure()
    sink.ensure_events(settings.index_prefix)
    return Context(
        config=pipeline_config(settings),
        ledger=Ledger(r, prefix),
        sink=sink,
        contents=ContentRegistry(r, prefix),
        boilerplate=SourceBoilerplate(
            r,
            prefix,
            min_docs=settings.boilerplate_min_docs,
            min_share=settings.boilerplate_min_share,
        ),
        neardup=NearDupIndex(
            r,
            prefix,
            threshold=settings.neardup_threshold,
            horizon_seconds=settings.neardup_horizon_days * 86400,
        ),
        stories=RecentStories(r, prefix),
        frequencies=RedisFrequencies(r, prefix),
        resend=resend,
        titles=SiteTitles(r, prefix),
        enrich_later=enrich_later,
    )


def api_app(settings: Settings, es: Elasticsearch | None = None) -> FastAPI:
    """The HTTP API: search, the push endpoint with its keys, and `/metrics`."""
    from search.api import create_app
    from worker.metrics import mount_api_metrics
    from worker.push import PushConfig, install

    client = es or es_client(settings)
    app = create_app(client, settings.alias, max_per_page=settings.max_per_page)
    config = PushConfig(
        inbox=settings.inbox,
        keys=settings.api_keys,
        keyed_reads=settings.api_key_reads,
        max_bytes=settings.max_file_bytes,
        json_fields=settings.json_fields,
    )
    files = ledger(settings)
    install(app, config, files, publisher(settings).process)
    mount_api_metrics(app, files, [settings.index_prefix])
    return app


def watcher(settings: Settings) -> Watcher:
    from worker.watcher import Watcher

    send = publisher(settings)
    return Watcher(
        settings.inbox,
        ledger(settings),
        send.process,
        stable_seconds=settings.stable_seconds,
        rescan_seconds=settings.rescan_seconds,
        stale_after=settings.visibility_timeout + settings.task_time_limit,
        batch_size=settings.batch_size,
        forget=send.forget,
    )


def remove_prefix(
    settings: Settings, client: redis.Redis | None = None, es: Elasticsearch | None = None
) -> None:
    """Everything of these settings' prefix: its Redis keys (ledger, registries, its queues
    and their bindings), its document indices and its outcomes.

    Tests and benches each run on a prefix of their own and remove it with this afterwards.
    Only names of this prefix are touched: "a" does not take "a-b"'s keys.
    """
    from worker.celery_app import queues_of

    client = client or redis_client(settings)
    queues = queues_of(settings)
    patterns = [f"{settings.key_prefix}*"]
    # kombu keeps a queue's priorities as lists named queue + "\x06\x16" + step.
    patterns += [p for q in queues for p in (q, f"{q}\x06\x16*")]
    keys = [key for pattern in patterns for key in client.scan_iter(pattern, count=1000)]
    keys += [f"_kombu.{kind}.{q}" for q in queues for kind in ("binding", "binding_permanent")]
    client.delete(*keys)
    es = es or es_client(settings, timeout=60)
    drop_all(es, settings.alias)
    drop_events(es, settings.index_prefix)
