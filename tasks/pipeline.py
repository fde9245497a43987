"""The pipeline for one file: extract -> clean -> dedupe -> enrich -> index, and its ledger."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import redis
import structlog
from elasticsearch import ApiError, Elasticsearch, TransportError

from search.index import ensure_index
from search.indexer import RetryPolicy, TransientIndexError, bulk_index, set_sources
from tasks.clean import clean
from tasks.dedupe import ContentRegistry, content_id
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
    policy: RetryPolicy = field(init=False)

    def __post_init__(self) -> None:
        prefix = self.settings.key_prefix
        self.ledger = Ledger(self.redis, prefix)
        self.contents = ContentRegistry(self.redis, prefix)
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


def _process(path: Path, ctx: Context) -> str:
    source = str(path)
    doc, raw = read_file(path, ctx.settings.max_file_bytes)
    raw_hash = hashlib.sha256(raw).hexdigest()
    doc = clean(doc)
    if not doc.body.strip():
        removed = {reason: len(lines) for reason, lines in doc.cleaning.get("removed", {}).items()}
        raise Rejected("empty_after_cleaning", f"nothing left after cleaning (removed: {removed})")
    doc = doc.replace(doc_id=content_id(doc.body))
    claim = ctx.contents.claim(doc.doc_id, source)
    if not claim.is_owner:
        # The content is (being) indexed from another source: record this one on it.
        set_sources(ctx.es, ctx.alias, doc.doc_id, lambda: ctx.contents.sources(doc.doc_id))
        ctx.ledger.finish(
            source, DUPLICATE, doc_id=doc.doc_id, duplicate_of=claim.owner, raw_hash=raw_hash
        )
        return DUPLICATE
    doc = enrich(doc).replace(sources=ctx.contents.sources(doc.doc_id))
    outcome = bulk_index(ctx.es, ctx.alias, [(doc.doc_id, doc.to_index())], policy=ctx.policy)
    if doc.doc_id in outcome.rejected:
        raise Rejected("index_rejected", outcome.rejected[doc.doc_id])
    # Sources that arrived while this one was indexing are written now.
    set_sources(ctx.es, ctx.alias, doc.doc_id, lambda: ctx.contents.sources(doc.doc_id))
    ctx.ledger.finish(source, INDEXED, doc_id=doc.doc_id, raw_hash=raw_hash)
    return INDEXED
