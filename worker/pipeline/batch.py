"""A batch of files through the pipeline: the life of each file, in one place.

    lease ─▶ admit (count the attempt) ─▶ stage: read, clean, identify, claim the content
      ─▶ duplicates recorded ─▶ enrich (phase 1's cheap enrichers, one pass)
      ─▶ link (near-copies) ─▶ index (one bulk request) ─▶ hand over to phase 2
      ─▶ finish: each file's state, what it delivered

This is phase 1: once indexed, a document is searchable. Phase 2 (entities, keywords,
stories: worker.pipeline.enrichment) runs from a queue of its own and updates it in place.

A file's outcome is decided at one of these steps and recorded once, in the ledger
(worker.pipeline.ledger). Idempotent: document ids come from the content, so running a batch
twice writes the same documents. Only one task works on a file at a time (its lease), so two
versions of one file are never in flight together.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import redis
import structlog
from redis.exceptions import LockError

from search.errors import is_transient as es_transient
from search.events import event_record
from tasks.clean import CLEANER_VERSION, clean
from tasks.dedupe import content_id
from tasks.document import Document
from tasks.enrich import enrich_batch
from tasks.errors import Rejected, Transient
from tasks.extract import read_file
from tasks.source import ItemRef, printable
from worker.pipeline import feeds
from worker.pipeline.context import Context
from worker.pipeline.enrichment import MAX_WAITS, enrich_documents
from worker.pipeline.feeds import FeedPass
from worker.pipeline.ledger import Entry, Produced
from worker.pipeline.linking import link
from worker.pipeline.states import FileState
from worker.pipeline.timing import timed

log = structlog.get_logger(__name__)


class SplitBatch(Exception):
    """The batch's last delivery died mid-work: its files are to be tried in smaller batches."""

    def __init__(self, paths: list[str]) -> None:
        super().__init__(f"{len(paths)} files whose last attempt died")
        self.paths = paths


def is_transient(exc: BaseException) -> bool:
    """An outage of Redis or Elasticsearch (or a lock or claim to wait for): retry later."""
    # LockError: the story lock was held past its wait (a stalled or dead worker): its own
    # expiry frees it, so the batch is tried again rather than counted against its files.
    if isinstance(exc, Transient | redis.ConnectionError | redis.TimeoutError | LockError):
        return True
    return isinstance(exc, Exception) and es_transient(exc)


@dataclass
class FileWork:
    """One file of a batch on its way: what is left to index, and what is already decided."""

    path: str
    raw_hash: str
    single: bool
    """A plain file is one document under its own name; a JSON feed holds named items."""
    written_at: float = 0.0
    """The file's modification time when it was queued (seconds since the epoch)."""
    size: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds in each stage: its own (extract, clean, dedupe), its share of the batch's."""
    owners: list[Document] = field(default_factory=list)
    outcomes: dict[str, FileState] = field(default_factory=dict)
    refused: dict[str, Rejected] = field(default_factory=dict)
    produced: list[tuple[str, str]] = field(default_factory=list)
    """(source, document id) this version delivers, indexed or as a duplicate."""
    previous: tuple[tuple[str, str], ...] = ()
    """What the file may have delivered before: released if this version does not."""
    duplicates: list[tuple[Document, str]] = field(default_factory=list)
    """Documents whose content another source delivered first, with that source."""
    feed: FeedPass | None = None
    """For a JSON Lines feed: what this pass read (only the appended lines, or all)."""


@dataclass
class BatchResult:
    states: dict[str, FileState] = field(default_factory=dict)
    """Final state of each file that reached one."""
    retry: list[str] = field(default_factory=list)
    """Files that failed unexpectedly and have attempts left: to be tried again alone."""
    deferred: list[str] = field(default_factory=list)
    """Files another task holds right now: to be sent again, not counted as an attempt."""
    reasons: dict[str, str] = field(default_factory=dict)
    """Why each quarantined file (or item) was refused."""
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds the batch spent in each stage."""
    latencies: list[float] = field(default_factory=list)
    """Seconds from each indexed file's last write to its documents being indexed."""
    bulk_retries: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)
    """One outcome record per file or item, for the outcomes index (search.events)."""
    holder: str = ""


def _event(
    ctx: Context,
    result: BatchResult,
    source: str,
    state: FileState,
    work: FileWork | None = None,
    **fields: Any,
) -> None:
    """The outcome of one file or item, as a record of the outcomes index."""
    if work is not None:
        fields.setdefault("bytes", work.size)
        fields["timings"] = {k: v * 1000 for k, v in work.timings.items()}
        fields["timings"]["total"] = sum(work.timings.values()) * 1000
        if work.written_at:
            fields["lag_seconds"] = max(0.0, time.time() - work.written_at)
    result.events.append(
        event_record(
            path=printable(source),
            state=str(state),
            worker=ctx.config.worker or None,
            task_id=result.holder or None,
            **fields,
        )
    )


def process_file(path: str, ctx: Context) -> str:
    """One file through the pipeline (see process_files); "retry" when it should be retried."""
    return process_files([path], ctx).states.get(path, "retry")


def process_files(
    paths: list[str], ctx: Context, *, holder: str | None = None, redelivered: bool = False
) -> BatchResult:
    """Turn files into indexed documents, recorded duplicates, or quarantine entries.

    Attempts are counted for a file processed alone: a file in a batch whose delivery died
    (the worker was killed) is not blamed for it; the batch is split instead (SplitBatch)
    until the file that kills its worker is alone, and quarantined as poison after
    DROPSIFT_MAX_ATTEMPTS. Raises Transient, naming the unfinished files, when a service
    failed (those attempts are not held against the files).
    """
    holder = holder or uuid.uuid4().hex
    charge = len(paths) == 1
    result = BatchResult(holder=holder)
    leased: list[str] = []
    attempts: dict[str, int] = {}
    late: list[str] = []
    try:
        held = ctx.ledger.lease_many(paths, holder, ctx.config.lease_seconds)
        for path, ok in zip(paths, held, strict=True):
            if not ok:
                result.deferred.append(path)
                log.info("file_deferred", path=path, why="another task holds it")
        leased = [path for path, ok in zip(paths, held, strict=True) if ok]
        started = ctx.ledger.start_attempts(leased, charge=charge)
        attempts = {path: n for path, (n, _) in started.items()}
        died = any(before == FileState.PROCESSING for _, before in started.values())
        if len(leased) > 1 and (died or redelivered):
            for path in leased:
                ctx.ledger.forgive_attempt(
                    path, "split: a delivery of its batch died", charged=False
                )
            raise SplitBatch(leased)
        admitted = []
        for path in leased:
            if charge and attempts[path] > ctx.config.max_attempts:
                _poison(ctx, result, path, attempts[path])
            else:
                admitted.append(path)
        batch: dict[str, float] = {}
        staging = time.perf_counter()
        works = _stage_all(admitted, ctx, result, attempts)
        own = sum(w.timings.get("extract", 0.0) + w.timings.get("clean", 0.0) for w in works)
        batch["dedupe"] = max(0.0, time.perf_counter() - staging - own)  # plans and claims
        with timed(batch, "dedupe"):
            _record_duplicates(works, ctx, result)
        with timed(batch, "enrich"):
            works = _enrich_all(works, ctx, result, attempts)
        with timed(batch, "neardup"):
            link(works, ctx)
        with timed(batch, "index"):
            indexed = _index(works, ctx)
        result.bulk_retries = indexed.retries
        late = _indexed_ids(works, indexed) if ctx.config.late_enrichers else []
        if late and ctx.enrich_later:
            # Sent before the ledger says indexed: a failure to send retries the batch. The
            # entries name their documents first, for phase 2 may be done before _finish.
            ctx.ledger.expect_enrichment(_late_sources(works, late))
            ctx.enrich_later(late)
        with ctx.ledger.deferred():
            for work in works:
                for stage, seconds in batch.items():  # the batch's stages, shared evenly
                    work.timings[stage] = work.timings.get(stage, 0.0) + seconds / len(works)
                _finish(work, indexed, ctx, result)
        for stage in {*batch, "extract", "clean"}:
            result.timings[stage] = sum(w.timings.get(stage, 0.0) for w in works)
    except SplitBatch:
        raise
    except Exception as exc:
        if not is_transient(exc):
            raise
        error = f"{type(exc).__name__}: {exc}"
        unfinished = [p for p in leased if p not in result.states and p not in result.retry]
        for path in unfinished:
            ctx.ledger.forgive_attempt(path, error, charged=charge)
        log.warning("batch_retry_transient", files=len(unfinished), error=error[:300])
        raise Transient(error, unfinished + result.deferred) from exc
    finally:
        ctx.ledger.unlease_many(leased, holder)
    ctx.sink.write_events(ctx.config.index_prefix, result.events)
    for path, state in result.states.items():
        log.info("file_done", path=path, state=str(state))
    log.info(
        "batch_done",
        files=len(paths),
        deferred=len(result.deferred),
        retry=len(result.retry),
        **Counter(str(state) for state in result.states.values()),
    )
    if late and not ctx.enrich_later:
        # Inline, nothing waits to be sent again: a near-copy whose canonical is still not
        # enriched is linked on its own.
        enrich_documents(late, ctx, tries=MAX_WAITS)
    return result


def _late_sources(works: list[FileWork], late: list[str]) -> list[tuple[str, str]]:
    """Each source and the document of it that phase 2 is to enrich."""
    wanted = set(late)
    return [(d.source, d.doc_id) for w in works for d in w.owners if d.doc_id in wanted]


def _indexed_ids(works: list[FileWork], indexed: Indexed) -> list[str]:
    """The batch's documents that phase 2 is to enrich (none when it has no enrichers)."""
    return [
        doc.doc_id
        for work in works
        for doc in work.owners
        if doc.doc_id in indexed.sources and doc.doc_id not in indexed.refused
    ]


# --- outcomes -------------------------------------------------------------------------------


def _release_all(ctx: Context, path: str) -> int:
    """What the file may have delivered loses it as a source; returns how many."""
    produced = ctx.ledger.produced(path)
    for source, doc_id in produced:
        release_source(ctx, source, doc_id)
    if produced:
        ctx.ledger.set_produced(path, [])
    feeds.forget_position(ctx.ledger, path)
    return len(produced)


def _quarantine(ctx: Context, result: BatchResult, path: str, why: Rejected) -> None:
    """Refuse the file as it is now; what an earlier version of it delivered is released."""
    _release_all(ctx, path)
    ctx.ledger.quarantine(path, why.reason, why.detail)
    result.states[path] = FileState.QUARANTINED
    result.reasons[path] = why.reason
    _event(ctx, result, path, FileState.QUARANTINED, reason=why.reason, detail=why.detail)
    log.warning("file_quarantined", path=path, reason=why.reason, detail=why.detail[:300])


def _poison(ctx: Context, result: BatchResult, path: str, attempts: int) -> None:
    entry = ctx.ledger.get(path)
    last = (entry.last_error if entry else "") or "the worker died while processing it"
    detail = f"gave up after {attempts - 1} attempts; last error: {last}"
    _quarantine(ctx, result, path, Rejected("poison", detail))


def _file_failed(
    ctx: Context, result: BatchResult, path: str, attempts: int, exc: Exception
) -> None:
    """Sort one file's failure: bad content, gone, unreadable, transient, or unexpected."""
    if isinstance(exc, Rejected):
        _quarantine(ctx, result, path, exc)
    elif isinstance(exc, FileNotFoundError):
        # Gone before it was read: like a deletion, what it delivered before goes too.
        released = _release_all(ctx, path)
        gone = "the file was gone before it was read"
        ctx.ledger.finish(path, FileState.VANISHED, last_error=gone)
        result.states[path] = FileState.VANISHED
        _event(ctx, result, path, FileState.VANISHED, detail=gone)
        log.info("file_vanished", path=path, released=released)
    elif isinstance(exc, OSError) and not is_transient(exc):
        # No permission, a link loop, a folder under a file's name: it cannot be read now.
        _quarantine(ctx, result, path, Rejected("unreadable", f"{type(exc).__name__}: {exc}"))
    elif is_transient(exc):
        raise exc
    else:
        error = f"{type(exc).__name__}: {exc}"
        ctx.ledger.record_error(path, error)
        if attempts >= ctx.config.max_attempts:
            _quarantine(
                ctx, result, path, Rejected("error", f"failed {attempts} times; last: {error}")
            )
        else:
            result.retry.append(path)
            log.warning("file_retry", path=path, attempts=attempts, error=error[:300])


# --- the steps ------------------------------------------------------------------------------


def site_for(doc: Document, inbox: Path) -> str | None:
    """The document's site: from its URL, else the inbox sub-folder its scraper writes to."""
    if doc.site:
        return doc.site
    path = Path(ItemRef.parse(doc.source).path)
    try:
        parts = path.relative_to(inbox).parts
    except ValueError:
        return None
    return printable(parts[0]) if len(parts) > 1 else None


def _prepare(doc: Document, ctx: Context) -> Document:
    """Clean and identify one document; Rejected when nothing is left of it.

    The id comes from the cleaned text and the cleaner's version only, before the site's
    learned boilerplate is taken out: what a site's other documents taught us never changes
    which document a file is.
    """
    doc = clean(doc)
    doc = doc.replace(
        site=site_for(doc, ctx.config.inbox.resolve()),
        doc_id=content_id(doc.body, CLEANER_VERSION),
    )
    # Lines this site repeats in most of its documents (menus, footers) go too, once learned.
    doc = ctx.boilerplate.apply(doc, doc.site or "")
    if ctx.titles is not None:
        doc = ctx.titles.apply(doc)  # " - SFGate", " | WIRED": the site's name goes
    if not doc.body.strip():
        removed = {reason: len(lines) for reason, lines in doc.cleaning.get("removed", {}).items()}
        raise Rejected("empty_after_cleaning", f"nothing left after cleaning (removed: {removed})")
    return doc


def _stage(path: str, ctx: Context) -> FileWork:
    """Extract, clean and identify one file's documents, and claim their content."""
    work, docs = _read(path, ctx, ctx.ledger.get(path))
    _claim([(work, docs)], ctx)
    return work


def _stage_all(
    paths: list[str], ctx: Context, result: BatchResult, attempts: dict[str, int]
) -> list[FileWork]:
    """_stage for the batch: entries read, and plans and claims sent, in one round trip each."""
    entries = ctx.ledger.get_many(paths)
    read = []
    for path in paths:
        try:
            read.append(_read(path, ctx, entries.get(path)))
        except Exception as exc:
            _file_failed(ctx, result, path, attempts[path], exc)
    _claim(read, ctx)
    return [work for work, _ in read]


def _read(path: str, ctx: Context, entry: Entry | None) -> tuple[FileWork, list[Document]]:
    """Extract, clean and identify one file's documents (no claim yet)."""
    cfg = ctx.config
    timings: dict[str, float] = {}
    feed = None
    with timed(timings, "extract"):
        if feeds.is_feed(path):
            extraction, feed = feeds.read_pass(Path(path), ctx.ledger, cfg)
        else:
            extraction = read_file(Path(path), cfg.max_file_bytes, cfg.json_fields)
    previous: Produced = entry.produced if entry else ()
    if feed is not None:
        # An append releases nothing: the feed's earlier lines are still there.
        previous = () if feed.append else ctx.ledger.produced(path)
    single = [d.source for d in extraction.documents] == [path] and not extraction.rejected
    work = FileWork(
        path,
        hashlib.sha256(extraction.raw).hexdigest(),
        single,
        refused=dict(extraction.rejected),
        previous=previous,
        feed=feed,
        written_at=entry.mtime_ns / 1e9 if entry and entry.mtime_ns > 0 else 0.0,
        size=len(extraction.raw),
        timings=timings,
    )
    docs = []
    with timed(timings, "clean"):
        for doc in extraction.documents:
            try:
                docs.append(_prepare(doc, ctx))
            except Rejected as rejected:
                if single:
                    raise
                work.refused[doc.source] = rejected
    return work, docs


def _claim(read: list[tuple[FileWork, list[Document]]], ctx: Context) -> None:
    """Write each file's plan, then claim its documents' content, in one round trip."""
    pipe = ctx.ledger.r.pipeline(transaction=False)
    for work, docs in read:
        # Written ahead of the claims and the index, so a crash from here on leaves nothing
        # that the file's next version or its deletion would not release.
        planned = [(doc.source, doc.doc_id) for doc in docs]
        if work.feed and work.feed.append:
            ctx.ledger.add_produced(work.path, planned)
        else:
            ctx.ledger.plan(work.path, planned, known=work.previous, pipe=pipe)
    pairs = [(doc.doc_id, doc.source) for _, docs in read for doc in docs]
    claims = iter(ctx.contents.claim_many(pairs, pipe))
    for work, docs in read:
        for doc in docs:
            claim = next(claims)
            if claim.is_owner:
                work.owners.append(doc)
            else:
                # The content is (being) indexed from another source: recorded on it for
                # the whole batch at once (_record_duplicates).
                work.duplicates.append((doc, claim.owner))


def _sources(ctx: Context, doc_id: str, own: str | None = None) -> list[str]:
    """The document's sources as the index shows them; `own`, its owner's, always among them
    (a Redis that lost its data meanwhile, FLUSHALL or a restart, forgot the claim)."""
    sources = set(ctx.contents.sources(doc_id))
    if own is not None:
        sources.add(own)
    return sorted(printable(s) for s in sources)


def _record_duplicates(works: list[FileWork], ctx: Context, result: BatchResult) -> None:
    """Write the batch's new sources onto the documents they duplicate, then the ledger.

    A document still being indexed by another batch gets its sources from that batch, which
    reads them after indexing (_finish).
    """
    pending = [(work, doc, owner) for work in works for doc, owner in work.duplicates]
    if not pending:
        return
    ctx.sink.set_sources_many([doc.doc_id for _, doc, _ in pending], partial(_sources, ctx))
    for work, doc, owner in pending:
        ctx.ledger.finish(
            doc.source,
            FileState.DUPLICATE,
            doc_id=doc.doc_id,
            duplicate_of=owner,
            raw_hash=work.raw_hash,
        )
        work.outcomes[doc.source] = FileState.DUPLICATE
        work.produced.append((doc.source, doc.doc_id))
        _event(
            ctx,
            result,
            doc.source,
            FileState.DUPLICATE,
            doc_id=doc.doc_id,
            duplicate_of=printable(owner),
            site=doc.site,
            format=doc.format,
        )


def _enrich_all(
    works: list[FileWork], ctx: Context, result: BatchResult, attempts: dict[str, int]
) -> list[FileWork]:
    """Enrich the documents of the whole batch in one pass (one model run over all of them).

    If that pass fails, each file is enriched on its own, so one bad document fails only
    its own file; returns the files still in the batch.
    """
    names = list(ctx.config.enrichers)
    docs = [doc for work in works for doc in work.owners]
    try:
        enriched = iter(enrich_batch(docs, names))
        for work in works:
            work.owners = [next(enriched) for _ in work.owners]
        return works
    except Exception as exc:
        if is_transient(exc):
            raise
        log.warning("enrich_batch_failed", files=len(works), error=repr(exc)[:300])
    kept = []
    for work in works:
        try:
            work.owners = enrich_batch(work.owners, names)
            kept.append(work)
        except Exception as exc:
            _file_failed(ctx, result, work.path, attempts[work.path], exc)
    return kept


@dataclass
class Indexed:
    """The bulk outcome of a batch: refusals, and the source lists that were written."""

    refused: dict[str, str] = field(default_factory=dict)
    sources: dict[str, list[str]] = field(default_factory=dict)
    retries: int = 0
    after: dict[str, list[str]] = field(default_factory=dict)
    """The sources once the bulk request was answered: new ones arrived while it ran."""


def _index(works: list[FileWork], ctx: Context) -> Indexed:
    """Bulk-index the batch's documents with their sources as Redis has them now."""
    done = Indexed()
    owners = [doc for work in works for doc in work.owners]
    if not owners:
        return done
    # Without phase 2 enrichers a document is complete as it is indexed.
    enriched = not ctx.config.late_enrichers
    now = datetime.now(UTC) if enriched else None
    batch = []
    done.sources = ctx.contents.sources_many(doc.doc_id for doc in owners)
    for doc in owners:
        # The owner's own source always: a Redis that lost its data meanwhile (FLUSHALL, a
        # restart) forgot the claim.
        sources = sorted(printable(s) for s in {*done.sources[doc.doc_id], doc.source})
        done.sources[doc.doc_id] = sources
        doc = doc.replace(sources=sources, enriched=enriched, enriched_at=now)
        batch.append((doc.doc_id, doc.to_index()))
    outcome = ctx.sink.bulk(batch)
    done.retries = outcome.retries
    owner = {doc.doc_id: doc.source for doc in owners}
    done.after = {
        i: sorted(printable(s) for s in {*found, owner[i]})
        for i, found in ctx.contents.sources_many(done.sources).items()
    }
    done.refused = outcome.rejected
    missing = set(done.sources) - set(outcome.indexed) - set(outcome.rejected)
    done.refused.update(dict.fromkeys(missing, "not in the bulk response"))
    return done


def _finish(work: FileWork, indexed: Indexed, ctx: Context, result: BatchResult) -> None:
    """Record the outcome of each of the file's documents, and of the file."""
    for doc in work.owners:
        if doc.doc_id in indexed.refused:
            work.refused[doc.source] = Rejected("index_rejected", indexed.refused[doc.doc_id])
            continue
        if indexed.after[doc.doc_id] != indexed.sources[doc.doc_id]:
            # Sources that arrived while this one was indexing are written now.
            ctx.sink.set_sources(doc.doc_id, partial(_sources, ctx, doc.doc_id, doc.source))
        # An item of a file keeps the time of the version that delivered it: phase 2 counts
        # its lag from there, whatever the feed's later appends did to the file's entry.
        written = {"mtime_ns": int(work.written_at * 1e9)} if doc.source != work.path else {}
        ctx.ledger.finish(
            doc.source,
            FileState.INDEXED,
            doc_id=doc.doc_id,
            raw_hash=work.raw_hash,
            **written,
            **_enrichment(ctx, sent=ctx.enrich_later is not None),
        )
        work.outcomes[doc.source] = FileState.INDEXED
        work.produced.append((doc.source, doc.doc_id))
        _event(
            ctx,
            result,
            doc.source,
            FileState.INDEXED,
            work,
            doc_id=doc.doc_id,
            site=doc.site,
            format=doc.format,
        )
    # The index follows the file: what it may have delivered before and this version does
    # not (changed content, a removed JSON item, a refused document) loses this source.
    stale = (set(work.previous) | _planned(work)) - set(work.produced)
    for source, doc_id in sorted(stale):
        release_source(ctx, source, doc_id)
    if work.feed and work.feed.append:
        ctx.ledger.add_produced(work.path, work.produced)
    else:
        ctx.ledger.set_produced(work.path, work.produced)
    if work.written_at and any(s == FileState.INDEXED for s in work.outcomes.values()):
        result.latencies.append(max(0.0, time.time() - work.written_at))
    if work.single:
        if work.path in work.refused:
            why = work.refused[work.path]
            ctx.ledger.quarantine(work.path, why.reason, why.detail)
            result.states[work.path] = FileState.QUARANTINED
            result.reasons[work.path] = why.reason
            _event(ctx, result, work.path, FileState.QUARANTINED, work, reason=why.reason)
            log.warning("file_quarantined", path=work.path, reason=why.reason)
        else:
            result.states[work.path] = work.outcomes[work.path]
        return
    for source, why in work.refused.items():
        ctx.ledger.quarantine(source, why.reason, why.detail)
        work.outcomes[source] = FileState.QUARANTINED
        result.reasons[source] = why.reason
        _event(ctx, result, source, FileState.QUARANTINED, reason=why.reason, detail=why.detail)
        log.warning("item_quarantined", source=source, reason=why.reason, detail=why.detail)
    counts = Counter(str(state) for state in work.outcomes.values())
    extra: dict[str, str] = {}
    if work.feed:
        counts, extra = feeds.account(ctx.ledger, work.path, work.feed, counts, ctx.resend)
    summary = ", ".join(f"{state}: {n}" for state, n in sorted(counts.items()))
    if counts[FileState.INDEXED] or counts[FileState.DUPLICATE]:
        ctx.ledger.finish(
            work.path, FileState.INDEXED, raw_hash=work.raw_hash, reason="", items=summary, **extra
        )
        result.states[work.path] = FileState.INDEXED
    else:
        why = Rejected("no_valid_items", f"no item of the file could be indexed ({summary})")
        ctx.ledger.quarantine(work.path, why.reason, why.detail, **extra)
        result.states[work.path] = FileState.QUARANTINED
        result.reasons[work.path] = why.reason
        _event(ctx, result, work.path, FileState.QUARANTINED, work, reason=why.reason)
        log.warning("file_quarantined", path=work.path, reason=why.reason)


def _enrichment(ctx: Context, sent: bool) -> dict[str, Any]:
    """The ledger's word on phase 2 as phase 1 ends: nothing to do, or (inline) pending.

    Sent to a queue, phase 2's `pending` was written before it was sent
    (Ledger.expect_enrichment), and its outcome may be there already: left as it is.
    """
    if not ctx.config.late_enrichers:
        return {"enrichment": "enriched", "enriched_at": time.time()}
    if sent:
        return {}
    return {"enrichment": "pending", "enriched_at": 0.0}


def _planned(work: FileWork) -> set[tuple[str, str]]:
    """What this version claimed: its owners, refused or not, and its duplicates."""
    return {(d.source, d.doc_id) for d in work.owners} | {
        (d.source, d.doc_id) for d, _ in work.duplicates
    }


def release_source(ctx: Context, source: str, doc_id: str) -> None:
    """`source` no longer delivers this content: drop it, and the document when none remain.

    The content stays marked while its document is deleted, so a copy claimed meanwhile by
    another worker waits for the deletion instead of being removed by it.
    """
    mark = uuid.uuid4().hex
    remaining = ctx.contents.release(doc_id, source, mark)
    if remaining:
        if not ctx.sink.set_sources(doc_id, partial(_sources, ctx, doc_id)) and ctx.resend:
            # Not indexed (refused, or its owner never got there): the copies recorded as its
            # duplicates are processed again, and the first of them indexes it or is refused.
            files = sorted({ItemRef.parse(s).path for s in ctx.contents.sources(doc_id)})
            ctx.resend(files)
            log.info("duplicates_resent", doc_id=doc_id, files=len(files))
        log.info("source_released", source=source, doc_id=doc_id, remaining=remaining)
        return
    ctx.sink.delete(doc_id)
    ctx.neardup.forget(doc_id)
    ctx.contents.deleted(doc_id, mark)
    log.info("document_removed", source=source, doc_id=doc_id)


def forget_files(paths: list[str], ctx: Context) -> dict[str, FileState]:
    """Files deleted from the inbox: release what they delivered; returns their new state."""
    result = BatchResult()
    for path in paths:
        entry = ctx.ledger.get(path)
        if entry is None or Path(path).exists() or entry.state == FileState.DELETED:
            continue  # unknown, back again (the next scan queues it), or done already
        released = _release_all(ctx, path)
        why = "the file was deleted from the inbox"
        ctx.ledger.finish(path, FileState.DELETED, last_error=why)
        result.states[path] = FileState.DELETED
        _event(ctx, result, path, FileState.DELETED, detail=why)
        log.info("file_deleted", path=path, released=released)
    ctx.sink.write_events(ctx.config.index_prefix, result.events)
    return result.states
