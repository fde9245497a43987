"""The pipeline for one file: extract -> clean -> dedupe -> enrich -> index, and its ledger."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import redis
import structlog
from elasticsearch import ApiError, Elasticsearch, TransportError

from search.index import ensure_index
from search.indexer import RetryPolicy, TransientIndexError, bulk_index, set_sources
from tasks.boilerplate_memory import SourceBoilerplate
from tasks.clean import clean
from tasks.dedupe import ContentRegistry, content_id
from tasks.document import Document
from tasks.enrich import enrich
from tasks.errors import Rejected, Transient
from tasks.extract import read_file
from worker.ledger import DUPLICATE, INDEXED, QUARANTINED, VANISHED, Ledger
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
        ensure_index(self.es, self.settings.alias)

    @property
    def alias(self) -> str:
        return self.settings.alias


def _is_transient(exc: Exception) -> bool:
    if isinstance(exc, TransientIndexError | redis.ConnectionError | redis.TimeoutError):
        return True
    if isinstance(exc, ApiError):
        return exc.meta.status in {429, 500, 502, 503, 504}
    return isinstance(exc, TransportError)


def process_file(path: str, ctx: Context) -> str:
    """Turn one file into an indexed document, a recorded duplicate, or a quarantine entry.

    Idempotent: the document id comes from the content, so running it twice writes the
    same document. Returns the file's final state. Raises Transient when a service failed
    (the attempt is not held against the file) and re-raises unexpected errors (which count
    towards DROPSIFT_MAX_ATTEMPTS, after which the file is quarantined).
    """
    bound = log.bind(path=path)
    attempts = ctx.ledger.start_attempt(path)
    if attempts > ctx.settings.max_attempts:
        entry = ctx.ledger.get(path)
        last = (entry.last_error if entry else "") or "the worker died while processing it"
        ctx.ledger.quarantine(
            path, "poison", f"gave up after {attempts - 1} attempts; last error: {last}"
        )
        bound.warning("file_quarantined", reason="poison", attempts=attempts - 1)
        return QUARANTINED
    try:
        state = _process(Path(path), ctx)
    except Rejected as rejected:
        ctx.ledger.quarantine(path, rejected.reason, rejected.detail)
        bound.warning("file_quarantined", reason=rejected.reason, detail=rejected.detail)
        return QUARANTINED
    except FileNotFoundError:
        ctx.ledger.finish(path, VANISHED, last_error="the file was gone before it was read")
        bound.info("file_vanished")
        return VANISHED
    except PermissionError as exc:
        ctx.ledger.quarantine(path, "unreadable", str(exc))
        bound.warning("file_quarantined", reason="unreadable", detail=str(exc))
        return QUARANTINED
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        if _is_transient(exc):
            ctx.ledger.forgive_attempt(path, error)
            bound.warning("file_retry_transient", error=error[:300])
            raise Transient(error) from exc
        ctx.ledger.record_error(path, error)
        if attempts >= ctx.settings.max_attempts:
            ctx.ledger.quarantine(path, "error", f"failed {attempts} times; last: {error}")
            bound.error("file_quarantined", reason="error", error=error[:300])
            return QUARANTINED
        raise
    bound.info("file_done", state=state)
    return state


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


def _process(path: Path, ctx: Context) -> str:
    file_key = str(path)
    extraction = read_file(path, ctx.settings.max_file_bytes, ctx.settings.json_fields)
    raw_hash = hashlib.sha256(extraction.raw).hexdigest()
    # A plain file is one document under the file's own name; a JSON feed holds items, each
    # with its own name (path#L3), ledger entry and outcome.
    single = [d.source for d in extraction.documents] == [file_key] and not extraction.rejected
    outcomes: dict[str, str] = {}
    refused: dict[str, Rejected] = dict(extraction.rejected)
    owners: list[Document] = []
    for doc in extraction.documents:
        try:
            doc = _prepare(doc, ctx)
        except Rejected as rejected:
            if single:
                raise
            refused[doc.source] = rejected
            continue
        claim = ctx.contents.claim(doc.doc_id, doc.source)
        if claim.is_owner:
            owners.append(enrich(doc))
            continue
        # The content is (being) indexed from another source: record this one on it.
        set_sources(ctx.es, ctx.alias, doc.doc_id, partial(ctx.contents.sources, doc.doc_id))
        ctx.ledger.finish(
            doc.source, DUPLICATE, doc_id=doc.doc_id, duplicate_of=claim.owner, raw_hash=raw_hash
        )
        outcomes[doc.source] = DUPLICATE

    if owners:
        batch = [
            (d.doc_id, d.replace(sources=ctx.contents.sources(d.doc_id)).to_index()) for d in owners
        ]
        result = bulk_index(ctx.es, ctx.alias, batch, policy=ctx.policy)
        for doc in owners:
            if doc.doc_id in result.rejected:
                reason = Rejected("index_rejected", result.rejected[doc.doc_id])
                if single:
                    raise reason
                refused[doc.source] = reason
                continue
            # Sources that arrived while this one was indexing are written now.
            set_sources(ctx.es, ctx.alias, doc.doc_id, partial(ctx.contents.sources, doc.doc_id))
            ctx.ledger.finish(doc.source, INDEXED, doc_id=doc.doc_id, raw_hash=raw_hash)
            outcomes[doc.source] = INDEXED

    if single:
        return outcomes[file_key]
    for source, why in refused.items():
        ctx.ledger.quarantine(source, why.reason, why.detail)
        outcomes[source] = QUARANTINED
        log.warning("item_quarantined", source=source, reason=why.reason, detail=why.detail)
    counts = Counter(outcomes.values())
    summary = ", ".join(f"{state}: {n}" for state, n in sorted(counts.items()))
    if counts[INDEXED] or counts[DUPLICATE]:
        ctx.ledger.finish(file_key, INDEXED, raw_hash=raw_hash, reason="", items=summary)
        return INDEXED
    raise Rejected("no_valid_items", f"no item of the file could be indexed ({summary})")
