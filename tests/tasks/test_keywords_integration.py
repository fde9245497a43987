"""Keywords' document frequencies in Redis, shared by every worker."""

from __future__ import annotations

import pytest
import redis

from tasks.enrichers.keywords import RedisFrequencies, slot
from worker.settings import Settings

pytestmark = pytest.mark.integration


def test_workers_count_into_one_table_of_fixed_size(
    settings: Settings, redis_client: redis.Redis, clean_state: None
) -> None:
    one = RedisFrequencies(redis_client, settings.key_prefix)
    other = RedisFrequencies(redis_client, settings.key_prefix)  # another worker
    docs, found = one.observe([{"ceasefire", "peace talks"}, {"ceasefire"}])
    assert docs == 2 and found == [{"ceasefire": 1, "peace talks": 1}, {"ceasefire": 2}]
    docs, found = other.observe([{"ceasefire", "tramway"}, set()])
    assert docs == 4 and found == [{"ceasefire": 3, "tramway": 1}, {}]
    # One string of 16-bit counters, as long as the highest slot written: never per phrase.
    highest = max(slot(p) for p in ("ceasefire", "peace talks", "tramway"))
    assert redis_client.strlen(one.table) == (highest + 1) * 2
    assert redis_client.type(one.table) == "string"
