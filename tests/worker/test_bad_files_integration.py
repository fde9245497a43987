"""Awkward files on disk, through the real watcher and worker: each ends searchable or in
quarantine with a reason, and none stops the watcher.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.files import release_fifo, story
from tests.support.procs import WorkerProcess
from tests.support.waiting import wait_for, wait_terminal
from tests.tasks.test_pipeline_integration import drop
from tests.worker.conftest import Stack
from worker.pipeline.ledger import Ledger
from worker.settings import Settings

pytestmark = pytest.mark.integration


def test_names_with_spaces_tabs_newlines_and_other_scripts_are_indexed(stack: Stack) -> None:
    inbox = stack.inbox
    names = ["two words.txt", "tab\there.txt", "line\nbreak.txt", "ünïcode ✓ 新闻.txt", " lead.txt"]
    paths = [drop(story(n).encode(), inbox, name) for n, name in enumerate(names)]

    entries = wait_terminal(stack.ledger, paths)

    assert {Path(k).name: e.state for k, e in entries.items()} == dict.fromkeys(names, "indexed")
    for n, path in enumerate(paths):
        assert stack.searchable(n) == {entries[str(path)].doc_id}
        doc = stack.source(entries[str(path)].doc_id)
        assert doc["sources"] == [str(path)]


def test_a_name_that_is_not_utf8_gets_a_ledger_entry_and_a_final_state(stack: Stack) -> None:
    inbox = stack.inbox
    # Latin-1 "café.txt": a name Linux allows and a UTF-8 system cannot decode.
    odd = drop(story(1).encode(), inbox, os.fsdecode(b"caf\xe9.txt"))
    normal = drop(story(2).encode(), inbox, "after.txt")

    entries = wait_terminal(stack.ledger, [normal, odd])

    assert entries[str(normal)].state == "indexed"
    entry = entries[str(odd)]
    # Searchable, or refused with a reason a person can read; never retried forever unseen.
    assert entry.state == "indexed" or (entry.state == "quarantined" and entry.reason), entry
    if entry.state == "indexed":
        assert stack.searchable(1) == {entry.doc_id}


def test_a_file_sixty_folders_deep_is_indexed_with_its_site(stack: Stack) -> None:
    inbox = stack.inbox
    folder = inbox.joinpath(*(f"level-{i:02}" for i in range(60)))
    folder.mkdir(parents=True)
    path = drop(story(3).encode(), folder, "deep.txt")

    entry = wait_terminal(stack.ledger, [path])[str(path)]

    assert entry.state == "indexed"
    doc = stack.source(entry.doc_id)
    assert doc["site"] == "level-00"
    assert stack.searchable(3) == {entry.doc_id}


def test_a_symlink_out_of_the_inbox_is_quarantined_and_not_read(
    stack: Stack, tmp_path: Path
) -> None:
    inbox = stack.inbox
    secret = tmp_path / "outside.txt"
    secret.write_text(story(4))
    link = inbox / "link.txt"
    link.symlink_to(secret)
    normal = drop(story(5).encode(), inbox, "normal.txt")

    entries = wait_terminal(stack.ledger, [link, normal])

    assert (entries[str(link)].state, entries[str(link)].reason) == (
        "quarantined",
        "symlink_outside_inbox",
    )
    assert str(secret) in entries[str(link)].last_error
    assert entries[str(normal)].state == "indexed"
    assert stack.searchable(4) == set()


def test_a_symlink_loop_in_the_inbox_does_not_stop_the_watcher(stack: Stack) -> None:
    inbox = stack.inbox
    (inbox / "loops").mkdir()
    a, b = inbox / "loops" / "a.txt", inbox / "loops" / "b.txt"
    a.symlink_to(b)
    b.symlink_to(a)
    # Dropped after the loop: the watcher must still be there to see it.
    normal = drop(story(6).encode(), inbox, "normal.txt")

    entries = wait_terminal(stack.ledger, [normal, a, b], timeout=60)

    assert entries[str(normal)].state == "indexed"
    assert stack.searchable(6) == {entries[str(normal)].doc_id}
    for link in (a, b):
        entry = entries[str(link)]
        assert entry.state == "quarantined" and entry.reason, entry
        assert "symbolic links" in entry.last_error or "loop" in entry.last_error, entry


def test_a_file_gone_before_the_worker_reads_it_is_recorded_as_vanished(
    running_worker: WorkerProcess,
    settings: Settings,
    ledger: Ledger,
    send: Callable[[list[str]], None],
) -> None:
    path = drop(story(7).encode(), settings.inbox, "brief.txt")
    path.unlink()  # after the watcher queued it, before a worker opened it
    send([str(path)])

    entry = wait_terminal(ledger, [path])[str(path)]

    assert entry.state == "vanished"
    assert entry.last_error


def test_a_file_gone_before_it_settled_leaves_the_watcher_working(stack: Stack) -> None:
    inbox = stack.inbox
    for n in range(20):
        flash = drop(story(100 + n).encode(), inbox, f"flash-{n}.txt")
        flash.unlink()
    normal = drop(story(8).encode(), inbox, "normal.txt")

    entry = wait_terminal(stack.ledger, [normal])[str(normal)]

    assert entry.state == "indexed"
    for n in range(20):
        gone = stack.ledger.get(str(inbox / f"flash-{n}.txt"))
        assert gone is None or gone.state in {"vanished", "deleted"}, gone
    assert all(not stack.searchable(100 + n) for n in range(20))


def test_a_file_deleted_and_added_back_is_indexed_again(stack: Stack) -> None:
    inbox = stack.inbox
    content = story(9).encode()
    path = drop(content, inbox, "story.txt")
    first = wait_terminal(stack.ledger, [path])[str(path)]
    assert first.state == "indexed"
    wait_for(lambda: stack.entry(path).produced, 10, what="the ledger to record output")

    path.unlink()
    wait_for(lambda: stack.entry(path).state == "deleted", 30, what="the deletion")
    wait_for(lambda: not stack.searchable(9), 30, what="the document to go")

    drop(content, inbox, "story.txt")  # the same name and the same content, back again

    again = wait_for(
        lambda: (e := stack.ledger.get(str(path))) and e.state == "indexed" and e,
        3 * stack.settings.rescan_seconds + 30,
        what="the file added back to be indexed again",
    )
    assert again.doc_id == first.doc_id
    wait_for(lambda: stack.searchable(9) == {first.doc_id}, 30, what="it to be searchable")


def test_a_named_pipe_in_the_inbox_does_not_hang_the_watcher(stack: Stack) -> None:
    fifo = stack.inbox / "pipe.txt"
    os.mkfifo(fifo)
    normal = drop(story(10).encode(), stack.inbox, "normal.txt")
    try:
        entries = wait_terminal(stack.ledger, [normal, fifo], timeout=60)
    finally:
        release_fifo(fifo)  # whatever waits on the pipe (today: the watcher) is let go

    assert entries[str(normal)].state == "indexed"
    entry = entries[str(fifo)]
    assert entry.state == "quarantined" and entry.reason, entry
    assert "pipe" in entry.last_error, entry
