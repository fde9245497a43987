"""The pipeline for one file: extract -> clean -> dedupe -> enrich -> index, and its ledger."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import redis
import structlog
from elasticsearch import ApiError, Elasticsearch, TransportError
from redis.exceptions import LockError

from search.index import ensure_index
from search.indexer import (
    RetryPolicy,
    TransientIndexError,
    bulk_index,
    set_sources,
    set_sources_many,
)
from tasks.boilerplate_memory import SourceBoilerplate
from tasks.clean import clean
from tasks.dedupe import ContentRegistry, content_id
from tasks.document import Document
from tasks.enrich import enrich_batch
from tasks.errors import Rejected, Transient
from tasks.extract import read_file
from tasks.neardup import NearDupIndex, shingles
from tasks.story import RecentStories, link_stories
from worker.ledger import DELETED, DUPLICATE, INDEXED, QUARANTINED, VANISHED, Ledger
from worker.settings import Settings

log = structlog.get_logger(__name__)


@dataclass
class Context:
    """The boundaries one worker process talks to; built once per process."""

    settings: Settings
    redis: redis.Redis
    es: Elasticsearch
    ledger: Ledger = field(init=False)
    contents: ContentRegistry = field(init=False)
    boilerplate: SourceBoilerplate = field(init=False)
    neardup: NearDupIndex = field(init=False)
    stories: RecentStories = field(init=False)
    policy: RetryPolicy = field(init=False)

    def __post_init__(self) -> None:
        prefix = self.settings.key_prefix
        self.ledger = Ledger(self.redis, prefix)
        self.contents = ContentRegistry(self.redis, prefix)
        self.boilerplate = SourceBoilerplate(
            self.redis,
            prefix,
            min_docs=self.settings.boilerplate_min_docs,
            min_share=self.settings.boilerplate_min_share,
        )
        self.policy = RetryPolicy(
            max_retries=self.settings.bulk_max_retries,
            backoff=self.settings.bulk_backoff_seconds,
            backoff_max=self.settings.bulk_backoff_max_seconds,
        )
        self.neardup = NearDupIndex(
            self.redis,
            prefix,
            threshold=self.settings.neardup_threshold,
            horizon_seconds=self.settings.neardup_horizon_days * 86400,
        )
        self.stories = RecentStories(self.redis, prefix)
        ensure_index(self.es, self.settings.alias)

    @property
    def alias(self) -> str:
        return self.settings.alias


def _is_transient(exc: Exception) -> bool:
    # LockError: the story lock was held past its wait (a stalled or dead worker): its own
    # expiry frees it, so the batch is tried again rather than counted against its files.
    if isinstance(
        exc, TransientIndexError | redis.ConnectionError | redis.TimeoutError | LockError
    ):
        return True
    if isinstance(exc, ApiError):
        return exc.meta.status in {429, 500, 502, 503, 504}
    return isinstance(exc, TransportError)


@dataclass
class FileWork:
    """One file of a batch on its way: what is left to index, and what is already decided."""

    path: str
    raw_hash: str
    single: bool
    """A plain file is one document under its own name; a JSON feed holds named items."""
    owners: list[Document] = field(default_factory=list)
    outcomes: dict[str, str] = field(default_factory=dict)
    refused: dict[str, Rejected] = field(default_factory=dict)
    produced: list[tuple[str, str]] = field(default_factory=list)
    """(source, document id) this version delivers, indexed or as a duplicate."""
    previous: tuple[tuple[str, str], ...] = ()
    """What the file's previous version delivered: released if this one no longer does."""
    duplicates: list[tuple[Document, str]] = field(default_factory=list)
    """Documents whose content another source delivered first, with that source."""


@dataclass
class BatchResult:
    states: dict[str, str] = field(default_factory=dict)
    """Final state of each file that reached one."""
    retry: list[str] = field(default_factory=list)
    """Files that failed unexpectedly and have attempts left: to be tried again alone."""


def process_file(path: str, ctx: Context) -> str:
    """One file through the pipeline (see process_files); "retry" when it should be retried."""
    return process_files([path], ctx).states.get(path, "retry")


def process_files(paths: list[str], ctx: Context) -> BatchResult:
    """Turn files into indexed documents, recorded duplicates, or quarantine entries.

    Documents of the whole batch are enriched together and indexed in one bulk request.
    Idempotent: document ids come from the content, so running it twice writes the same
    documents. Raises Transient, naming the unfinished files, when a service failed (those
    attempts are not held against the files); an unexpected error in one file counts towards
    DROPSIFT_MAX_ATTEMPTS for that file alone, after which it is quarantined.
    """
    result = BatchResult()
    works: list[FileWork] = []
    attempts: dict[str, int] = {}
    try:
        for path in paths:
            attempts[path] = ctx.ledger.start_attempt(path)
            if attempts[path] > ctx.settings.max_attempts:
                entry = ctx.ledger.get(path)
                last = (entry.last_error if entry else "") or "the worker died while processing it"
                _quarantine(
                    ctx,
                    result,
                    path,
                    Rejected(
                        "poison", f"gave up after {attempts[path] - 1} attempts; last error: {last}"
                    ),
                )
                continue
            try:
                works.append(_stage(Path(path), ctx))
            except Exception as exc:
                _file_failed(ctx, result, path, attempts[path], exc)
        _record_duplicates(works, ctx)
        works = _enrich_all(works, ctx, result, attempts)
        _link(works, ctx)
        indexed = _index([doc for work in works for doc in work.owners], ctx)
        for work in works:
            _finish(work, indexed, ctx, result)
    except Exception as exc:
        if not _is_transient(exc):
            raise
        error = f"{type(exc).__name__}: {exc}"
        unfinished = [p for p in attempts if p not in result.states and p not in result.retry]
        for path in unfinished:
            ctx.ledger.forgive_attempt(path, error)
        log.warning("batch_retry_transient", files=len(unfinished), error=error[:300])
        raise Transient(error, unfinished) from exc
    for path, state in result.states.items():
        log.info("file_done", path=path, state=state)
    return result


def _quarantine(ctx: Context, result: BatchResult, path: str, why: Rejected) -> None:
    """Refuse the file as it is now; what an earlier version of it delivered is released."""
    entry = ctx.ledger.get(path)
    if entry and entry.produced:
        for source, doc_id in entry.produced:
            release_source(ctx, source, doc_id)
        ctx.ledger.set_produced(path, [])
    ctx.ledger.quarantine(path, why.reason, why.detail)
    result.states[path] = QUARANTINED
    log.warning("file_quarantined", path=path, reason=why.reason, detail=why.detail)


def _file_failed(
    ctx: Context, result: BatchResult, path: str, attempts: int, exc: Exception
) -> None:
    """Sort one file's failure: bad content, gone, unreadable, transient, or unexpected."""
    if isinstance(exc, Rejected):
        _quarantine(ctx, result, path, exc)
    elif isinstance(exc, FileNotFoundError):
        ctx.ledger.finish(path, VANISHED, last_error="the file was gone before it was read")
        result.states[path] = VANISHED
        log.info("file_vanished", path=path)
    elif isinstance(exc, PermissionError):
        _quarantine(ctx, result, path, Rejected("unreadable", str(exc)))
    elif _is_transient(exc):
        raise exc
    else:
        error = f"{type(exc).__name__}: {exc}"
        ctx.ledger.record_error(path, error)
        if attempts >= ctx.settings.max_attempts:
            _quarantine(
                ctx, result, path, Rejected("error", f"failed {attempts} times; last: {error}")
            )
        else:
            result.retry.append(path)
            log.warning("file_retry", path=path, attempts=attempts, error=error[:300])


def _enrich_all(
    works: list[FileWork], ctx: Context, result: BatchResult, attempts: dict[str, int]
) -> list[FileWork]:
    """Enrich the documents of the whole batch in one pass (one model run over all of them).

    If that pass fails, each file is enriched on its own, so one bad document fails only
    its own file; returns the files still in the batch.
    """
    names = ctx.settings.enrichers
    docs = [doc for work in works for doc in work.owners]
    try:
        enriched = iter(enrich_batch(docs, names))
        for work in works:
            work.owners = [next(enriched) for _ in work.owners]
        return works
    except Exception as exc:
        if _is_transient(exc):
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


def _link(works: list[FileWork], ctx: Context) -> None:
    """Near-duplicate clusters and same-story links for the batch's documents."""
    bodies = {doc.doc_id: doc.body for work in works for doc in work.owners}
    # Canonicals read from the index for this batch: each one once, whatever its copies.
    indexed: dict[str, dict[str, Any]] = {}
    for work in works:
        work.owners = [_cluster(doc, bodies, indexed, ctx) for doc in work.owners]
    owners = [doc for work in works for doc in work.owners]
    # A near-copy belongs to its canonical's story; the others are matched on entities.
    stories = {
        d.doc_id: d.story_id
        for d in link_stories([d for d in owners if d.canonical], ctx.es, ctx.alias, ctx.stories)
    }
    # Near-copies of documents indexed earlier take those documents' stories: one mget.
    earlier = {
        d.cluster_id
        for d in owners
        if d.cluster_id and d.doc_id not in stories and d.cluster_id not in stories
    }
    indexed.update(_read_indexed(ctx, earlier - indexed.keys(), ["story_id"]))
    for work in works:
        work.owners = [
            doc.replace(
                story_id=stories.get(doc.doc_id)
                or stories.get(doc.cluster_id or "")
                or _story_of(doc.cluster_id or doc.doc_id, indexed)
            )
            for doc in work.owners
        ]


def _read_indexed(ctx: Context, doc_ids: set[str], fields: list[str]) -> dict[str, dict[str, Any]]:
    """The named fields of indexed documents ({} for one not indexed yet), in one request."""
    if not doc_ids:
        return {}
    docs = ctx.es.mget(index=ctx.alias, ids=sorted(doc_ids), source_includes=fields)["docs"]
    return {d["_id"]: d.get("_source", {}) if d.get("found") else {} for d in docs}


def _cluster(
    doc: Document, bodies: dict[str, str], indexed: dict[str, dict[str, Any]], ctx: Context
) -> Document:
    def canonical_shingles(doc_id: str) -> set[int] | None:
        """The canonical's shingles, from this batch or the index (None: not indexed yet)."""
        body = bodies.get(doc_id)
        if body is None:
            if doc_id not in indexed:
                # Its story too: the near-copy will want it.
                indexed.update(_read_indexed(ctx, {doc_id}, ["body", "story_id"]))
            body = indexed[doc_id].get("body")
        return shingles(body) if body else None

    found = ctx.neardup.claim_confirmed(doc.doc_id, shingles(doc.body), canonical_shingles)
    return doc.replace(
        cluster_id=found.cluster_id, canonical=found.canonical, similarity=found.similarity
    )


def _story_of(doc_id: str, indexed: dict[str, dict[str, Any]]) -> str:
    """The story of an indexed document (a near-copy's canonical), or its own id."""
    return str(indexed.get(doc_id, {}).get("story_id") or doc_id)


@dataclass
class Indexed:
    """The bulk outcome of a batch: refusals, and the source lists that were written."""

    refused: dict[str, str] = field(default_factory=dict)
    sources: dict[str, list[str]] = field(default_factory=dict)


def _index(owners: list[Document], ctx: Context) -> Indexed:
    """Bulk-index the batch's documents with their sources as Redis has them now."""
    done = Indexed()
    if not owners:
        return done
    batch = []
    for doc in owners:
        done.sources[doc.doc_id] = ctx.contents.sources(doc.doc_id)
        batch.append((doc.doc_id, doc.replace(sources=done.sources[doc.doc_id]).to_index()))
    outcome = bulk_index(ctx.es, ctx.alias, batch, policy=ctx.policy)
    done.refused = outcome.rejected
    missing = set(done.sources) - set(outcome.indexed) - set(outcome.rejected)
    done.refused.update(dict.fromkeys(missing, "not in the bulk response"))
    return done


def site_for(doc: Document, inbox: Path) -> str | None:
    """The document's site: from its URL, else the inbox sub-folder its scraper writes to."""
    if doc.site:
        return doc.site
    path = Path(doc.source.split("#", 1)[0])
    try:
        parts = path.relative_to(inbox).parts
    except ValueError:
        return None
    return parts[0] if len(parts) > 1 else None


def _prepare(doc: Document, ctx: Context) -> Document:
    """Clean and identify one document; Rejected when nothing is left of it."""
    doc = clean(doc)
    doc = doc.replace(site=site_for(doc, ctx.settings.inbox.resolve()))
    # Lines this site repeats in most of its documents (menus, footers) go too, once learned.
    doc = ctx.boilerplate.apply(doc, doc.site or "")
    if not doc.body.strip():
        removed = {reason: len(lines) for reason, lines in doc.cleaning.get("removed", {}).items()}
        raise Rejected("empty_after_cleaning", f"nothing left after cleaning (removed: {removed})")
    return doc.replace(doc_id=content_id(doc.body))


def _stage(path: Path, ctx: Context) -> FileWork:
    """Extract, clean and dedupe one file; duplicates are recorded here already."""
    file_key = str(path)
    extraction = read_file(path, ctx.settings.max_file_bytes, ctx.settings.json_fields)
    single = [d.source for d in extraction.documents] == [file_key] and not extraction.rejected
    entry = ctx.ledger.get(file_key)
    work = FileWork(
        file_key,
        hashlib.sha256(extraction.raw).hexdigest(),
        single,
        refused=dict(extraction.rejected),
        previous=entry.produced if entry else (),
    )
    for doc in extraction.documents:
        try:
            doc = _prepare(doc, ctx)
        except Rejected as rejected:
            if single:
                raise
            work.refused[doc.source] = rejected
            continue
        claim = ctx.contents.claim(doc.doc_id, doc.source)
        if claim.is_owner:
            work.owners.append(doc)
            continue
        # The content is (being) indexed from another source: recorded on it for the whole
        # batch at once (_record_duplicates).
        work.duplicates.append((doc, claim.owner))
    return work


def _record_duplicates(works: list[FileWork], ctx: Context) -> None:
    """Write the batch's new sources onto the documents they duplicate, then the ledger.

    A document still being indexed by another batch gets its sources from that batch, which
    reads them after indexing (_finish).
    """
    pending = [(work, doc, owner) for work in works for doc, owner in work.duplicates]
    if not pending:
        return
    set_sources_many(ctx.es, ctx.alias, [doc.doc_id for _, doc, _ in pending], ctx.contents.sources)
    for work, doc, owner in pending:
        ctx.ledger.finish(
            doc.source, DUPLICATE, doc_id=doc.doc_id, duplicate_of=owner, raw_hash=work.raw_hash
        )
        work.outcomes[doc.source] = DUPLICATE
        work.produced.append((doc.source, doc.doc_id))


def _finish(work: FileWork, indexed: Indexed, ctx: Context, result: BatchResult) -> None:
    """Record the outcome of each of the file's documents, and of the file."""
    for doc in work.owners:
        if doc.doc_id in indexed.refused:
            work.refused[doc.source] = Rejected("index_rejected", indexed.refused[doc.doc_id])
            continue
        if ctx.contents.sources(doc.doc_id) != indexed.sources[doc.doc_id]:
            # Sources that arrived while this one was indexing are written now.
            set_sources(ctx.es, ctx.alias, doc.doc_id, partial(ctx.contents.sources, doc.doc_id))
        ctx.ledger.finish(doc.source, INDEXED, doc_id=doc.doc_id, raw_hash=work.raw_hash)
        work.outcomes[doc.source] = INDEXED
        work.produced.append((doc.source, doc.doc_id))
    # The index follows the file: what its previous version delivered and this one does not
    # (changed content, a removed JSON item) loses this source.
    for source, doc_id in sorted(set(work.previous) - set(work.produced)):
        release_source(ctx, source, doc_id)
    ctx.ledger.set_produced(work.path, work.produced)
    if work.single:
        if work.path in work.refused:
            _quarantine(ctx, result, work.path, work.refused[work.path])
        else:
            result.states[work.path] = work.outcomes[work.path]
        return
    for source, why in work.refused.items():
        ctx.ledger.quarantine(source, why.reason, why.detail)
        work.outcomes[source] = QUARANTINED
        log.warning("item_quarantined", source=source, reason=why.reason, detail=why.detail)
    counts = Counter(work.outcomes.values())
    summary = ", ".join(f"{state}: {n}" for state, n in sorted(counts.items()))
    if counts[INDEXED] or counts[DUPLICATE]:
        ctx.ledger.finish(work.path, INDEXED, raw_hash=work.raw_hash, reason="", items=summary)
        result.states[work.path] = INDEXED
    else:
        _quarantine(
            ctx,
            result,
            work.path,
            Rejected("no_valid_items", f"no item of the file could be indexed ({summary})"),
        )


def release_source(ctx: Context, source: str, doc_id: str) -> None:
    """`source` no longer delivers this content: drop it, and the document when none remain."""
    remaining = ctx.contents.release(doc_id, source)
    if remaining:
        set_sources(ctx.es, ctx.alias, doc_id, partial(ctx.contents.sources, doc_id))
        log.info("source_released", source=source, doc_id=doc_id, remaining=remaining)
    else:
        ctx.es.options(ignore_status=404).delete(index=ctx.alias, id=doc_id)
        ctx.neardup.forget(doc_id)
        log.info("document_removed", source=source, doc_id=doc_id)


def forget_files(paths: list[str], ctx: Context) -> dict[str, str]:
    """Files deleted from the inbox: release what they delivered; returns their new state."""
    states: dict[str, str] = {}
    for path in paths:
        entry = ctx.ledger.get(path)
        if entry is None or Path(path).exists():
            continue  # unknown, or back again: the next scan queues it as usual
        for source, doc_id in entry.produced:
            release_source(ctx, source, doc_id)
        ctx.ledger.set_produced(path, [])
        ctx.ledger.finish(path, DELETED, last_error="the file was deleted from the inbox")
        states[path] = DELETED
        log.info("file_deleted", path=path, released=len(entry.produced))
    return states
