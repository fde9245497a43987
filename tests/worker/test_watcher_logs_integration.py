"""The watcher logs what it did, once: nothing for a file it had nothing to do for."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from worker.pipeline.ledger import Ledger
from worker.settings import Settings
from worker.watcher import Watcher

pytestmark = pytest.mark.integration


def test_a_file_already_handled_is_not_logged_again_at_every_event(
    settings: Settings, ledger: Ledger, clean_state: None
) -> None:
    path = settings.inbox / "story.txt"
    path.write_text("A story about the harbour, told once.\n")
    sent: list[list[str]] = []
    watcher = Watcher(settings.inbox, ledger, sent.append, stable_seconds=0, rescan_seconds=60)
    with capture_logs() as first:
        for _ in range(3):  # seen, then held still: queued
            watcher.note(path)
            watcher.settle()
    assert sent == [[str(path)]]
    assert [e["queued"] for e in first if e["event"] == "files_queued"] == [1]
    with capture_logs() as later:
        for _ in range(3):  # more events of the same file, already queued
            watcher.note(path)
            watcher.settle()
    assert sent == [[str(path)]]
    assert not [e for e in later if e["event"] == "files_queued"]
