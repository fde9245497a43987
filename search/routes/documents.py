"""GET /api/documents/{id}: one document, its copies, related stories, and similar ones."""

from __future__ import annotations

from typing import Annotated, Any

from elasticsearch import ApiError, Elasticsearch, NotFoundError
from fastapi import APIRouter, HTTPException, Path, Query

from search.deps import BAD_REQUEST, NOT_FOUND, UNAVAILABLE, AliasDep, EsDep

router = APIRouter(tags=["documents"])
# Fields shown where documents are listed inside another answer.
_LISTED = (
    "title",
    "published",
    "site",
    "sources",
    "language",
    "cluster_id",
    "story_id",
    "similarity",
    "canonical",
)
# Document ids are SHA-256 hex digests; anything longer cannot be one.
DocId = Annotated[str, Path(max_length=512)]


def _get(es: Elasticsearch, alias: str, doc_id: str, **options: Any) -> dict[str, Any]:
    try:
        return es.get(index=alias, id=doc_id, **options).body
    except NotFoundError as exc:
        raise HTTPException(404, f"no document {doc_id}") from exc
    except ApiError as exc:
        if exc.meta.status == 400:  # an id Elasticsearch refuses cannot name a document
            raise HTTPException(404, f"no document {doc_id}") from exc
        raise


def _listing(
    es: Elasticsearch, alias: str, query: dict[str, Any], size: int = 20
) -> list[dict[str, Any]]:
    found = es.search(
        index=alias,
        query=query,
        size=size,
        source_includes=list(_LISTED),
        sort=[{"published": "desc"}],
    )
    return [{"id": h["_id"], **h["_source"]} for h in found["hits"]["hits"]]


@router.get(
    "/api/documents/{doc_id}",
    summary="One document, its copies and related stories",
    responses={**BAD_REQUEST, **NOT_FOUND, **UNAVAILABLE},
)
def document(doc_id: DocId, es: EsDep, alias: AliasDep) -> dict[str, Any]:
    found = _get(es, alias, doc_id)
    source = found["_source"]
    itself = {"ids": {"values": [doc_id]}}
    cluster = {"term": {"cluster_id": source["cluster_id"]}}
    copies = {"bool": {"filter": cluster, "must_not": itself}}
    # Same event from other outlets: linked by story, never merged.
    story = {"term": {"story_id": source["story_id"]}}
    related = {"bool": {"filter": story, "must_not": [itself, cluster]}}
    return {
        "id": found["_id"],
        **source,
        "near_duplicates": _listing(es, alias, copies),
        "related_stories": _listing(es, alias, related),
    }


@router.get(
    "/api/documents/{doc_id}/similar",
    summary="More like this document",
    responses={**BAD_REQUEST, **NOT_FOUND, **UNAVAILABLE},
)
def similar(
    doc_id: DocId, es: EsDep, alias: AliasDep, size: Annotated[int, Query(ge=1, le=50)] = 10
) -> dict[str, Any]:
    found = _get(es, alias, doc_id, source_includes=["cluster_id"])
    query = {
        "bool": {
            "must": {
                "more_like_this": {
                    "fields": ["title", "body"],
                    "like": [{"_index": found["_index"], "_id": doc_id}],
                    "min_term_freq": 1,
                    "max_query_terms": 40,
                    "min_doc_freq": 1,
                }
            },
            # Its own near-duplicates are not news: they are listed on the document.
            "must_not": {"term": {"cluster_id": found["_source"]["cluster_id"]}},
        }
    }
    result = es.search(index=alias, query=query, size=size, source_includes=list(_LISTED))
    return {
        "id": doc_id,
        "hits": [
            {"id": h["_id"], "score": h["_score"], **h["_source"]} for h in result["hits"]["hits"]
        ],
    }
