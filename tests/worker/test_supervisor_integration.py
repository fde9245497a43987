"""`dropsift worker` starts its Celery worker again when it dies on its own."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest
import redis
from elasticsearch import Elasticsearch

from tests.support.index import SEEDS
from tests.support.procs import WorkerProcess
from tests.support.waiting import wait_for, wait_terminal
from worker import compose
from worker.enqueue import submit_many
from worker.pipeline.states import FileState
from worker.settings import Settings

pytestmark = pytest.mark.integration


def _children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in found.read_text().split()] if found.exists() else []


def test_a_celery_worker_that_dies_is_started_again(
    service_env: dict[str, str],
    settings: Settings,
    tmp_path: Path,
    redis_client: redis.Redis,
    es: Elasticsearch,
    clean_state: None,
) -> None:
    # A queue of its own: the session's worker must not take this file.
    own = settings.model_copy(update={"index_prefix": f"{settings.index_prefix}-super"})
    env = {**service_env, "DROPSIFT_INDEX_PREFIX": own.index_prefix}
    log = tmp_path / "worker.log"
    worker = WorkerProcess(env, log)
    worker.start()
    try:
        assert worker.proc is not None
        [celery] = _children(worker.proc.pid)
        os.kill(celery, signal.SIGKILL)  # as when kombu's "Unrecoverable error" ends it
        wait_for(lambda: log.read_bytes().count(b" ready.") >= 2, 90, what="a new worker")
        assert worker.alive() and _children(worker.proc.pid) != [celery]
        path = settings.inbox / "after-restart.txt"
        shutil.copy(SEEDS / "003_0fcbdef7ffe9cfd8.txt", path)
        ledger = compose.ledger(own, redis_client)
        submit_many([path], ledger, compose.publisher(own).process)
        [entry] = wait_terminal(ledger, [path]).values()
        assert entry.state == FileState.INDEXED
        assert b"worker_restarted" in log.read_bytes()
    finally:
        worker.stop()
        compose.remove_prefix(own, redis_client, es)
