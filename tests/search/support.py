"""Helpers for search tests: a small index of hand-written documents under an alias of its own."""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch, helpers

from search.index import ensure_index


def index_documents(es: Elasticsearch, alias: str, docs: list[dict[str, Any]]) -> None:
    """Create the alias's current index and load the documents (id = doc_id), refreshed."""
    ensure_index(es, alias)
    actions = [
        {
            "_index": alias,
            "_id": doc["doc_id"],
            "_source": {
                "cluster_id": doc["doc_id"],
                "canonical": True,
                "language": "en",
                "published_from": "text",
                **doc,
            },
        }
        for doc in docs
    ]
    helpers.bulk(es, actions, refresh=True)
