"""Fault scenarios of the services: Redis wiped or away, Elasticsearch away, slow or refusing."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.faults.proxy import CUT, DOWN, PASS, REJECT_ITEM, SLOW, TOO_MANY
from tests.faults.support import (
    RedisServer,
    RssSampler,
    Stack,
    article,
    env_int,
    new_marker,
    note,
    wait_until,
)

pytestmark = [pytest.mark.faults, pytest.mark.timeout(600)]

LOAD = env_int("DROPSIFT_FAULT_FILES", 200)
OUTAGE_SECONDS = env_int("DROPSIFT_FAULT_OUTAGE_SECONDS", 20)
# Longer than the worker's Elasticsearch request timeout (60 s), so the request times out.
SLOW_SECONDS = env_int("DROPSIFT_FAULT_SLOW_SECONDS", 62)


@pytest.mark.parametrize(
    ("name", "wipe"),
    [
        ("redis-wipe-flushall", RedisServer.flushall),
        ("redis-wipe-restart", RedisServer.restart_empty),
    ],
    ids=["flushall", "restart-empty"],
)
def test_redis_wipe(stack: Stack, name: str, wipe: Callable[[RedisServer], None]) -> None:
    """Redis wiped under load (FLUSHALL, or a restart without persistence): queue, ledger and
    registry gone; the rescan queues everything again and nothing is lost."""
    stack.worker()
    stack.watcher()
    stack.inbox.drop_many(LOAD)
    stack.wait_states("indexed", LOAD // 4)
    wipe(stack.redis_server)
    end = time.monotonic()
    stack.heal(name, end)


def test_redis_down_publish(stack: Stack) -> None:
    """Redis stopped while files arrive, started again: every file is indexed."""
    stack.worker()
    stack.watcher()
    stack.inbox.drop_many(20, prefix="before")
    stack.settle()
    stack.redis_server.stop()
    stack.inbox.drop_many(20, prefix="down-a")
    time.sleep(OUTAGE_SECONDS / 2)
    stack.inbox.drop_many(20, prefix="down-b")
    time.sleep(OUTAGE_SECONDS / 2)
    stack.redis_server.start()
    end = time.monotonic()
    stack.heal("redis-down-publish", end)


def test_es_down_at_worker_start(stack: Stack) -> None:
    """Elasticsearch unreachable while a fresh worker builds its pipeline: files still arrive."""
    stack.proxy.set(DOWN)
    worker = stack.worker()
    stack.watcher()
    stack.inbox.drop_many(20)
    wait_until(lambda: stack.proxy.stats.refused > 0, 60, "the worker to meet Elasticsearch down")
    time.sleep(5)
    stack.proxy.set(PASS)
    end = time.monotonic()
    stack.heal("es-down-at-worker-start", end)
    assert worker.alive()
    # An outage is not the files' fault: their task waits and retries, it does not fail (a
    # failed task is acknowledged, and only the watcher's stale re-send, an hour later with
    # the default settings, would bring its files back).
    failed = [line for line in worker.text().splitlines() if "raised unexpected" in line]
    assert not failed, failed[:2]


def test_es_outage(stack: Stack) -> None:
    """Elasticsearch unreachable for a while under load: the backlog drains, memory stays flat."""
    worker = stack.worker()
    stack.watcher()
    with RssSampler(worker) as rss:
        stack.inbox.drop_many(LOAD)
        stack.wait_states("indexed", LOAD // 5)
        stack.proxy.set(DOWN)
        stack.inbox.drop_many(LOAD // 2, prefix="during")
        time.sleep(OUTAGE_SECONDS)
        stack.proxy.set(PASS)
        end = time.monotonic()
        stack.heal("es-outage", end)
    note(
        f"es-outage worker peak RSS: {rss.peak_one_kib / 1024:.0f} MB in one process, "
        f"{rss.peak_total_kib / 1024:.0f} MB for main and pool together"
    )
    assert stack.proxy.stats.refused > 0
    # The worker recycles a child past 800 MB; a backlog must not get anywhere near that.
    assert rss.peak_one_kib < 800 * 1024


@pytest.mark.parametrize(
    ("name", "mode", "counter"),
    [("es-429", TOO_MANY, "too_many"), ("bulk-response-lost", CUT, "cut")],
    ids=["429", "response-lost"],
)
def test_bulk_faults(stack: Stack, name: str, mode: str, counter: str) -> None:
    """Bulk requests answered 429, or executed with the answer cut off: retried with backoff,
    nothing lost or doubled."""
    worker = stack.worker()
    stack.watcher()
    stack.proxy.set(mode, remaining=4)
    stack.inbox.drop_many(40)
    wait_until(lambda: stack.proxy.mode == PASS, 120, f"four {mode} faults to be injected")
    end = time.monotonic()
    stack.heal(name, end)
    assert getattr(stack.proxy.stats, counter) == 4
    assert worker.events("bulk_retry")


def test_es_slow(stack: Stack) -> None:
    """A bulk answer slower than the client's timeout: the request is retried with backoff."""
    worker = stack.worker()
    stack.watcher()
    stack.proxy.set(SLOW, delay=SLOW_SECONDS, remaining=1)
    stack.inbox.drop_many(20)
    wait_until(lambda: worker.events("bulk_retry"), SLOW_SECONDS + 60, "a bulk_retry event")
    end = time.monotonic()
    stack.heal("es-slow", end)
    assert stack.proxy.stats.delayed == 1


def test_mapping_error(stack: Stack) -> None:
    """One document Elasticsearch refuses (400): quarantined with the reason, the rest indexed."""
    stack.worker()
    watcher = stack.watcher(start=False)
    bad_marker = new_marker()
    stack.proxy.set(REJECT_ITEM, marker=bad_marker)
    staged = [(f"good-{i:02d}.txt", new_marker()) for i in range(15)]
    tmps = [(name, stack.inbox.stage(name, article(marker))) for name, marker in staged]
    tmps.append(("refused.txt", stack.inbox.stage("refused.txt", article(bad_marker))))
    for name, tmp in tmps:
        stack.inbox.place(name, tmp)
    for name, marker in staged:
        stack.manifest.files[str(stack.inbox.path(name))] = marker
    refused = str(stack.inbox.path("refused.txt"))
    stack.manifest.quarantined[refused] = "index_rejected"
    watcher.start()
    end = time.monotonic()
    stack.heal("mapping-error", end)
    assert stack.proxy.stats.rejected_items >= 1
    assert "strict_dynamic_mapping_exception" in stack.ledger([refused])[refused].last_error
