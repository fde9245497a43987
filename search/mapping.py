"""The index mapping. Bump MAPPING_VERSION on any change: that creates a new concrete index."""

from __future__ import annotations

from typing import Any

MAPPING_VERSION = 4

_KEYWORD = {"type": "keyword", "ignore_above": 1024}

MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "doc_id": {"type": "keyword"},
        "title": {"type": "text", "fields": {"keyword": _KEYWORD}},
        "title_from": {"type": "keyword"},
        # The title as the source gave it, when the site's name was taken off (shown only).
        "title_original": {"type": "keyword", "index": False, "ignore_above": 1024},
        "body": {"type": "text"},
        "format": {"type": "keyword"},
        "sources": _KEYWORD,
        "section": _KEYWORD,
        "author": _KEYWORD,
        "url": _KEYWORD,
        "site": _KEYWORD,
        "language": {"type": "keyword"},
        "word_count": {"type": "integer"},
        "reading_time_minutes": {"type": "float"},
        "summary": {"type": "text"},
        "people": _KEYWORD,
        "places": _KEYWORD,
        "organizations": _KEYWORD,
        "keywords": _KEYWORD,
        "cluster_id": {"type": "keyword"},
        "canonical": {"type": "boolean"},
        "similarity": {"type": "float"},
        "story_id": {"type": "keyword"},
        # The time field: the published date, or the ingestion time when the document has
        # none (published_from says which), so every document has one.
        "published": {"type": "date"},
        "published_from": {"type": "keyword"},
        "ingested_at": {"type": "date"},
        # Kept in _source so a person can see why text vanished; not searchable.
        "cleaning": {"type": "object", "enabled": False},
    },
}

SETTINGS: dict[str, Any] = {
    "number_of_shards": 1,
    "number_of_replicas": 0,
    # Near-real-time: a document is searchable about a second after it is indexed,
    # without each bulk request forcing a refresh.
    "refresh_interval": "1s",
}

# Fields the search API offers as facets (keyword fields only).
FACET_FIELDS: tuple[str, ...] = (
    "language",
    "section",
    "site",
    "author",
    "people",
    "places",
    "organizations",
    "keywords",
    "story_id",
    "format",
    "published_from",
)
