"""Fixtures for integration tests: the real Redis, Elasticsearch and Celery worker processes.

Tests get their own Redis database and index prefix, cleaned before each test and removed at
the end. The servers themselves come from `dropsift stack up` (the test command runs it).
"""

from __future__ import annotations

import dataclasses
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from elasticsearch import Elasticsearch

from search.events import drop_events
from search.index import drop_all, ensure_index
from tests.support.index import reset_state
from tests.support.procs import WorkerProcess
from worker import compose
from worker.pipeline.context import Context
from worker.pipeline.ledger import Ledger
from worker.settings import Settings

TEST_REDIS_URL = os.environ.get("DROPSIFT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
TEST_ES_URL = os.environ.get("DROPSIFT_TEST_ES_URL", "http://127.0.0.1:9200")


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    state = tmp_path_factory.mktemp("state")
    return Settings(
        redis_url=TEST_REDIS_URL,
        es_url=TEST_ES_URL,
        index_prefix=f"dropsift-test-{uuid.uuid4().hex[:8]}",
        state_dir=state,
        inbox=state / "inbox",
        stable_seconds=0.3,
        rescan_seconds=2.0,
        max_attempts=3,
        bulk_backoff_seconds=0.1,
        # Short, so messages of a killed worker come back within the test's patience, yet
        # long enough for fresh workers loading the entity model at once on two cores.
        visibility_timeout=30,
        task_time_limit=25,
        log_format="json",
    )


@pytest.fixture(scope="session")
def service_env(settings: Settings) -> dict[str, str]:
    """Environment for subprocesses (worker, CLI) that points them at the test services."""
    return {
        **os.environ,
        "DROPSIFT_REDIS_URL": settings.redis_url,
        "DROPSIFT_ES_URL": settings.es_url,
        "DROPSIFT_INDEX_PREFIX": settings.index_prefix,
        "DROPSIFT_STATE_DIR": str(settings.state_dir),
        "DROPSIFT_INBOX": str(settings.inbox),
        "DROPSIFT_MAX_ATTEMPTS": str(settings.max_attempts),
        "DROPSIFT_BULK_BACKOFF_SECONDS": str(settings.bulk_backoff_seconds),
        "DROPSIFT_VISIBILITY_TIMEOUT": str(settings.visibility_timeout),
        "DROPSIFT_TASK_TIME_LIMIT": str(settings.task_time_limit),
        "DROPSIFT_LOG_FORMAT": "json",
        # Workers of parallel test runs would all want the default port.
        "DROPSIFT_WORKER_METRICS_PORT": "0",
    }


@pytest.fixture(scope="session")
def redis_client(settings: Settings) -> Iterator[redis.Redis]:
    client = compose.redis_client(settings)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail(
            f"Redis is not answering at {settings.redis_url}: run `dropsift stack up` "
            "(the README's test command does)"
        )
    yield client
    # Only this session's keys (ledger, registry, its queue and binding): other sessions may
    # share the database.
    keys = [
        *client.scan_iter(f"{settings.index_prefix}*", count=1000),
        f"_kombu.binding.{settings.index_prefix}",
        f"_kombu.binding_permanent.{settings.index_prefix}",
    ]
    client.delete(*keys)


@pytest.fixture(scope="session")
def es(settings: Settings) -> Iterator[Elasticsearch]:
    client = compose.es_client(settings)
    try:
        client.cluster.health(wait_for_status="yellow", timeout="30s")
    except Exception as exc:
        pytest.fail(
            f"Elasticsearch is not answering at {settings.es_url} ({exc}): run "
            "`dropsift stack up` (the README's test command does)"
        )
    ensure_index(client, settings.alias)
    yield client
    drop_all(client, settings.alias)
    drop_events(client, settings.index_prefix)


@pytest.fixture
def clean_state(settings: Settings, redis_client: redis.Redis, es: Elasticsearch) -> None:
    """Each test starts with an empty inbox, ledger, content registry and index."""
    reset_state(settings, redis_client, es)


@pytest.fixture
def resent() -> list[list[str]]:
    """What the pipeline sent again as tasks of their own (a fast_context's resend)."""
    return []


@pytest.fixture
def fast_context(
    settings: Settings,
    redis_client: redis.Redis,
    es: Elasticsearch,
    clean_state: None,
    resent: list[list[str]],
) -> Context:
    """The pipeline as a worker builds it, without the slow enrichers (and so without phase
    2), from a clean state."""
    context = compose.pipeline_context(settings, client=redis_client, es=es, resend=resent.append)
    context.config = dataclasses.replace(
        context.config, enrichers=("language", "stats"), late_enrichers=()
    )
    return context


@pytest.fixture(scope="session")
def ledger(settings: Settings, redis_client: redis.Redis) -> Ledger:
    return compose.ledger(settings, redis_client)


@pytest.fixture(scope="session")
def send(settings: Settings) -> Callable[[list[str]], None]:
    """Publish a task exactly as the watcher does, on the test broker."""
    return compose.publisher(settings).process


@pytest.fixture(scope="session")
def forget(settings: Settings) -> Callable[[list[str]], None]:
    """Send deleted files to be forgotten, exactly as the watcher does."""
    return compose.publisher(settings).forget


@pytest.fixture(scope="session")
def worker(
    service_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
    redis_client: redis.Redis,
    es: Elasticsearch,
) -> Iterator[WorkerProcess]:
    proc = WorkerProcess(service_env, tmp_path_factory.mktemp("worker") / "worker.log")
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture
def running_worker(worker: WorkerProcess, clean_state: None) -> WorkerProcess:
    """The session worker, restarted if an earlier test killed it."""
    if not worker.alive():
        worker.start()
    return worker


@pytest.fixture
def watcher_thread(settings: Settings, clean_state: None) -> Iterator[tuple[Path, Any]]:
    """A real watcher on a fresh inbox, running in a thread for the test's duration.

    Built by the composition root, as `dropsift watch` builds it.
    """
    # The configured inbox, which the worker knows too (sites come from its sub-folders).
    inbox = settings.inbox
    inbox.mkdir(parents=True, exist_ok=True)
    watcher = compose.watcher(settings)
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run, args=(stop,), daemon=True)
    thread.start()
    yield inbox, watcher
    stop.set()
    thread.join(timeout=10)
