"""A file renamed into the inbox is queued at once; one written in place waits to settle."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from tests.support.waiting import wait_for
from worker.pipeline.ledger import Ledger
from worker.settings import Settings
from worker.watcher import Watcher


def test_a_renamed_file_skips_the_wait_a_file_written_in_place_keeps_it(
    settings: Settings, ledger: Ledger, clean_state: None, tmp_path: Path
) -> None:
    inbox = settings.inbox
    sent: list[list[str]] = []
    # An hour to hold still: only a file that needs no waiting can be queued in this test.
    watcher = Watcher(inbox, ledger, sent.append, stable_seconds=3600, rescan_seconds=3600)
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run, args=(stop,), kwargs={"tick": 0.05})
    thread.start()
    try:
        time.sleep(1)  # the inotify observer starts in the thread
        in_place = inbox / "in-place.txt"
        in_place.write_text("Written in place, line by line.\n")
        staged = inbox / ".renamed.txt.part"
        staged.write_text("Written under a temporary name, then renamed into place.\n")
        renamed = inbox / "renamed.txt"
        staged.rename(renamed)
        wait_for(lambda: [str(renamed)] in sent, 20, what="the renamed file to be queued")
    finally:
        stop.set()
        thread.join(timeout=10)
    assert all(str(in_place) not in batch for batch in sent)
