"""Fault scenarios of the inbox: copies, partial writes, bursts, changes, deletions, replays."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest

from tests.faults.proxy import PASS, SLOW
from tests.faults.support import Stack, article, env_int, new_marker, scan_index, wait_until
from worker.celery_app import create_app
from worker.compose import PROCESS_FILES

pytestmark = [pytest.mark.faults, pytest.mark.timeout(900)]

BURST = env_int("DROPSIFT_FAULT_BURST_FILES", 20000)


def docs_with(stack: Stack, marker: str) -> list[tuple[str, list[str]]]:
    """(id, sources) of every document whose body holds `marker`."""
    return [
        (d.doc_id, sorted(d.sources)) for d in scan_index(stack.es, stack.alias) if marker in d.body
    ]


def times_processed(stack: Stack, path: Path) -> int:
    return sum(e.get("path") == str(path) for p in stack.processes for e in p.events("file_done"))


def test_dup_content(stack: Stack) -> None:
    """The same content under two names, and the same file dropped twice: one document each."""
    stack.worker()
    stack.watcher()
    shared = new_marker()
    a = stack.inbox.drop("copy-a.txt", article(shared), shared)
    b = stack.inbox.drop("sub/copy-b.txt", article(shared), shared)
    again = new_marker()
    c = stack.inbox.drop("again.txt", article(again), again)
    stack.settle()
    c = stack.inbox.drop("again.txt", article(again), again)  # a new inode, a new mtime
    end = time.monotonic()
    stack.heal("dup-content", end)
    assert [sources for _, sources in docs_with(stack, shared)] == [sorted([str(a), str(b)])]
    assert [sources for _, sources in docs_with(stack, again)] == [[str(c)]]


def _write_slowly(path: Path, chunks: list[str], gap: float) -> None:
    # Gaps shorter than DROPSIFT_STABLE_SECONDS: the file never holds still until complete.
    with open(path, "a", encoding="utf-8") as handle:
        for chunk in chunks:
            handle.write(chunk)
            handle.flush()
            time.sleep(gap)


def test_partial_write(stack: Stack) -> None:
    """A file written in place over seconds, and one truncated mid-write then completed."""
    stack.worker()
    stack.watcher()
    marker = new_marker()
    slow = stack.inbox.path("slow.txt")
    paragraphs = article(marker, paragraphs=30).split("\n\n")
    _write_slowly(slow, [p + "\n\n" for p in paragraphs], gap=0.1)
    stack.manifest.files[str(slow)] = marker

    first, final = new_marker(), new_marker()
    truncated = stack.inbox.path("truncated.txt")
    half = article(first, paragraphs=10)
    _write_slowly(truncated, [half[: len(half) // 2]], gap=0.1)
    with open(truncated, "w", encoding="utf-8"):
        pass  # the producer starts over
    time.sleep(0.1)
    _write_slowly(truncated, [p + "\n\n" for p in article(final, paragraphs=10).split("\n\n")], 0.1)
    stack.manifest.files[str(truncated)] = final
    end = time.monotonic()
    stack.heal("partial-write", end)

    [(_, _)] = docs_with(stack, marker)
    body = next(d.body for d in scan_index(stack.es, stack.alias) if marker in d.body)
    assert body.count(marker) == 30  # every paragraph, the last one included
    assert not docs_with(stack, first)
    assert times_processed(stack, slow) == 1  # never a half version first
    assert times_processed(stack, truncated) == 1


def test_inotify_burst(stack: Stack) -> None:
    """Thousands of files written then renamed in within seconds: all of them indexed."""
    stack.worker()
    stack.watcher()
    started = time.monotonic()
    stack.inbox.drop_many(BURST, prefix="burst", folders=20)
    print(f"inotify-burst: {BURST} files renamed in within {time.monotonic() - started:.1f}s")
    end = time.monotonic()
    stack.heal("inotify-burst", end, timeout=max(120.0, BURST / 20))


def test_file_update(stack: Stack) -> None:
    """A changed file: its new content replaces the old in the index."""
    stack.worker()
    stack.watcher()
    paths = stack.inbox.drop_many(10, prefix="page")
    stack.settle()
    for path in paths[:5]:
        marker = new_marker()
        stack.inbox.drop(path.name, article(marker), marker)
    end = time.monotonic()
    stack.heal("file-update", end)


def test_file_delete(stack: Stack) -> None:
    """A deleted file's document goes, unless another file still holds the same content."""
    stack.worker()
    stack.watcher()
    shared, alone = new_marker(), new_marker()
    a = stack.inbox.drop("held-a.txt", article(shared), shared)
    b = stack.inbox.drop("held-b.txt", article(shared), shared)
    c = stack.inbox.drop("alone.txt", article(alone), alone)
    stack.inbox.drop_many(5, prefix="bystander")
    stack.settle()
    stack.inbox.delete(a)
    stack.inbox.delete(c)
    end = time.monotonic()
    stack.heal("file-delete", end)
    assert [sources for _, sources in docs_with(stack, shared)] == [[str(b)]]
    assert not docs_with(stack, alone)


def test_file_readd(stack: Stack) -> None:
    """A file deleted and later added back with the same content is indexed again."""
    stack.worker()
    stack.watcher()
    touched, kept = new_marker(), new_marker()
    x = stack.inbox.drop("comeback.txt", article(touched), touched)
    y = stack.inbox.drop("comeback-same-mtime.txt", article(kept), kept)
    stack.settle()
    mtime_ns = y.stat().st_mtime_ns
    stack.inbox.delete(x)
    stack.inbox.delete(y)
    stack.settle()
    assert not docs_with(stack, touched) and not docs_with(stack, kept)
    stack.inbox.drop(x.name, article(touched), touched)  # written again: a new mtime
    stack.inbox.drop(y.name, article(kept), kept)
    os.utime(y, ns=(mtime_ns, mtime_ns))  # moved back as it was: the same mtime
    end = time.monotonic()
    stack.heal("file-readd", end)


def test_stale_replay(stack: Stack) -> None:
    """A task for an older version, delivered after the newer version was processed."""
    stack.worker()
    stack.watcher()
    old, new = new_marker(), new_marker()
    path = stack.inbox.drop("versioned.txt", article(old), old)
    stack.settle()
    stack.inbox.drop(path.name, article(new), new)
    stack.settle()
    done = times_processed(stack, path)
    app = create_app(stack.settings())
    app.send_task(PROCESS_FILES, args=[[str(path)]])  # the old version's task, replayed
    wait_until(lambda: times_processed(stack, path) > done, 60, "the replayed task to run")
    end = time.monotonic()
    stack.heal("stale-replay", end)
    assert not docs_with(stack, old)


def test_stale_replay_in_flight(stack: Stack) -> None:
    """Two versions in flight at once, the older one finishing last: the newer content stays."""
    stack.worker()
    stack.watcher()
    old, new = new_marker(), new_marker()
    # The old version's bulk request is held back at the proxy until the new one is indexed.
    stack.proxy.set(SLOW, delay=8, before=True, marker=old, remaining=1)
    path = stack.inbox.drop(f"race-{uuid.uuid4().hex[:6]}.txt", article(old), old)
    wait_until(lambda: stack.proxy.stats.delayed == 1, 60, "the old version's bulk request")
    stack.inbox.drop(path.name, article(new), new)
    wait_until(lambda: stack.proxy.mode == PASS, 5, "the fault to be used up")
    time.sleep(9)  # the held request goes through now
    end = time.monotonic()
    stack.heal("stale-replay-in-flight", end)
    assert not docs_with(stack, old)
