"""The outcomes index on the real Elasticsearch: template, daily indices, alias, retention."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from elasticsearch import Elasticsearch

from search.events import (
    EVENTS_MAPPINGS,
    delete_expired_events,
    drop_events,
    ensure_events_index,
    event_actions,
    event_record,
    events_alias,
    events_index,
)
from worker.settings import Settings

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def prefix(es: Elasticsearch, settings: Settings) -> Iterator[str]:
    drop_events(es, settings.index_prefix)
    yield settings.index_prefix
    drop_events(es, settings.index_prefix)


def test_ensure_creates_todays_index_behind_the_alias_with_the_mapping(
    es: Elasticsearch, prefix: str
) -> None:
    index = ensure_events_index(es, prefix, now=NOW)
    assert index == f"{prefix}-events-2026.03.10"
    assert ensure_events_index(es, prefix, now=NOW) == index  # idempotent
    assert list(es.indices.get_alias(name=events_alias(prefix))) == [index]
    mapping = es.indices.get_mapping(index=index)[index]["mappings"]
    assert mapping["dynamic"] == "strict"
    assert mapping["properties"]["state"] == EVENTS_MAPPINGS["properties"]["state"]
    assert mapping["properties"]["timings"]["properties"]["index_ms"] == {"type": "float"}


def test_a_daily_index_made_before_a_field_was_added_learns_it(
    es: Elasticsearch, prefix: str
) -> None:
    """Today's index of an older version lacks `phase`: a phase 2 record would be refused
    by its strict mapping until ensure adds the field."""
    older = {**EVENTS_MAPPINGS, "properties": dict(EVENTS_MAPPINGS["properties"])}
    del older["properties"]["phase"]
    index = events_index(prefix, NOW)
    es.indices.create(index=index, mappings=older, aliases={events_alias(prefix): {}})
    assert ensure_events_index(es, prefix, now=NOW) == index
    record = event_record(path="/inbox/a.txt", state="enriched", doc_id="d1", time=NOW)
    response = es.bulk(operations=event_actions(prefix, [record]), refresh=True)
    assert not response["errors"], response["items"]
    hit = es.search(index=events_alias(prefix))["hits"]["hits"][0]["_source"]
    assert (hit["state"], hit["phase"]) == ("enriched", 2)


def test_records_written_with_a_bulk_land_in_their_days_index_and_a_retry_does_not_double(
    es: Elasticsearch, prefix: str
) -> None:
    ensure_events_index(es, prefix, now=NOW)
    records = [
        event_record(
            path="/inbox/a.txt",
            state="indexed",
            time=datetime(2026, 3, 9, 23, 59, tzinfo=UTC),
            doc_id="d1",
            site="example.com",
            format="text",
            bytes=1234,
            timings={"extract": 1.5, "index": 3.25, "total": 9},
            lag_seconds=2.5,
            worker="w1@host",
        ),
        event_record(
            path="/inbox/feed.jsonl#L3",
            state="quarantined",
            time=NOW,
            reason="bad_item",
            detail="line 3: not an object",
            format="jsonl",
        ),
    ]
    body = event_actions(prefix, records)
    for _ in range(2):  # the same bulk sent twice, as a retried request would be
        response = es.bulk(operations=body, refresh=True)
        assert not response["errors"], response
    hits = es.search(index=events_alias(prefix), size=10, sort=["time"])["hits"]["hits"]
    assert [(h["_index"], h["_source"]["state"]) for h in hits] == [
        (f"{prefix}-events-2026.03.09", "indexed"),
        (f"{prefix}-events-2026.03.10", "quarantined"),
    ]
    # The previous day's index was created by the write itself, from the template.
    auto = f"{prefix}-events-2026.03.09"
    assert es.indices.get_mapping(index=auto)[auto]["mappings"]["dynamic"] == "strict"
    assert hits[1]["_source"]["file"] == "/inbox/feed.jsonl"
    assert hits[1]["_source"]["item"] == 3
    assert hits[0]["_source"]["timings"] == {"extract_ms": 1.5, "index_ms": 3.25, "total_ms": 9.0}
    # "why was my file quarantined" is a query on keyword fields
    found = es.search(
        index=events_alias(prefix),
        query={"bool": {"filter": [{"term": {"state": "quarantined"}}]}},
        aggs={"reasons": {"terms": {"field": "reason"}}},
    )
    assert [b["key"] for b in found["aggregations"]["reasons"]["buckets"]] == ["bad_item"]


def test_retention_deletes_only_days_older_than_the_setting(es: Elasticsearch, prefix: str) -> None:
    ensure_events_index(es, prefix, now=NOW)
    days = ["2026.02.01", "2026.03.03", "2026.03.04", "2026.03.09"]
    for day in days:
        es.indices.create(index=f"{prefix}-events-{day}")
    # An index that merely shares the prefix is not ours to delete.
    stranger = f"{prefix}-events-archive"
    es.indices.create(index=stranger)
    try:
        deleted = delete_expired_events(es, prefix, retention_days=7, now=NOW)
        assert deleted == [f"{prefix}-events-2026.02.01", f"{prefix}-events-2026.03.03"]
        left = set(es.indices.get(index=f"{prefix}-events-*"))
        assert left == {
            f"{prefix}-events-2026.03.04",
            f"{prefix}-events-2026.03.09",
            events_index(prefix, NOW),
            stranger,
        }
        assert delete_expired_events(es, prefix, retention_days=7, now=NOW) == []
    finally:
        es.options(ignore_status=404).indices.delete(index=stranger)
