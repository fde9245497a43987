"""The local stack's Redis start, against a real redis-server on a spare port."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.worker.test_cli_integration import free_port
from worker.settings import Settings
from worker.stack import redis_state, redis_up

pytestmark = pytest.mark.integration

_KEYS = 2_000_000
_CHUNK = 200_000
_FILL = "for i = ARGV[1], ARGV[2] do redis.call('SET', 'k' .. i, i) end return 1"


@pytest.fixture
def spare(tmp_path: Path) -> Iterator[Settings]:
    """Settings for a Redis of our own (port and state folder), shut down afterwards."""
    settings = Settings(redis_url=f"redis://127.0.0.1:{free_port()}/0", state_dir=tmp_path)
    yield settings
    # Not running, or gone with the shutdown (whose reply never comes).
    with contextlib.suppress(redis.ConnectionError):
        redis.Redis.from_url(settings.redis_url).shutdown(nosave=True)


def test_a_redis_replaying_a_big_append_only_file_is_waited_for(spare: Settings) -> None:
    assert redis_up(spare) == "started"
    client = redis.Redis.from_url(spare.redis_url, socket_timeout=120)
    for low in range(1, _KEYS + 1, _CHUNK):  # 2M SETs in the append-only file: seconds to replay
        client.eval(_FILL, 0, low, low + _CHUNK - 1)
    client.shutdown()  # persists; the next start replays the file
    assert redis_state(spare) == "down"

    began = time.monotonic()
    # Half a second of silence would fail the start; a Redis that says "loading" is alive.
    assert redis_up(spare, wait=0.5) == "started"
    took = time.monotonic() - began
    assert client.dbsize() == _KEYS
    assert took > 0.5, f"the replay took {took:.2f}s: too short to show the wait"
    assert redis_up(spare, wait=0.5) == "reused"
