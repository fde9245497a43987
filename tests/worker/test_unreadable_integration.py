"""Files the worker may not read, and names it cannot decode, with a watcher and a worker that
meet permission bits (the suite runs as root; see tests/support/procs.py).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support.files import story
from tests.support.procs import NO_DAC_OVERRIDE, run_cli
from tests.support.waiting import wait_for, wait_terminal
from tests.tasks.test_pipeline_integration import drop
from tests.worker.conftest import StartStack

pytestmark = pytest.mark.integration


def _unreadable(folder: Path, name: str, text: str) -> Path:
    path = drop(text.encode(), folder, name)
    path.chmod(0)
    # The point of the test: a process without root's override really cannot read it.
    probe = subprocess.run([*NO_DAC_OVERRIDE, "cat", str(path)], capture_output=True)
    assert probe.returncode != 0 and b"Permission denied" in probe.stderr
    return path


def test_an_unreadable_file_is_quarantined_and_the_others_go_through(
    own_stack: StartStack,
) -> None:
    stack = own_stack("nodac", wrap=NO_DAC_OVERRIDE)
    locked = _unreadable(stack.inbox, "locked.txt", story(20))
    normal = drop(story(21).encode(), stack.inbox, "normal.txt")

    assert wait_terminal(stack.ledger, [normal])[str(normal)].state == "indexed"
    entry = wait_for(
        lambda: (e := stack.ledger.get(str(locked))) and e.state == "quarantined" and e,
        60,
        what="the unreadable file to get a ledger entry",
    )
    assert entry.reason == "unreadable"
    assert "Permission denied" in entry.last_error


def test_ingest_reports_unreadable_files_odd_names_and_loops_instead_of_aborting(
    own_stack: StartStack, tmp_path: Path
) -> None:
    stack = own_stack("nodac", wrap=NO_DAC_OVERRIDE)
    folder = tmp_path / "backfill"
    folder.mkdir()
    good = drop(story(22).encode(), folder, "good.txt")
    _unreadable(folder, "locked.txt", story(23))
    drop(story(24).encode(), folder, os.fsdecode(b"caf\xe9.txt"))
    (folder / "a.txt").symlink_to(folder / "b.txt")
    (folder / "b.txt").symlink_to(folder / "a.txt")

    result = run_cli(
        "ingest",
        str(folder),
        "--timeout",
        "60",
        env={**stack.env, "COLUMNS": "250"},
        wrap=NO_DAC_OVERRIDE,
    )

    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert "5 files" in result.stdout
    assert "unreadable" in result.stdout
    entry = stack.ledger.get(str(good))
    assert entry is not None and entry.state == "indexed"
