"""The Celery app, configured for at-least-once delivery on a Redis broker."""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.signals import setup_logging
from kombu import Exchange, Queue

from worker.compose import ENRICH_DOCUMENTS
from worker.logs import configure_logging
from worker.settings import Settings, get_settings


def enrich_queue(settings: Settings) -> str:
    """Phase 2's queue: entities, keywords and stories of documents already searchable."""
    return f"{settings.index_prefix}-enrich"


def queues_of(settings: Settings, phase: str = "all") -> list[str]:
    """The queues a worker of `phase` ("1", "2" or "all") consumes, phase 1's first."""
    names = {"1": [settings.index_prefix], "2": [enrich_queue(settings)]}
    return names.get(phase) or [settings.index_prefix, enrich_queue(settings)]


def create_app(settings: Settings) -> Celery:
    app = Celery("dropsift", broker=settings.redis_url, include=["worker.celery_tasks"])
    queue = settings.index_prefix
    enrich = enrich_queue(settings)
    app.conf.update(
        # The anonymous exchange delivers straight to the queue named by the routing key,
        # with no binding kept in Redis: a Redis that lost its data (FLUSHALL, a restart
        # without persistence) still routes every message, and so does a redelivery.
        task_queues=[
            Queue(queue, Exchange(""), routing_key=queue),
            Queue(enrich, Exchange(""), routing_key=enrich),
        ],
        task_default_exchange="",
        task_default_queue=queue,
        task_default_routing_key=queue,
        task_routes={ENRICH_DOCUMENTS: {"queue": enrich, "exchange": "", "routing_key": enrich}},
        # A task is acknowledged only after it finished, and a worker that dies mid-task
        # gives its message back: with idempotent tasks, nothing is lost and nothing doubles.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # A task killed by the hard time limit is not acknowledged either: Redis delivers it
        # again after the visibility timeout, and the ledger counts the attempt.
        task_acks_on_failure_or_timeout=False,
        worker_prefetch_multiplier=1,
        # Redis re-delivers an unacknowledged message after the visibility timeout; the
        # settings refuse a timeout shorter than the task time limit.
        broker_transport_options={
            "visibility_timeout": settings.visibility_timeout,
            # How often a worker sweeps for messages whose visibility timeout ran out (a
            # dead worker's): a tenth of the timeout, every sweep a real one. kombu's
            # default is one real sweep per 100 s whatever the timeout.
            "unacked_restore_interval": max(1, min(60, settings.visibility_timeout // 10)),
            "unacked_restore_throttle": 1,
            # A worker of both phases takes phase 1's queue first whenever it holds work: a
            # backlog of enrichment never holds back search.
            "queue_order_strategy": "priority",
        },
        task_time_limit=settings.task_time_limit,
        # The soft limit raises inside the task a little before the hard limit kills it.
        task_soft_time_limit=max(1, int(settings.task_time_limit * 0.9)),
        task_ignore_result=True,
        # Task events, so Flower and celery-exporter work without configuration.
        worker_send_task_events=True,
        task_send_sent_event=True,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_concurrency=settings.worker_concurrency,
        worker_max_memory_per_child=800_000,  # KiB: recycle a child that grows past ~800 MB
    )
    return app


_apps: dict[tuple[str, str], Celery] = {}


def celery_app(settings: Settings) -> Celery:
    """The app for these settings' broker and queue, built once per process."""
    key = (settings.redis_url, settings.index_prefix)
    if key not in _apps:
        _apps[key] = create_app(settings)
    return _apps[key]


@setup_logging.connect
def _logging(**_: Any) -> None:
    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level)


app = celery_app(get_settings())
