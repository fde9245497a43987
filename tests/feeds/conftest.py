"""Fixtures of the feed tests: the pipeline as a worker builds it, without the slow enrichers."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import pytest

from worker.pipeline.context import Context


@pytest.fixture
def ctx(fast_context: Context) -> Context:
    return fast_context


_NAMES = ("Ana", "Bo", "Cy", "Di", "Ed", "Fa", "Gu", "Hi")
_PLACES = ("harbour", "airport", "library", "stadium", "museum", "station", "market", "bridge")


def make_item(salt: str) -> Callable[..., str]:
    """Items whose bodies carry `salt`: the index keeps a deleted document's version for a
    while, and tests count the versions their documents were written with."""

    def item(n: int, **extra: str) -> str:
        """One JSON Lines item, its newline included; items differ in more than a number."""
        place = _PLACES[n % len(_PLACES)]
        body = (
            f"The {place} of district {n} reopened on Tuesday after {n + 2} weeks of repairs, "
            f"officials said. Residents queued from dawn; one of them, a teacher called "
            f"{_NAMES[n % 8]}{n}, said the wait had been worth it. "
            f"The council will publish the costs of the {place} works in report {n * 37}. "
            f"Reference {salt}-{n}."
        )
        title = f"Item {n}: the {place} reopens"
        return json.dumps({"title": title, "body": body, **extra}) + "\n"

    return item


@pytest.fixture
def item() -> Callable[..., str]:
    return make_item(uuid.uuid4().hex[:12])
