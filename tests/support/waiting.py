"""Polling for a condition (and for files to reach a final state), failing the test with what
it waited for."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from worker.pipeline.ledger import Entry, Ledger
from worker.pipeline.states import TERMINAL


def wait_for(
    predicate: Callable[[], Any], timeout: float = 60.0, every: float = 0.2, what: str = "condition"
) -> Any:
    """Poll until predicate() is truthy; fail the test with `what` after the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(every)


def wait_terminal(ledger: Ledger, paths: list[Path], timeout: float = 90.0) -> dict[str, Entry]:
    """Wait until every path has a terminal ledger state; returns path -> entry."""
    keys = [str(p) for p in paths]

    def done() -> dict[str, Entry] | None:
        entries = {k: ledger.get(k) for k in keys}
        if all(e is not None and e.state in TERMINAL for e in entries.values()):
            return {k: e for k, e in entries.items() if e is not None}
        return None

    return wait_for(done, timeout, what=f"{len(keys)} files to reach a final state")  # type: ignore[no-any-return]
