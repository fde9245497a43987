"""Fixtures of the worker-level tests, on top of tests/conftest.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from elasticsearch import Elasticsearch

from search.index import ensure_index
from tests.support.files import marker
from tests.support.index import search_ids
from tests.support.procs import Service, WorkerProcess
from worker import compose
from worker.pipeline.ledger import Entry, Ledger
from worker.settings import Settings


@dataclass
class Stack:
    """A running worker and watcher on an inbox, and what a test checks them with."""

    settings: Settings
    es: Elasticsearch
    ledger: Ledger
    worker_pid: int
    """The worker's main process, which leads its process group (pool children included)."""
    env: dict[str, str]
    """The environment its processes and a CLI run against it get."""

    @property
    def inbox(self) -> Path:
        return self.settings.inbox

    def entry(self, path: Path) -> Entry:
        found = self.ledger.get(str(path))
        assert found is not None, f"no ledger entry for {path!r}"
        return found

    def searchable(self, n: int) -> set[str]:
        """Ids of the documents that carry story(n)'s marker."""
        return search_ids(self.es, self.settings.alias, marker(n))

    def source(self, doc_id: str) -> dict[str, Any]:
        return dict(self.es.get(index=self.settings.alias, id=doc_id)["_source"])


@pytest.fixture
def stack(
    running_worker: WorkerProcess,
    watcher_thread: tuple[Path, Any],
    es: Elasticsearch,
    settings: Settings,
    ledger: Ledger,
    service_env: dict[str, str],
) -> Stack:
    """The session's worker and a watcher thread on a fresh inbox."""
    assert running_worker.proc is not None
    return Stack(settings, es, ledger, running_worker.proc.pid, service_env)


StartStack = Callable[..., Stack]


@pytest.fixture
def own_stack(
    settings: Settings,
    service_env: dict[str, str],
    redis_client: redis.Redis,
    es: Elasticsearch,
    tmp_path: Path,
) -> Iterator[StartStack]:
    """Starts a worker and a watcher of their own: own prefix, queue, index and inbox.

    `own_stack(name, wrap=[...], env={...})`: `wrap` runs both under a command (setpriv),
    `env` sets more variables. The session's worker never takes their tasks.
    """
    started: list[tuple[Settings, list[Service]]] = []

    def start(
        name: str, *, wrap: list[str] | None = None, env: dict[str, str] | None = None
    ) -> Stack:
        own = settings.model_copy(
            update={
                "index_prefix": f"{settings.index_prefix}-{name}",
                "inbox": tmp_path / f"{name}-inbox",
            }
        )
        own.inbox.mkdir()
        ensure_index(es, own.alias)
        full_env = {
            **service_env,
            "DROPSIFT_INDEX_PREFIX": own.index_prefix,
            "DROPSIFT_INBOX": str(own.inbox),
            **(env or {}),
        }
        worker = Service(
            ["worker", "--concurrency", "1"], full_env, tmp_path / f"{name}-worker.log", wrap
        )
        watcher = Service(["watch"], full_env, tmp_path / f"{name}-watcher.log", wrap)
        started.append((own, [watcher, worker]))
        worker.start(b" ready.")
        watcher.start(b"watcher_started")
        assert worker.proc is not None
        return Stack(own, es, Ledger(redis_client, own.key_prefix), worker.proc.pid, full_env)

    yield start
    for own, services in started:
        for service in services:
            service.stop()
            # Shown when the test fails.
            lines = service.log_path.read_text(errors="replace").splitlines()
            print(f"--- {service.log_path.name}, last lines ---", *lines[-15:], sep="\n")
        compose.remove_prefix(own, redis_client, es)
