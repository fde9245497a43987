"""Polling for a condition, failing the test with what it waited for."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest


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
