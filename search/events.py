"""The outcomes index: one record per file or item and outcome, kept for a bounded time.

Records go to daily indices `<prefix>-events-YYYY.MM.DD` (by the record's UTC date), made
from one index template, so every daily index joins the alias `<prefix>-events` and Kibana
reads them all through the pattern `<prefix>-events-*`. The embedded stack has no index
lifecycle management: `delete_expired_events` is the retention, by the date in the name.

A caller builds one record per outcome with `event_record(...)` and appends
`event_actions(prefix, records)` to the batch's own bulk request body, e.g.

    records = [event_record(path=p, state="indexed", doc_id=d, site=s, format="text",
                            bytes=n, timings={"extract": 1.2, "index": 4.0}, worker=w)]
    operations += event_actions(settings.index_prefix, records)

Call `ensure_events_index` once at start (the template must exist before the first write)
and `delete_expired_events` now and then (daily is enough).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import structlog
from elasticsearch import ApiError, Elasticsearch

# Outcomes a record may carry: the ledger's final states (phase 1, per file or item), and
# phase 2's (per document): enriched, or its enrichment given up.
PHASE_1_STATES = frozenset({"indexed", "duplicate", "quarantined", "vanished", "deleted"})
PHASE_2_STATES = frozenset({"enriched", "enrichment_failed"})
STATES: frozenset[str] = PHASE_1_STATES | PHASE_2_STATES

# Pipeline stages whose duration a record may carry, in milliseconds (`timings.<stage>_ms`).
STAGES: tuple[str, ...] = (
    "extract",
    "clean",
    "dedupe",
    "enrich",
    "neardup",
    "story",
    "index",
    "total",
)

_KEYWORD = {"type": "keyword", "ignore_above": 1024}

EVENTS_MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        # The time field: when the outcome happened.
        "time": {"type": "date"},
        "path": _KEYWORD,
        "file": _KEYWORD,
        "item": {"type": "integer"},
        "state": {"type": "keyword"},
        # 1: searchable (a file or item's outcome); 2: enrichment (a document's).
        "phase": {"type": "byte"},
        "reason": {"type": "keyword"},
        "detail": {"type": "text"},
        "doc_id": {"type": "keyword"},
        "duplicate_of": {"type": "keyword"},
        "site": _KEYWORD,
        "format": {"type": "keyword"},
        "bytes": {"type": "long"},
        "attempts": {"type": "integer"},
        # From the file landing in the inbox (its mtime) to this outcome.
        "lag_seconds": {"type": "float"},
        "timings": {
            "properties": {f"{stage}_ms": {"type": "float"} for stage in STAGES},
        },
        "worker": {"type": "keyword"},
        "task_id": {"type": "keyword"},
    },
}

EVENTS_SETTINGS: dict[str, Any] = {
    "number_of_shards": 1,
    "number_of_replicas": 0,
    # Outcomes are read by people, not by the pipeline: a slower refresh is cheaper.
    "refresh_interval": "5s",
}

log = structlog.get_logger(__name__)

_DAY = "%Y.%m.%d"
_MAX_DETAIL = 2000


def events_alias(prefix: str) -> str:
    return f"{prefix}-events"


def events_pattern(prefix: str) -> str:
    """The index pattern that matches every daily index (what Kibana's data view names)."""
    return f"{events_alias(prefix)}-*"


def events_index(prefix: str, when: datetime | date) -> str:
    """The daily index a record of this time belongs to (UTC date)."""
    if isinstance(when, datetime):
        when = _utc(when).date()
    return f"{events_alias(prefix)}-{when.strftime(_DAY)}"


def ensure_events_index(es: Elasticsearch, prefix: str, now: datetime | None = None) -> str:
    """Put the template and create today's index (with the alias); idempotent. Returns it."""
    alias = events_alias(prefix)
    es.indices.put_index_template(
        name=alias,
        index_patterns=[events_pattern(prefix)],
        template={"settings": EVENTS_SETTINGS, "mappings": EVENTS_MAPPINGS, "aliases": {alias: {}}},
        priority=100,
    )
    index = events_index(prefix, now or datetime.now(UTC))
    if not es.indices.exists(index=index):
        es.options(ignore_status=400).indices.create(index=index)  # 400: created meanwhile
    else:
        # Today's index, made before a field was added, learns it (adding one is compatible),
        # so its strict mapping takes the new records. Outcome records are never worth a
        # stopped pipeline: a refusal is logged, and those records are refused in turn.
        try:
            es.indices.put_mapping(index=index, properties=EVENTS_MAPPINGS["properties"])
        except ApiError as exc:
            log.warning("events_mapping_not_updated", index=index, error=str(exc)[:300])
    return index


def event_record(
    *,
    path: str,
    state: str,
    time: datetime | None = None,
    reason: str | None = None,
    detail: str | None = None,
    doc_id: str | None = None,
    duplicate_of: str | None = None,
    site: str | None = None,
    format: str | None = None,
    bytes: int | None = None,
    attempts: int | None = None,
    lag_seconds: float | None = None,
    timings: Mapping[str, float] | None = None,
    worker: str | None = None,
    task_id: str | None = None,
) -> dict[str, Any]:
    """One outcome as an events document; `timings` maps stage names (STAGES) to milliseconds.

    The phase follows from the state.
    """
    if state not in STATES:
        raise ValueError(f"unknown state {state!r}; one of {sorted(STATES)}")
    unknown = set(timings or {}) - set(STAGES)
    if unknown:
        raise ValueError(f"unknown stages {sorted(unknown)}; known: {list(STAGES)}")
    file, _, line = path.partition("#L")
    record: dict[str, Any] = {
        "time": _utc(time or datetime.now(UTC)).isoformat(),
        "path": path,
        "file": file,
        "item": int(line) if line.isdigit() else None,
        "state": state,
        "phase": 2 if state in PHASE_2_STATES else 1,
        "reason": reason,
        "detail": detail[:_MAX_DETAIL] if detail else None,
        "doc_id": doc_id,
        "duplicate_of": duplicate_of,
        "site": site,
        "format": format,
        "bytes": bytes,
        "attempts": attempts,
        "lag_seconds": None if lag_seconds is None else round(lag_seconds, 3),
        "worker": worker,
        "task_id": task_id,
    }
    if timings:
        record["timings"] = {f"{k}_ms": round(float(v), 3) for k, v in timings.items()}
    return {k: v for k, v in record.items() if v is not None}


def event_id(record: Mapping[str, Any]) -> str:
    """Stable per path, outcome and time: a retried bulk request overwrites, never doubles."""
    key = "\x1f".join((record["path"], record["state"], record["time"]))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def event_actions(prefix: str, records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Bulk request lines (action, source, action, source...) that write these records."""
    lines: list[dict[str, Any]] = []
    for record in records:
        index = events_index(prefix, datetime.fromisoformat(record["time"]))
        lines.append({"index": {"_index": index, "_id": event_id(record)}})
        lines.append(dict(record))
    return lines


def expired_indices(
    names: Iterable[str], prefix: str, retention_days: int, today: date
) -> list[str]:
    """The daily index names among `names` whose day is older than the retention."""
    pattern = _daily(prefix)
    oldest_kept = today - timedelta(days=retention_days - 1)
    expired = []
    for name in names:
        match = pattern.fullmatch(name)
        if not match:
            continue
        try:
            day = datetime.strptime(match.group(1), _DAY).date()
        except ValueError:
            continue  # not a real date: not one of ours
        if day < oldest_kept:
            expired.append(name)
    return sorted(expired)


def delete_expired_events(
    es: Elasticsearch, prefix: str, retention_days: int, now: datetime | None = None
) -> list[str]:
    """Delete the daily indices older than `retention_days` (today counts as one); returns them."""
    if retention_days < 1:
        raise ValueError("retention_days must be at least 1")
    today = _utc(now or datetime.now(UTC)).date()
    expired = expired_indices(_existing(es, prefix), prefix, retention_days, today)
    # Wildcard deletes are refused (action.destructive_requires_name): name each index.
    if expired:
        es.indices.delete(index=",".join(expired))
    return expired


def drop_events(es: Elasticsearch, prefix: str) -> None:
    """Delete every daily index and the template of this prefix (tests, resets)."""
    names = _existing(es, prefix)
    if names:
        es.indices.delete(index=",".join(names))
    es.options(ignore_status=404).indices.delete_index_template(name=events_alias(prefix))


def _existing(es: Elasticsearch, prefix: str) -> list[str]:
    """Every daily index of this prefix, closed ones too (the pattern also matches a longer
    prefix's, "<prefix>-events-x-events-…": those are not ours)."""
    found = es.options(ignore_status=404).indices.get(
        index=events_pattern(prefix), allow_no_indices=True, expand_wildcards="open,closed"
    )
    return [name for name in found if _daily(prefix).fullmatch(name)]


def _daily(prefix: str) -> re.Pattern[str]:
    """A daily index name of this prefix, its day as group 1."""
    return re.compile(rf"{re.escape(events_alias(prefix))}-(\d{{4}}\.\d{{2}}\.\d{{2}})")


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
