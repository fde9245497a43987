"""Thin Celery shells over the pipeline: they take paths, never documents."""

from __future__ import annotations

import random
from functools import lru_cache

import redis
from celery import Task

from tasks.errors import Transient
from tasks.pipeline import Context, process_file
from worker.celery_app import PROCESS_FILE, app
from worker.settings import get_settings
from worker.stack import es_client


@lru_cache(maxsize=1)
def context() -> Context:
    """Built lazily in each worker child, after the fork."""
    settings = get_settings()
    return Context(
        settings=settings,
        redis=redis.Redis.from_url(settings.redis_url, decode_responses=True),
        es=es_client(settings),
    )


def _backoff(retries: int, cap: float) -> float:
    return random.uniform(0, min(cap, 2.0 * 2**retries))


@app.task(name=PROCESS_FILE, bind=True, max_retries=None)
def process_file_task(self: Task, path: str) -> str:
    """Process one file. Service outages retry without limit; file faults are bounded."""
    try:
        return process_file(path, context())
    except Transient as exc:
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries, cap=300)) from exc
    except Exception as exc:
        # Counted in the ledger; after DROPSIFT_MAX_ATTEMPTS the pipeline quarantines it.
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries, cap=60)) from exc
