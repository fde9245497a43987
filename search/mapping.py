"""The index mapping. Bump MAPPING_VERSION on any change: that creates a new concrete index."""

from __future__ import annotations

from typing import Any

MAPPING_VERSION = 4

_KEYWORD = {"type": "keyword", "ignore_above": 1024}
# Unstemmed words, so exact matches can rank above stemmed ones and phrases stay exact.
# The `standard` analyzer stands in until English analysis (with ASCII folding) lands.
_EXACT = {"type": "text", "analyzer": "standard"}
# Words and word pairs for the phrase suggester ("did you mean"), which reads only term
# statistics: no positions, no norms (pairs and triples with positions were 45% of the index).
_SHINGLES = {
    "type": "text",
    "analyzer": "dropsift_shingles",
    "index_options": "freqs",
    "norms": False,
}

MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "doc_id": {"type": "keyword"},
        "title": {"type": "text", "fields": {"keyword": _KEYWORD, "exact": _EXACT}},
        "title_from": {"type": "keyword"},
        "body": {"type": "text", "fields": {"exact": _EXACT, "shingles": _SHINGLES}},
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
    "analysis": {
        # Core features only (lowercase, shingle): every distribution has them.
        "filter": {
            "dropsift_shingle": {"type": "shingle", "min_shingle_size": 2, "max_shingle_size": 2}
        },
        "analyzer": {
            "dropsift_shingles": {
                "type": "custom",
                "tokenizer": "standard",
                "filter": ["lowercase", "dropsift_shingle"],
            }
        },
    },
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
