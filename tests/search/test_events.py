"""Event records and retention rules (pure functions)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from search.events import event_actions, event_record, events_index, expired_indices


def test_record_drops_empty_values_and_splits_items() -> None:
    record = event_record(
        path="/inbox/feed.jsonl#L12",
        state="quarantined",
        time=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        reason="bad_field_type",
        detail="x" * 5000,
        timings={"extract": 1.23456},
    )
    assert record["file"] == "/inbox/feed.jsonl"
    assert record["item"] == 12
    assert record["time"] == "2026-01-02T03:04:05+00:00"
    assert len(record["detail"]) == 2000
    assert record["timings"] == {"extract_ms": 1.235}
    assert "doc_id" not in record and "site" not in record


def test_a_file_is_no_item() -> None:
    record = event_record(path="/inbox/a.txt", state="indexed", doc_id="d")
    assert record["file"] == "/inbox/a.txt"
    assert "item" not in record


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"state": "lost"}, "unknown state"),
        ({"state": "indexed", "timings": {"parse": 1.0}}, "unknown stages"),
    ],
)
def test_record_refuses_what_the_strict_mapping_would(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        event_record(path="/inbox/a.txt", **kwargs)


def test_daily_index_is_the_utc_date() -> None:
    late_in_new_york = datetime(2026, 5, 1, 22, 30, tzinfo=timezone(timedelta(hours=-4)))
    assert events_index("p", late_in_new_york) == "p-events-2026.05.02"
    assert events_index("p", datetime(2026, 5, 1, 22, 30)) == "p-events-2026.05.01"  # naive: UTC


def test_actions_pair_each_record_with_its_days_index_and_a_stable_id() -> None:
    record = event_record(path="/a", state="deleted", time=datetime(2026, 5, 1, tzinfo=UTC))
    first = event_actions("p", [record])
    assert first[0]["index"]["_index"] == "p-events-2026.05.01"
    assert first[1] == record
    assert event_actions("p", [record])[0]["index"]["_id"] == first[0]["index"]["_id"]
    other = event_record(path="/a", state="indexed", time=datetime(2026, 5, 1, tzinfo=UTC))
    assert event_actions("p", [other])[0]["index"]["_id"] != first[0]["index"]["_id"]


def test_expired_indices_keep_the_retention_window_and_ignore_other_names() -> None:
    names = [
        "p-events-2026.05.10",  # today
        "p-events-2026.05.04",  # 7th day back: kept with retention 7
        "p-events-2026.05.03",
        "p-events-2025.12.31",
        "p-events-2026.02.30",  # not a date
        "p-events-archive",
        "q-events-2020.01.01",
        "p-docs-v3",
    ]
    expired = expired_indices(names, "p", retention_days=7, today=date(2026, 5, 10))
    assert expired == ["p-events-2025.12.31", "p-events-2026.05.03"]
