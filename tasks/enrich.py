"""Enrichment: title and date fallbacks, then the configured enrichers (tasks.enrichers)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tasks.document import Document
from tasks.enrichers import DEFAULT_ENRICHERS, run_enrichers
from tasks.enrichers.language import detect_language

__all__ = ["DEFAULT_ENRICHERS", "detect_language", "enrich", "enrich_batch", "with_fallbacks"]


def with_fallbacks(doc: Document) -> Document:
    """The document with a title and a date, flagging where they are fallbacks."""
    title, title_from = doc.title, doc.title_from
    if not title:
        title, title_from = Path(doc.source).stem, "filename"
    published_from = doc.published_from if doc.published else "ingested"
    return doc.replace(
        title=title,
        title_from=title_from,
        published=doc.published or doc.ingested_at,
        published_from=published_from,
    )


def enrich_batch(
    docs: Sequence[Document], names: Sequence[str] = DEFAULT_ENRICHERS
) -> list[Document]:
    """Fill in every document's fields: fallbacks, then the named enrichers over the batch."""
    return run_enrichers([with_fallbacks(d) for d in docs], names)


def enrich(doc: Document) -> Document:
    """Fill in the fields every document carries, flagging fallbacks."""
    return enrich_batch([doc])[0]
