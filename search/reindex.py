"""Move the documents to the current index version without taking search down.

Elastic's integ-test-zip has no `_reindex`, so the copy is client-side: a point in time on
the old index read with `search_after`, written with the bulk indexer. The old index keeps
serving searches and taking the pipeline's writes meanwhile; then one atomic alias swap
sends both to the new index. Documents the pipeline wrote to the old index during the copy
are caught up right after the swap: the old index is read once more and compared, document
by document (sequence number), with what the copy saw. A document the pipeline has written
to the new index since the swap is newer than either and is left as it is.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import structlog
from elasticsearch import Elasticsearch

from search.index import alias_indices, concrete_name
from search.indexer import TransientIndexError, bulk_index

log = structlog.get_logger(__name__)

Progress = Callable[[int, int], None]
"""Called with (documents copied so far, documents to copy) after each batch."""
_Stamp = tuple[int, int]  # (_seq_no, _primary_term): changes with every write of a document


class ReindexError(RuntimeError):
    """The copy could not complete; the alias still points at the old index."""


@dataclass
class ReindexReport:
    source: str | None
    target: str
    copied: int = 0
    caught_up: int = 0
    """Documents written to the old index during the copy, copied after the swap."""
    deleted: int = 0
    """Documents deleted from the old index during the copy, deleted from the new one."""
    source_count: int = 0
    target_count: int = 0
    seconds: float = 0.0
    rejected: dict[str, str] = field(default_factory=dict)

    @property
    def swapped(self) -> bool:
        return self.source is not None


def _scan(
    es: Elasticsearch, index: str, *, source: bool, batch: int
) -> Iterator[list[dict[str, Any]]]:
    """Every document of `index` at one point in time, a page per batch, in _doc order."""
    pit = es.open_point_in_time(index=index, keep_alive="5m")["id"]
    after: list[Any] | None = None
    try:
        while True:
            body: dict[str, Any] = {
                "size": batch,
                "pit": {"id": pit, "keep_alive": "5m"},
                "sort": ["_shard_doc"],
                "seq_no_primary_term": True,
                "_source": source,
                "track_total_hits": False,
            }
            if after is not None:
                body["search_after"] = after
            response = es.search(body=body)
            pit = response.get("pit_id", pit)
            hits = response["hits"]["hits"]
            if not hits:
                return
            yield hits
            after = hits[-1]["sort"]
    finally:
        es.options(ignore_status=404).close_point_in_time(id=pit)


def _stamp(hit: dict[str, Any]) -> _Stamp:
    return hit["_seq_no"], hit["_primary_term"]


def _count(es: Elasticsearch, index: str) -> int:
    es.indices.refresh(index=index)
    return int(es.count(index=index)["count"])


def _max_seq_no(es: Elasticsearch, index: str) -> int:
    """The highest sequence number written to `index` (one shard: ours are created so)."""
    stats = es.indices.stats(index=index, level="shards")
    shards = stats["indices"][index]["shards"]
    return max(int(copy["seq_no"]["max_seq_no"]) for copies in shards.values() for copy in copies)


def reindex(
    es: Elasticsearch,
    alias: str,
    *,
    progress: Progress | None = None,
    batch: int = 500,
    settle_seconds: float = 1.0,
    drop_old: bool = True,
) -> ReindexReport:
    """Fill the current version from the index the alias points at, then swap the alias.

    Nothing to do (source None) when the alias already points at the current version.
    The old index is deleted after the counts agree, unless `drop_old` is False.
    """
    began = time.monotonic()
    target = concrete_name(alias)
    serving = alias_indices(es, alias)
    if serving in ([], [target]):
        return ReindexReport(None, target)
    if len(serving) != 1:
        raise ReindexError(f"{alias} points at {serving}: expected one index")
    source = serving[0]
    report = ReindexReport(source, target)
    # A target left by an interrupted run may hold documents since deleted: start afresh.
    es.options(ignore_status=404).indices.delete(index=target)
    es.indices.create(index=target)  # settings and mappings from the index template
    total = _count(es, source)
    log.info("reindex_started", alias=alias, source=source, target=target, documents=total)

    seen: dict[str, _Stamp] = {}
    for hits in _scan(es, source, source=True, batch=batch):
        _write(es, target, [(h["_id"], h["_source"]) for h in hits], report)
        seen.update((h["_id"], _stamp(h)) for h in hits)
        report.copied += len(hits)
        if progress:
            progress(report.copied, max(total, report.copied))

    es.indices.refresh(index=target)
    copied_up_to = _max_seq_no(es, target)
    es.indices.update_aliases(
        actions=[
            {"add": {"index": target, "alias": alias, "is_write_index": True}},
            {"remove": {"index": source, "alias": alias}},
        ]
    )
    log.info("reindex_swapped", alias=alias, source=source, target=target)
    # Bulk requests routed to the old index just before the swap may still be running.
    time.sleep(settle_seconds)
    es.indices.refresh(index=source)
    _catch_up(es, source, target, seen, copied_up_to, report, batch)

    report.source_count = _count(es, source)
    report.target_count = _count(es, target)
    report.seconds = time.monotonic() - began
    log.info(
        "reindex_done",
        alias=alias,
        source=source,
        target=target,
        copied=report.copied,
        caught_up=report.caught_up,
        deleted=report.deleted,
        source_count=report.source_count,
        target_count=report.target_count,
        rejected=len(report.rejected),
        seconds=round(report.seconds, 2),
    )
    if report.source_count == report.target_count and not report.rejected and drop_old:
        es.indices.delete(index=source)
        log.info("reindex_dropped_old", index=source)
    return report


def _write(
    es: Elasticsearch, target: str, docs: list[tuple[str, dict[str, Any]]], report: ReindexReport
) -> None:
    try:
        outcome = bulk_index(es, target, docs)
    except TransientIndexError as exc:
        raise ReindexError(f"copying into {target} failed; the alias is unchanged: {exc}") from exc
    report.rejected.update(outcome.rejected)


def _catch_up(
    es: Elasticsearch,
    source: str,
    target: str,
    seen: dict[str, _Stamp],
    copied_up_to: int,
    report: ReindexReport,
    batch: int,
) -> None:
    """Apply to the new index what the pipeline wrote to the old one during the copy."""
    now: dict[str, _Stamp] = {}
    for hits in _scan(es, source, source=False, batch=batch * 4):
        now.update((h["_id"], _stamp(h)) for h in hits)
    changed = sorted(i for i, stamp in now.items() if seen.get(i) != stamp)
    deleted = sorted(set(seen) - set(now))
    for start in range(0, len(changed) + len(deleted), batch):
        ids = (changed + deleted)[start : start + batch]
        ops: list[dict[str, Any]] = []
        old = {d["_id"]: d for d in es.mget(index=source, ids=ids)["docs"] if d.get("found")}
        for doc in es.mget(index=target, ids=ids, source=False)["docs"]:
            doc_id = doc["_id"]
            if doc.get("found") and doc["_seq_no"] > copied_up_to:
                continue  # written by the pipeline since the swap: newer than the old copy
            # Conditional on what was just read, so a pipeline write in between wins (409).
            condition: dict[str, Any] = (
                {"if_seq_no": doc["_seq_no"], "if_primary_term": doc["_primary_term"]}
                if doc.get("found")
                else {}
            )
            if doc_id in old:
                action = "index" if doc.get("found") else "create"
                ops += [{action: {"_id": doc_id, **condition}}, old[doc_id]["_source"]]
            elif doc.get("found"):
                ops.append({"delete": {"_id": doc_id, **condition}})
        if not ops:
            continue
        response = es.bulk(index=target, operations=ops, refresh=False)
        for item in response["items"]:
            action, result = next(iter(item.items()))
            if result["status"] == 409:
                continue
            if result["status"] >= 300:
                report.rejected[result["_id"]] = str(result.get("error"))
            elif action == "delete":
                report.deleted += 1
            else:
                report.caught_up += 1
