"""Phase 2: entities, keywords and stories for documents that are already searchable.

    read (one realtime mget, with versions) ─▶ enrich (one model pass) ─▶ link stories
      ─▶ update in place (one bulk, each only if unchanged since read) ─▶ ledger

Phase 1 (worker.pipeline.batch) indexes a document with `enriched: false` and hands its id
here, through a queue of its own, so a backlog of enrichment never delays search. A
document deleted meanwhile is gone: its update fails (no upsert) and nothing is created
again. One written meanwhile (new sources, or indexed again) is read and decided again, so
its entities are always those of the text it holds.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog

from search.events import event_record
from search.indexer import Versioned
from tasks.document import Document
from tasks.enrichers import run_enrichers
from tasks.enrichers.keywords import corpus_statistics
from tasks.errors import Transient
from tasks.source import ItemRef, named_by, printable
from tasks.story import link_stories
from worker.pipeline.context import Context
from worker.pipeline.ledger import Entry
from worker.pipeline.states import FileState
from worker.pipeline.timing import timed

log = structlog.get_logger(__name__)

READ_FIELDS = [
    "body",
    "title",
    "language",
    "published",
    "published_from",
    "ingested_at",
    "cluster_id",
    "canonical",
    "enriched",
    "sources",
]
# What phase 2's enrichers give a document, written back with its story.
WRITTEN = ("people", "places", "organizations", "keywords")
# Reads and updates of one batch: a document rewritten this often meanwhile is left to the
# phase 2 that its latest writer queued.
MAX_ROUNDS = 5
# Times a near-copy waits for its canonical's story before it is linked on its own.
MAX_WAITS = 20


class SplitEnrichment(Exception):
    """A delivery of this batch died mid-work: its documents go on in smaller batches."""

    def __init__(self, doc_ids: list[str]) -> None:
        super().__init__(f"{len(doc_ids)} documents whose last attempt died")
        self.doc_ids = doc_ids


@dataclass
class EnrichResult:
    enriched: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    """Deleted before their update: nothing was written."""
    waiting: list[str] = field(default_factory=list)
    """Near-copies whose canonical is not enriched yet: to be sent again a moment later."""
    failed: dict[str, str] = field(default_factory=dict)
    already: list[str] = field(default_factory=list)
    """Enriched by an earlier delivery (a redelivery): marked again, not counted again."""
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds in each stage (enrich, story, index), for the metrics."""
    latencies: list[float] = field(default_factory=list)
    """Seconds from each enriched document's file's last write, for the metrics."""


def _document(doc_id: str, source: dict[str, Any]) -> Document:
    """The fields phase 2 reads, as a Document (no story: it is decided here)."""
    published = source.get("published")
    ingested = source.get("ingested_at")
    return Document(
        source="",
        text="",
        doc_id=doc_id,
        body=source.get("body") or "",
        title=source.get("title"),
        language=source.get("language"),
        published=datetime.fromisoformat(published) if published else None,
        published_from=source.get("published_from"),
        ingested_at=datetime.fromisoformat(ingested) if ingested else datetime.now(UTC),
        cluster_id=source.get("cluster_id"),
        canonical=bool(source.get("canonical", True)),
    )


def _fingerprint(doc: Document) -> str:
    return hashlib.sha1(doc.body.encode("utf-8", "surrogateescape")).hexdigest()


def enrich_documents(
    doc_ids: list[str], ctx: Context, *, tries: int = 0, redelivered: bool = False
) -> EnrichResult:
    """Phase 2 of the named documents; returns what became of each.

    A batch of several whose delivery died is split (SplitEnrichment); a document alone is
    counted, and after DROPSIFT_MAX_ATTEMPTS deliveries it is given up as failed (it keeps
    its phase 1 fields and stays searchable).
    """
    result = EnrichResult()
    pending = sorted(set(doc_ids))
    if redelivered and len(pending) > 1:
        raise SplitEnrichment(pending)
    if len(pending) == 1 and _attempts(ctx, pending[0]) > ctx.config.max_attempts:
        result.failed[pending[0]] = "the worker died while enriching it"
        _record(ctx, result)
        return result
    done: dict[str, tuple[str, Document]] = {}
    carried: dict[str, list[str]] = {}
    timings = result.timings
    for _ in range(MAX_ROUNDS):
        if not pending:
            break
        read = ctx.sink.read_versions(pending, READ_FIELDS)
        carried.update({i: v.source.get("sources") or [] for i, v in read.items()})
        result.gone += [i for i in pending if i not in read]
        todo = {i: v for i, v in read.items() if not v.source.get("enriched")}
        result.already += [i for i in read if i not in todo]  # a redelivery: done already
        docs = [_document(i, v.source) for i, v in sorted(todo.items())]
        canonicals, waiting = _canonicals(docs, ctx, tries)
        result.waiting += waiting
        docs = [d for d in docs if d.doc_id not in waiting]
        fresh = [d for d in docs if done.get(d.doc_id, ("", d))[0] != _fingerprint(d)]
        with timed(timings, "enrich"), corpus_statistics(ctx.frequencies):
            for doc in run_enrichers(fresh, ctx.config.late_enrichers) if fresh else []:
                done[doc.doc_id] = (_fingerprint(doc), doc)
        # Phase 2's fields from its run, on the documents as read now.
        enriched = [d.replace(**{f: getattr(done[d.doc_id][1], f) for f in WRITTEN}) for d in docs]
        with timed(timings, "story"):
            linked = _stories(enriched, canonicals, ctx)
        with timed(timings, "index"):
            pending = _update(linked, todo, ctx, result)
    if pending:
        raise Transient(f"{len(pending)} documents kept changing while enriched", pending)
    _record(ctx, result, carried, timings)
    log.info(
        "enrich_done",
        documents=len(doc_ids),
        enriched=len(result.enriched),
        already=len(result.already),
        gone=len(result.gone),
        waiting=len(result.waiting),
        failed=len(result.failed),
    )
    return result


def _attempts_key(ctx: Context, doc_id: str) -> str:
    return f"{ctx.ledger.prefix}enrich_attempts:{doc_id}"


def _attempts(ctx: Context, doc_id: str) -> int:
    """Count a delivery of one document, before the work (so a crash counts too)."""
    key = _attempts_key(ctx, doc_id)
    pipe = ctx.ledger.r.pipeline()
    pipe.incr(key)
    pipe.expire(key, 86400)
    return int(pipe.execute()[0])


def _canonicals(
    docs: list[Document], ctx: Context, tries: int
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Near-copies' canonicals of earlier batches (story, enriched), and who waits for one.

    A near-copy takes its canonical's story, so one whose canonical is not enriched yet
    waits for it, up to MAX_WAITS times.
    """
    here = {d.doc_id for d in docs}
    elsewhere = {d.cluster_id for d in docs if _copy_of(d) and _copy_of(d) not in here}
    canonicals = ctx.sink.read({c for c in elsewhere if c}, ["story_id", "enriched"])
    waiting = [
        d.doc_id
        for d in docs
        if (c := canonicals.get(_copy_of(d) or "")) and not c.get("enriched") and tries < MAX_WAITS
    ]
    return canonicals, waiting


def _copy_of(doc: Document) -> str | None:
    """The canonical a near-copy belongs to; None for a canonical."""
    if doc.canonical or not doc.cluster_id or doc.cluster_id == doc.doc_id:
        return None
    return doc.cluster_id


def _stories(
    docs: list[Document], canonicals: dict[str, dict[str, Any]], ctx: Context
) -> list[Document]:
    """Story ids: canonicals matched on entities; a near-copy takes its canonical's story.

    A near-copy whose canonical is gone, or never got enriched, is matched on its own.
    """
    here = {d.doc_id for d in docs}

    def borrowed(doc: Document) -> str | None:
        """The canonical (of this batch, or enriched before) whose story the copy takes."""
        canonical = _copy_of(doc)
        if canonical in here:
            return canonical
        if canonical and canonicals.get(canonical, {}).get("enriched"):
            return canonical
        return None

    alone = [d for d in docs if borrowed(d) is None]
    stories = {d.doc_id: d.story_id for d in link_stories(alone, ctx.sink, ctx.stories)}
    linked = []
    for doc in docs:
        canonical = borrowed(doc)
        if canonical is None:
            story = stories[doc.doc_id]
        else:
            story = stories.get(canonical) or canonicals.get(canonical, {}).get("story_id")
        linked.append(doc.replace(story_id=story or doc.doc_id))
    return linked


def _update(
    docs: list[Document], read: dict[str, Versioned], ctx: Context, result: EnrichResult
) -> list[str]:
    """Write phase 2's fields onto each document as read; returns those changed meanwhile."""
    now = datetime.now(UTC).isoformat()
    updates = [
        (
            d.doc_id,
            read[d.doc_id],
            {
                **{f: getattr(d, f) for f in WRITTEN},
                "story_id": d.story_id,
                "enriched": True,
                "enriched_at": now,
            },
        )
        for d in docs
    ]
    outcome = ctx.sink.update_if_unchanged(updates) if updates else None
    if outcome is None:
        return []
    result.enriched += outcome.updated
    result.gone += outcome.gone
    result.failed.update(outcome.rejected)
    return sorted(outcome.changed)


def _record(
    ctx: Context,
    result: EnrichResult,
    carried: dict[str, list[str]] | None = None,
    timings: dict[str, float] | None = None,
) -> None:
    """The outcome on the ledger entries of each document's sources: those the content
    registry names and those the document carries (the registry may have lost its record,
    as Redis does on a FLUSHALL, while the document, written with its owner's source, has
    not)."""
    now = time.time()
    carried = carried or {}
    done = [*result.enriched, *result.already]
    named = ctx.contents.sources_many([*done, *result.failed])
    # A document carries its sources' printable names; a ledger key is the name itself.
    sources = {
        i: sorted({*named.get(i, []), *(n for s in carried.get(i, []) for n in named_by(s))})
        for i in named
    }
    ctx.ledger.mark_enriched({i: sources[i] for i in done}, "enriched", now)
    ctx.ledger.mark_enriched({i: sources[i] for i in result.failed}, "failed", now)
    if done:
        ctx.ledger.r.delete(*(_attempts_key(ctx, i) for i in done))
    for doc_id, why in result.failed.items():
        log.warning("enrich_failed", doc_id=doc_id, error=why[:300])
    ctx.sink.write_events(ctx.config.index_prefix, _events(ctx, result, sources, timings or {}))


def _events(
    ctx: Context, result: EnrichResult, sources: dict[str, list[str]], timings: dict[str, float]
) -> list[dict[str, Any]]:
    """Phase 2's outcome records, one per document this delivery enriched or gave up.

    Each goes under its owner: the source whose ledger entry is this document's own (_owns;
    none when the file changed or went meanwhile: then there is nothing to tell). The lag
    is from the file's last write (a feed item's: the append that delivered it); the batch's
    stage times are shared evenly.
    """
    outcomes = {**dict.fromkeys(result.enriched, ""), **result.failed}
    if not outcomes:
        return []
    names = {s for i in outcomes for s in sources.get(i, [])}
    entries = ctx.ledger.get_many(names | {ItemRef.parse(s).path for s in names})
    share = {stage: seconds * 1000 / len(outcomes) for stage, seconds in timings.items()}
    share["total"] = sum(share.values())
    now = time.time()
    records = []
    for doc_id, why in sorted(outcomes.items()):
        owner = next((s for s in sources.get(doc_id, []) if _owns(entries.get(s), doc_id)), None)
        if owner is None:
            continue
        # An item's own entry has the time of the append that delivered it; a file's is its
        # last write.
        own, file = entries[owner], entries.get(ItemRef.parse(owner).path)
        stamp = own.mtime_ns if own.mtime_ns > 0 else file.mtime_ns if file else -1
        written = stamp / 1e9 if stamp > 0 else 0.0
        lag = max(0.0, now - written) if written else None
        if lag is not None and doc_id not in result.failed:
            result.latencies.append(lag)
        records.append(
            event_record(
                path=printable(owner),
                state="enrichment_failed" if doc_id in result.failed else "enriched",
                detail=why or None,
                doc_id=doc_id,
                lag_seconds=lag,
                timings=share,
                worker=ctx.config.worker or None,
            )
        )
    return records


def _owns(entry: Entry | None, doc_id: str) -> bool:
    """The entry is the document's own, as the ledger's mark of phase 2 decides it: it names
    the document and is indexed, or phase 1 announced phase 2 on it (phase 2 may end before
    phase 1 has written the entry's new state). A copy's names it with neither."""
    if entry is None or entry.doc_id != doc_id:
        return False
    return entry.state == FileState.INDEXED or bool(entry.enrichment)
