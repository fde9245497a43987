"""The one object that flows through the pipeline; each stage fills in more of it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tasks.source import printable


@dataclass
class Document:
    """A document on its way from a source file to the index."""

    source: str
    """Absolute path (or push name) of the file this document came from."""
    text: str
    """Decoded text as extracted, before cleaning."""
    format: str = "txt"
    ingested_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    # Filled in by cleaning.
    body: str = ""
    title: str | None = None
    title_from: str | None = None
    """Where the title came from: "text", "first_sentence" or "filename"."""
    title_original: str | None = None
    """The title as the source gave it, when the site's name was taken off it."""
    title_hints: dict[str, str] = field(default_factory=dict)
    """What a page says of its title (`page_title`, `og_title`, `h1`, `site_name`); not indexed."""
    published: datetime | None = None
    published_from: str | None = None
    """Where the date came from: "text" or "ingested" (a fallback, flagged as such)."""
    section: str | None = None
    author: str | None = None
    url: str | None = None
    """Where the content was published, when the input says (HTML canonical link, JSON url)."""
    site: str | None = None
    """The publishing site: the URL's host, or the inbox sub-folder a scraper writes to."""
    cleaning: dict[str, Any] = field(default_factory=dict)
    """What cleaning did: version, characters before/after, removed lines by reason."""

    # Filled in by dedupe.
    doc_id: str = ""
    sources: list[str] = field(default_factory=list)
    cluster_id: str | None = None
    """Near-duplicate cluster: the canonical document's id (its own id when it is canonical)."""
    canonical: bool = True
    similarity: float | None = None
    """Estimated Jaccard similarity to the canonical document, for a near-duplicate."""
    story_id: str | None = None
    """Shared by documents about the same event from different outlets: linked, not merged."""

    # Filled in by enrichment.
    language: str | None = None
    word_count: int = 0
    reading_time_minutes: float = 0.0
    summary: str | None = None
    people: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    organizations: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    enriched: bool = False
    """Phase 2 (entities, keywords, story) is done, or there is none configured."""
    enriched_at: datetime | None = None

    def to_index(self) -> dict[str, Any]:
        """The Elasticsearch `_source` for this document."""
        published = self.published or self.ingested_at
        return {
            "doc_id": self.doc_id,
            "title": printable(self.title) if self.title else self.title,
            "title_from": self.title_from,
            "title_original": printable(self.title_original) if self.title_original else None,
            "body": self.body,
            "format": self.format,
            "sources": sorted({printable(s) for s in self.sources or [self.source]}),
            "section": self.section,
            "author": self.author,
            "url": self.url,
            "site": self.site,
            "language": self.language,
            "word_count": self.word_count,
            "reading_time_minutes": self.reading_time_minutes,
            "summary": self.summary,
            "people": self.people,
            "places": self.places,
            "organizations": self.organizations,
            "keywords": self.keywords,
            # Every document is in a cluster (collapse would lump documents without one).
            "cluster_id": self.cluster_id or self.doc_id,
            "canonical": self.canonical,
            "similarity": self.similarity,
            "story_id": self.story_id or self.doc_id,
            "published": published.isoformat(),
            "published_from": self.published_from or "ingested",
            "ingested_at": self.ingested_at.isoformat(),
            "cleaning": self.cleaning,
            "enriched": self.enriched,
            "enriched_at": self.enriched_at.isoformat() if self.enriched_at else None,
        }

    def replace(self, **changes: Any) -> Document:
        return dataclasses.replace(self, **changes)
