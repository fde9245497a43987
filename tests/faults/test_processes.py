"""Fault scenarios of the processes: killed workers and children, a poison file, restarts."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.faults.crashy import POISON_MARKER
from tests.faults.support import (
    FAST_ENRICHERS,
    Process,
    Stack,
    article,
    env_int,
    new_marker,
    wait_until,
)

pytestmark = [pytest.mark.faults, pytest.mark.timeout(600)]

LOAD = env_int("DROPSIFT_FAULT_FILES", 200)


def strike_when_busy(stack: Stack, indexed: int, timeout: float = 120.0) -> dict[str, int]:
    """Wait until `indexed` files are done and a batch is being processed; the states then."""

    def busy() -> dict[str, int] | None:
        states = stack.count_states()
        if states.get("indexed", 0) >= indexed and states.get("processing", 0) > 0:
            return states
        return None

    return wait_until(busy, timeout, f"{indexed} files indexed and a batch in progress", every=0.05)  # type: ignore[no-any-return]


def _cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def busiest_child(worker: Process) -> int:
    """The pool child that used the most CPU over a short look: the one running a task."""
    children = wait_until(worker.children, 30, "the worker's pool children")
    before = {pid: _cpu_ticks(pid) for pid in children}
    time.sleep(0.2)
    return max(children, key=lambda pid: _cpu_ticks(pid) - before[pid])


def kill_child_mid_task(stack: Stack, worker: Process, tries: int = 5) -> int:
    """SIGKILL a pool child while it runs a task (Celery reports the task's worker lost)."""
    for _ in range(tries):
        strike_when_busy(stack, 16, timeout=240)
        child = busiest_child(worker)
        lost_before = worker.text().count("WorkerLostError")
        os.kill(child, signal.SIGKILL)
        with contextlib.suppress(pytest.fail.Exception):
            wait_until(
                lambda before=lost_before: worker.text().count("WorkerLostError") > before,
                5,
                "the task of the killed child to be reported lost",
            )
            return child
    pytest.fail(f"no kill of {tries} hit a child in the middle of a task")


def test_worker_sigkill(stack: Stack) -> None:
    """SIGKILL the worker (main process and pool) mid-batch, start it again."""
    worker = stack.worker()
    stack.watcher()
    stack.inbox.drop_many(LOAD)
    states = strike_when_busy(stack, LOAD // 5)
    worker.kill()
    worker.start()
    end = time.monotonic()
    print(f"killed with {states}")
    stack.heal("worker-sigkill", end)


def test_child_kill(make_stack: Callable[..., Stack]) -> None:
    """SIGKILL one pool child mid-task, with the full default enrichers (spaCy included)."""
    stack = make_stack(enrichers=["language", "stats", "summary", "keywords", "entities"])
    worker = stack.worker()
    stack.watcher()
    stack.inbox.drop_many(LOAD)
    child = kill_child_mid_task(stack, worker)
    end = time.monotonic()
    stack.heal("child-kill", end, timeout=240)
    assert worker.alive()
    assert child not in worker.children()


def drop_poison_batch(stack: Stack) -> tuple[str, str]:
    """Fifteen good files and one holding POISON_MARKER, staged together and renamed in at
    once while the watcher is stopped, so they travel in one batch; the mates go in the
    manifest. Returns the poison file's path and its own marker."""
    mates = [(f"mate-{i:02d}.txt", new_marker()) for i in range(15)]
    staged = [(name, stack.inbox.stage(name, article(marker))) for name, marker in mates]
    marker = new_marker()
    # In the paragraphs: the first line becomes the title, not the body.
    text = article(marker).replace(marker, f"{marker} {POISON_MARKER}")
    staged.append(("poison.txt", stack.inbox.stage("poison.txt", text)))
    for name, tmp in staged:
        stack.inbox.place(name, tmp)
    for name, mate in mates:
        stack.manifest.files[str(stack.inbox.path(name))] = mate
    return str(stack.inbox.path("poison.txt")), marker


def test_poison(make_stack: Callable[..., Stack]) -> None:
    """A file that kills its pool child every time: quarantined as poison, batch-mates indexed."""
    stack = make_stack(enrichers=[*FAST_ENRICHERS, "tests.faults.crashy:Crashy"])
    worker = stack.worker()
    stack.watcher(start=False)
    poison, _ = drop_poison_batch(stack)
    stack.manifest.quarantined[poison] = "poison"
    stack.processes[-1].start()
    end = time.monotonic()
    stack.heal("poison", end)
    row = stack.ledger([poison])[poison]
    assert row.attempts <= 4, row  # three deliveries, then quarantined on the fourth
    assert worker.alive()


def enrichment_counts(stack: Stack) -> dict[str, int]:
    """Indexed files by their phase 2 state (pending, enriched, failed)."""
    counts: dict[str, int] = {}
    for row in stack.ledger().values():
        if row.state == "indexed":
            counts[row.enrichment] = counts.get(row.enrichment, 0) + 1
    return counts


def test_enricher_sigkill(stack: Stack) -> None:
    """SIGKILL the phase 2 worker mid-enrichment, start it again: every document is enriched,
    none lost or indexed twice, and phase 1 went on meanwhile."""
    stack.worker(phase="1")
    enricher = stack.worker(phase="2", concurrency=1)
    stack.watcher()
    stack.inbox.drop_many(LOAD)

    def busy() -> dict[str, int] | None:
        counts = enrichment_counts(stack)
        return counts if counts.get("enriched", 0) >= 10 and counts.get("pending") else None

    counts = wait_until(busy, 120, "10 documents enriched and more pending", every=0.05)
    enricher.kill()
    print(f"killed with {counts}")
    # Phase 1 goes on without phase 2: files dropped now become searchable, pending.
    later = [str(p) for p in stack.inbox.drop_many(20, prefix="later")]

    def searchable_meanwhile() -> bool:
        rows = stack.ledger(later)
        return len(rows) == len(later) and all(
            r.state in ("indexed", "duplicate") for r in rows.values()
        )

    wait_until(searchable_meanwhile, 60, "files dropped after the kill to be indexed")
    assert all(r.enrichment == "pending" for r in stack.ledger(later).values())
    enricher.start()
    end = time.monotonic()
    stack.heal("enricher-sigkill", end)


def test_enrichment_poison(make_stack: Callable[..., Stack]) -> None:
    """A document whose enrichment kills its pool child every time: it stays searchable
    with phase 1's fields and is given up in phase 2 (ledger `failed`); its batch-mates are
    enriched."""
    stack = make_stack(enrichers=[*FAST_ENRICHERS, "tests.faults.crashy:CrashyLate"])
    worker = stack.worker()
    stack.watcher(start=False)
    poison, marker = drop_poison_batch(stack)
    stack.manifest.files[poison] = marker
    stack.manifest.enrich_failed.add(poison)
    stack.processes[-1].start()
    end = time.monotonic()
    stack.heal("enrichment-poison", end)
    assert worker.alive()


def test_watcher_downtime(stack: Stack) -> None:
    """Files that arrive while the watcher is stopped are picked up by its startup scan."""
    stack.worker()
    watcher = stack.watcher()
    stack.inbox.drop_many(10, prefix="before")
    stack.settle()
    watcher.stop()
    arrived = stack.inbox.drop_many(30, prefix="during")
    time.sleep(3)
    assert not stack.ledger([str(p) for p in arrived])  # nobody saw them yet
    watcher.start()
    end = time.monotonic()
    stack.heal("watcher-downtime", end)


def test_restart_everything(stack: Stack) -> None:
    """SIGKILL the worker and the watcher mid-run; files keep arriving; start both again."""
    worker = stack.worker()
    watcher = stack.watcher()
    stack.inbox.drop_many(LOAD)
    strike_when_busy(stack, LOAD // 4)
    watcher.kill()
    worker.kill()
    stack.inbox.drop_many(20, prefix="while-down")
    time.sleep(2)
    watcher.start()
    worker.start()
    end = time.monotonic()
    stack.heal("restart-everything", end)
