"""Fixtures of the worker-level tests, on top of tests/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from elasticsearch import Elasticsearch

from search.index import drop_all, ensure_index
from tests.conftest import WorkerProcess, search_ids
from tests.support.files import marker
from tests.support.procs import NO_DAC_OVERRIDE, Service
from worker.ledger import Entry, Ledger
from worker.settings import Settings


@dataclass
class Stack:
    """A running worker and watcher on a fresh inbox, and what a test checks them with."""

    inbox: Path
    worker: WorkerProcess
    watcher: Any
    es: Elasticsearch
    settings: Settings
    ledger: Ledger

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
) -> Stack:
    inbox, watcher = watcher_thread
    return Stack(inbox, running_worker, watcher, es, settings, ledger)


@dataclass
class UnprivilegedStack:
    """A worker and a watcher of their own (own prefix, queue and inbox) without DAC override."""

    settings: Settings
    env: dict[str, str]
    ledger: Ledger

    @property
    def inbox(self) -> Path:
        return self.settings.inbox


@pytest.fixture
def unprivileged_stack(
    settings: Settings,
    service_env: dict[str, str],
    redis_client: redis.Redis,
    es: Elasticsearch,
    tmp_path: Path,
) -> Iterator[UnprivilegedStack]:
    # Its own prefix: the session's worker (with root's powers) must not take its tasks.
    own = settings.model_copy(
        update={"index_prefix": f"{settings.index_prefix}-nodac", "inbox": tmp_path / "inbox"}
    )
    own.inbox.mkdir()
    ensure_index(es, own.alias)
    env = {
        **service_env,
        "DROPSIFT_INDEX_PREFIX": own.index_prefix,
        "DROPSIFT_INBOX": str(own.inbox),
    }
    worker = Service(
        ["worker", "--concurrency", "1"], env, tmp_path / "worker.log", NO_DAC_OVERRIDE
    )
    watcher = Service(["watch"], env, tmp_path / "watcher.log", NO_DAC_OVERRIDE)
    try:
        worker.start(b" ready.")
        watcher.start(b"watcher_started")
        yield UnprivilegedStack(own, env, Ledger(redis_client, own.key_prefix))
    finally:
        watcher.stop()
        worker.stop()
        for name in ("watcher.log", "worker.log"):  # shown when the test fails
            lines = (tmp_path / name).read_text(errors="replace").splitlines()
            print(f"--- {name}, last lines ---", *lines[-15:], sep="\n")
        drop_all(es, own.alias)
        keys = list(redis_client.scan_iter(f"{own.index_prefix}*", count=1000))
        redis_client.delete(*keys, f"_kombu.binding.{own.index_prefix}")
