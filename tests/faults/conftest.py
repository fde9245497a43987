"""Fixtures of the fault suite: one private stack per scenario, torn down whatever happens."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.faults.support import REPORT, Stack


@pytest.fixture
def make_stack(request: pytest.FixtureRequest) -> Iterator[Callable[..., Stack]]:
    """Builds stacks for the test; every one is closed at its end, passed or failed.

    Their folders are not pytest's tmp_path: another pytest run on the machine may prune
    those while a long scenario still runs. DROPSIFT_FAULT_KEEP=1 keeps them (and the logs).
    """
    root = Path(tempfile.mkdtemp(prefix=f"dropsift-{request.node.name[:40]}-"))
    stacks: list[Stack] = []

    def make(enrichers: list[str] | None = None) -> Stack:
        stack = Stack(root / f"stack{len(stacks)}", enrichers)
        stacks.append(stack)
        return stack

    try:
        yield make
    finally:
        for stack in stacks:
            stack.close()
        if os.environ.get("DROPSIFT_FAULT_KEEP") != "1":
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def stack(make_stack: Callable[..., Stack]) -> Stack:
    """A private Redis, a fault proxy before Elasticsearch, an inbox and an index prefix."""
    return make_stack()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if REPORT:
        terminalreporter.write_sep("=", "fault scenarios")
        for line in REPORT:
            terminalreporter.write_line(line)
