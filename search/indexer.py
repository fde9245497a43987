"""The ingest side's one door to Elasticsearch: every write and read the pipeline makes.

Bulk indexing looks at every item's status and retries only what is transient; every call
is classified by search.errors, and the sink counts what happened to each request.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import structlog
from elasticsearch import ConflictError, Elasticsearch, NotFoundError

from search.errors import TransientIndexError, is_transient, is_transient_status, never_fits

log = structlog.get_logger(__name__)

__all__ = [
    "BulkOutcome",
    "IndexSink",
    "RetryPolicy",
    "TransientIndexError",
    "UpdateOutcome",
    "Versioned",
    "bulk_index",
]


@dataclass
class BulkOutcome:
    indexed: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)
    """Document id -> the reason Elasticsearch gave for refusing it."""
    retries: int = 0


@dataclass(frozen=True)
class Versioned:
    """A document as read, with the version a conditional update must find unchanged."""

    seq_no: int
    primary_term: int
    source: dict[str, Any]


@dataclass
class UpdateOutcome:
    updated: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    """Deleted since it was read: not created again (an update never upserts)."""
    changed: list[str] = field(default_factory=list)
    """Written by someone else since it was read: to be read and decided again."""
    rejected: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 5
    backoff: float = 0.5
    backoff_max: float = 30.0

    def delay(self, attempt: int) -> float:
        """Exponential backoff with full jitter, capped."""
        return random.uniform(0, min(self.backoff_max, self.backoff * 2 ** min(attempt - 1, 32)))


def _chunks(
    docs: Sequence[tuple[str, dict[str, Any]]], max_docs: int, max_bytes: int
) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    chunk: list[tuple[str, dict[str, Any]]] = []
    size = 0
    for doc in docs:
        doc_size = len(json.dumps(doc[1], default=str))
        if chunk and (len(chunk) >= max_docs or size + doc_size > max_bytes):
            yield chunk
            chunk, size = [], 0
        chunk.append(doc)
        size += doc_size
    if chunk:
        yield chunk


def bulk_index(
    es: Elasticsearch,
    index: str,
    docs: Sequence[tuple[str, dict[str, Any]]],
    *,
    policy: RetryPolicy = RetryPolicy(),
    max_docs: int = 500,
    max_bytes: int = 5 * 1024 * 1024,
    sleep: Callable[[float], None] = time.sleep,
) -> BulkOutcome:
    """Index (id, source) pairs; returns what was indexed and what was refused, and why.

    Raises TransientIndexError when items still fail transiently after the retries: nothing
    is reported indexed that Elasticsearch did not acknowledge.
    """
    outcome = BulkOutcome()
    for chunk in _chunks(docs, max_docs, max_bytes):
        pending = chunk
        attempt = 0
        while pending:
            failed: list[tuple[str, dict[str, Any]]] = []
            last_error = ""
            try:
                ops: list[dict[str, Any]] = []
                for doc_id, source in pending:
                    ops += [{"index": {"_id": doc_id}}, source]
                response = es.bulk(index=index, operations=ops)
            except Exception as exc:
                if not is_transient(exc):
                    raise
                failed, last_error = pending, repr(exc)
            else:
                for (doc_id, source), item in zip(pending, response["items"], strict=True):
                    result = item["index"]
                    status = result["status"]
                    if status < 300:
                        outcome.indexed.append(doc_id)
                    elif is_transient_status(status) and not never_fits(result.get("error")):
                        failed.append((doc_id, source))
                        last_error = f"{status} {result.get('error')}"
                    else:
                        error = result.get("error") or {}
                        outcome.rejected[doc_id] = (
                            f"{status} {error.get('type', 'error')}: {error.get('reason', '')}"
                        )
            if not failed:
                break
            attempt += 1
            if attempt > policy.max_retries:
                raise TransientIndexError(
                    f"{len(failed)} documents still failing after {policy.max_retries} "
                    f"retries: {last_error}"
                )
            delay = policy.delay(attempt)
            log.warning(
                "bulk_retry",
                attempt=attempt,
                failed=len(failed),
                delay_s=round(delay, 3),
                error=last_error[:300],
            )
            outcome.retries += 1
            sleep(delay)
            pending = failed
    return outcome


def set_sources(
    es: Elasticsearch, index: str, doc_id: str, read_sources: Callable[[], list[str]]
) -> bool:
    """Write the current source list onto a document; False when it is not indexed yet.

    Optimistic concurrency: the sources are read after the document's version, so the last
    writer to succeed always wrote a list that includes every source added before it.
    """
    for _ in range(20):
        try:
            current = es.get(index=index, id=doc_id, source_includes=["sources"])
        except NotFoundError:
            return False
        sources = sorted(read_sources())
        if current["_source"].get("sources") == sources:
            return True
        try:
            es.update(
                index=index,
                id=doc_id,
                doc={"sources": sources},
                if_seq_no=current["_seq_no"],
                if_primary_term=current["_primary_term"],
            )
            return True
        except ConflictError:
            continue
    raise TransientIndexError(f"sources of {doc_id} kept changing under concurrent updates")


def set_sources_many(
    es: Elasticsearch, index: str, doc_ids: Sequence[str], read_sources: Callable[[str], list[str]]
) -> set[str]:
    """set_sources for several documents in two requests; returns the ids not indexed yet.

    One mget reads every document's sources and version, one bulk request writes the lists
    that changed, each conditional on the version read. An update that conflicts with a
    concurrent one, or fails in any other way, is redone through set_sources, which retries
    conflicts and raises on the rest.
    """
    ids = sorted(set(doc_ids))
    if not ids:
        return set()
    missing: set[str] = set()
    operations: list[dict[str, Any]] = []
    for found in es.mget(index=index, ids=ids, source_includes=["sources"])["docs"]:
        doc_id = found["_id"]
        if not found.get("found"):
            missing.add(doc_id)
            continue
        sources = sorted(read_sources(doc_id))
        if found["_source"].get("sources") == sources:
            continue
        version = {"if_seq_no": found["_seq_no"], "if_primary_term": found["_primary_term"]}
        operations += [{"update": {"_id": doc_id, **version}}, {"doc": {"sources": sources}}]
    if operations:
        response = es.bulk(index=index, operations=operations)
        if response["errors"]:
            for item in response["items"]:
                update = item["update"]
                if "error" in update:
                    doc_id = update["_id"]
                    if not set_sources(es, index, doc_id, partial(read_sources, doc_id)):
                        missing.add(doc_id)
    return missing


class IndexSink:
    """The documents' alias as the pipeline sees it: one client, one policy, counted outcomes."""

    def __init__(self, es: Elasticsearch, alias: str, policy: RetryPolicy = RetryPolicy()) -> None:
        self.es = es
        self.alias = alias
        self.policy = policy
        self.counts: Counter[str] = Counter()
        """Documents by outcome (indexed, rejected, retried, deleted, sources_updated)."""

    def ensure(self) -> str:
        """The template, the current versioned index and the alias; returns the index name."""
        from search.index import ensure_index  # index management may use the bulk writer

        return ensure_index(self.es, self.alias)

    def bulk(self, docs: Sequence[tuple[str, dict[str, Any]]]) -> BulkOutcome:
        outcome = bulk_index(self.es, self.alias, docs, policy=self.policy)
        self.counts.update(indexed=len(outcome.indexed), rejected=len(outcome.rejected))
        self.counts["retried"] += outcome.retries
        return outcome

    def read(self, doc_ids: set[str], fields: list[str]) -> dict[str, dict[str, Any]]:
        """The named fields of indexed documents ({} for one not indexed), in one request."""
        if not doc_ids:
            return {}
        found = self.es.mget(index=self.alias, ids=sorted(doc_ids), source_includes=fields)
        return {d["_id"]: d.get("_source", {}) if d.get("found") else {} for d in found["docs"]}

    def read_versions(self, doc_ids: Sequence[str], fields: list[str]) -> dict[str, Versioned]:
        """The named fields of indexed documents with their versions, in one realtime mget."""
        if not doc_ids:
            return {}
        found = self.es.mget(index=self.alias, ids=sorted(set(doc_ids)), source_includes=fields)
        return {
            d["_id"]: Versioned(d["_seq_no"], d["_primary_term"], d.get("_source", {}))
            for d in found["docs"]
            if d.get("found")
        }

    def update_if_unchanged(
        self, updates: Sequence[tuple[str, Versioned, dict[str, Any]]]
    ) -> UpdateOutcome:
        """Partial updates in one bulk request, each only if the document is as it was read.

        No upsert: the update of a document deleted meanwhile fails (404) and is reported
        gone, so a deletion is never undone. Transient failures are retried by the policy.
        """
        outcome = UpdateOutcome()
        pending = list(updates)
        attempt = 0
        while pending:
            ops: list[dict[str, Any]] = []
            for doc_id, version, fields in pending:
                ops += [
                    {
                        "update": {
                            "_id": doc_id,
                            "if_seq_no": version.seq_no,
                            "if_primary_term": version.primary_term,
                        }
                    },
                    {"doc": fields},
                ]
            response = self.es.bulk(index=self.alias, operations=ops)
            failed = []
            for update, item in zip(pending, response["items"], strict=True):
                result = item["update"]
                status = result["status"]
                if status < 300:
                    outcome.updated.append(update[0])
                elif status == 404:
                    outcome.gone.append(update[0])
                elif status == 409:
                    outcome.changed.append(update[0])
                elif is_transient_status(status):
                    failed.append(update)
                else:
                    error = result.get("error") or {}
                    outcome.rejected[update[0]] = (
                        f"{status} {error.get('type', 'error')}: {error.get('reason', '')}"
                    )
            attempt += 1
            if failed and attempt > self.policy.max_retries:
                raise TransientIndexError(f"{len(failed)} updates still failing after retries")
            if failed:
                time.sleep(self.policy.delay(attempt))
            pending = failed
        self.counts.update(enriched=len(outcome.updated), gone=len(outcome.gone))
        return outcome

    def search_many(self, searches: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One msearch over the alias; `searches` are bodies, one answer each."""
        lines: list[dict[str, Any]] = []
        for body in searches:
            lines += [{"index": self.alias}, body]
        return list(self.es.msearch(searches=lines)["responses"]) if searches else []

    def set_sources(self, doc_id: str, read_sources: Callable[[], list[str]]) -> bool:
        self.counts["sources_updated"] += 1
        return set_sources(self.es, self.alias, doc_id, read_sources)

    def set_sources_many(
        self, doc_ids: Sequence[str], read_sources: Callable[[str], list[str]]
    ) -> set[str]:
        self.counts["sources_updated"] += len(doc_ids)
        return set_sources_many(self.es, self.alias, doc_ids, read_sources)

    def ensure_events(self, prefix: str) -> str:
        """The outcomes index of this prefix (search.events): template and today's index."""
        from search.events import ensure_events_index

        return ensure_events_index(self.es, prefix)

    def write_events(self, prefix: str, records: list[dict[str, Any]]) -> bool:
        """One bulk request for a batch's outcome records; False (logged) when it failed.

        The ledger holds every outcome already: a lost record costs a chart, never a file.
        """
        from search.events import event_actions

        if not records:
            return True
        try:
            response = self.es.bulk(operations=event_actions(prefix, records))
        except Exception as exc:
            log.warning("events_not_written", records=len(records), error=repr(exc)[:300])
            return False
        failed = sum("error" in item["index"] for item in response["items"])
        self.counts["events"] += len(records) - failed
        if failed:
            log.warning("events_refused", records=failed)
        return not failed

    def delete(self, doc_id: str) -> None:
        """Delete a document; one that is already gone is fine."""
        self.es.options(ignore_status=404).delete(index=self.alias, id=doc_id)
        self.counts["deleted"] += 1
