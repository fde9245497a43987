"""The index mapping. Bump MAPPING_VERSION on any change: that creates a new concrete index."""

from __future__ import annotations

from typing import Any

MAPPING_VERSION = 5

_KEYWORD = {"type": "keyword", "ignore_above": 1024}
# Searched text: English analysis (stemmed), with an unstemmed `exact` subfield so exact
# matches can rank first and phrases match word for word.
_EXACT = {"type": "text", "analyzer": "dropsift_exact"}
_ENGLISH = {"type": "text", "analyzer": "dropsift_english"}
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
        "title": {**_ENGLISH, "fields": {"exact": _EXACT, "keyword": _KEYWORD}},
        "title_from": {"type": "keyword"},
        # The title as the source gave it, when the site's name was taken off (shown only).
        "title_original": {"type": "keyword", "index": False, "ignore_above": 1024},
        "body": {**_ENGLISH, "fields": {"exact": _EXACT, "shingles": _SHINGLES}},
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
        # Phase 2 (entities, keywords, story) has updated the document; until then it is
        # searchable without them.
        "enriched": {"type": "boolean"},
        "enriched_at": {"type": "date"},
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
    # Only names Elasticsearch's analysis-common module defines (full distributions have
    # it; the local integ-test-zip gets them from the dropsift-analysis plugin), so this one
    # mapping works on both. `lowercase`, `stop` and the `standard` tokenizer are core.
    "analysis": {
        "filter": {
            # "Zelensky's" and "Zelensky’s" are indexed as "zelensky".
            "dropsift_possessive": {"type": "stemmer", "language": "possessive_english"},
            # Porter: "talks" and "talk" -> "talk", "negotiation" and "negotiator" -> "negoti".
            "dropsift_stemmer": {"type": "stemmer", "language": "english"},
            # Stop words out of the stemmed field only: "the" and "of" add nothing to its
            # scores; phrases, which need them, run on the exact subfield.
            "dropsift_stop": {"type": "stop", "stopwords": "_english_"},
            # Word pairs for "did you mean" (core: every distribution has it).
            "dropsift_shingle": {"type": "shingle", "min_shingle_size": 2, "max_shingle_size": 2},
        },
        "analyzer": {
            "dropsift_english": {
                "type": "custom",
                "tokenizer": "standard",
                "filter": [
                    "dropsift_possessive",
                    "lowercase",
                    "asciifolding",
                    "dropsift_stop",
                    "dropsift_stemmer",
                ],
            },
            # Word for word, but "café" matches "cafe" and case does not matter.
            "dropsift_exact": {
                "type": "custom",
                "tokenizer": "standard",
                "filter": ["lowercase", "asciifolding"],
            },
            "dropsift_shingles": {
                "type": "custom",
                "tokenizer": "standard",
                "filter": ["lowercase", "dropsift_shingle"],
            },
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
