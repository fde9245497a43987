"""Thin Celery shells over the pipeline: they take paths, never documents."""

from __future__ import annotations

import random
from functools import lru_cache

import redis
from celery import Task

from tasks.errors import Transient
from tasks.pipeline import Context, forget_files, process_files
from worker.celery_app import FORGET_FILES, PROCESS_FILE, PROCESS_FILES, app
from worker.settings import get_settings
from worker.stack import es_client


@lru_cache(maxsize=1)
def context() -> Context:
    """Built lazily in each worker child, after the fork."""
    settings = get_settings()
    return Context(
        settings=settings,
        redis=redis.Redis.from_url(settings.redis_url, decode_responses=True),
        es=es_client(settings, timeout=60),
    )


def _backoff(retries: int, cap: float) -> float:
    return random.uniform(0, min(cap, 2.0 * 2 ** min(retries, 16)))


def _run(task: Task, paths: list[str], *, batch: bool) -> dict[str, str]:
    try:
        result = process_files(paths, context())
    except Transient as exc:
        unfinished = exc.paths or paths
        raise task.retry(
            args=[unfinished] if batch else unfinished,
            exc=exc,
            countdown=_backoff(task.request.retries, cap=300),
        ) from exc
    for path in result.retry:
        # Counted in the ledger; after DROPSIFT_MAX_ATTEMPTS the pipeline quarantines it.
        process_files_task.apply_async(args=[[path]], countdown=_backoff(1, cap=60))
    return result.states


@app.task(name=PROCESS_FILES, bind=True, max_retries=None)
def process_files_task(self: Task, paths: list[str]) -> dict[str, str]:
    """Process a batch of files. Service outages retry without limit; file faults are bounded."""
    return _run(self, paths, batch=True)


@app.task(name=PROCESS_FILE, bind=True, max_retries=None)
def process_file_task(self: Task, path: str) -> dict[str, str]:
    """One file: the same work as a batch of one."""
    return _run(self, [path], batch=False)


@app.task(name=FORGET_FILES, bind=True, max_retries=None)
def forget_files_task(self: Task, paths: list[str]) -> dict[str, str]:
    """Files deleted from the inbox: their documents lose them as a source."""
    try:
        return forget_files(paths, context())
    except Exception as exc:
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries, cap=300)) from exc
