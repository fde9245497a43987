"""The HTTP search API. The Elasticsearch client and alias are handed in by whoever runs it."""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Annotated, Any

from elasticsearch import ApiError, Elasticsearch, NotFoundError, TransportError
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from search.query import BadQuery, SearchParams, Sort, build_search, parse_response

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


def get_es(request: Request) -> Elasticsearch:
    """The client the app was created with; tests and callers hand in their own."""
    return request.app.state.es


EsDep = Annotated[Elasticsearch, Depends(get_es)]

# Elasticsearch refuses ids over 512 bytes, so no document has one; asking would send a
# request line over its 4,096-byte limit (a 400 from Elasticsearch, a 500 here).
_MAX_ID_BYTES = 512


def _get_or_404(es: Elasticsearch, alias: str, doc_id: str, **options: Any) -> Any:
    """The stored document, or a 404 for an id no document has."""
    if len(doc_id.encode("utf-8", "surrogatepass")) > _MAX_ID_BYTES:
        raise HTTPException(404, f"no document {doc_id[:80]}… (ids are at most 512 bytes)")
    try:
        return es.get(index=alias, id=doc_id, **options)
    except NotFoundError as exc:
        raise HTTPException(404, f"no document {doc_id}") from exc


def create_app(es: Elasticsearch, alias: str, *, max_per_page: int = 100) -> FastAPI:
    app = FastAPI(
        title="dropsift search",
        description="Full-text and faceted search over the documents dropsift ingested.",
        version="0.1.0",
    )
    app.state.es = es
    app.state.alias = alias

    @app.middleware("http")
    async def request_id(request: Request, call_next: Any) -> Any:
        rid = request.headers.get("x-request-id") or uuid.uuid4().hex
        request.state.request_id = rid
        response = await call_next(request)
        response.headers["x-request-id"] = rid
        return response

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": e["loc"], "msg": e["msg"]} for e in exc.errors()]
        return JSONResponse(status_code=400, content={"detail": errors})

    @app.exception_handler(TransportError)
    async def es_unreachable(request: Request, exc: TransportError) -> JSONResponse:
        return JSONResponse(status_code=503, content={"detail": "Elasticsearch is not reachable"})

    @app.get("/api/search", summary="Search documents")
    def search(
        es: EsDep,
        request: Request,
        q: Annotated[str, Query(max_length=1000, description="simple_query_string syntax")] = "",
        language: Annotated[list[str], Query()] = [],  # noqa: B006 (FastAPI copies defaults)
        section: Annotated[list[str], Query()] = [],  # noqa: B006
        site: Annotated[list[str], Query()] = [],  # noqa: B006
        author: Annotated[list[str], Query()] = [],  # noqa: B006
        people: Annotated[list[str], Query()] = [],  # noqa: B006
        places: Annotated[list[str], Query()] = [],  # noqa: B006
        organizations: Annotated[list[str], Query()] = [],  # noqa: B006
        keywords: Annotated[list[str], Query()] = [],  # noqa: B006
        story_id: Annotated[list[str], Query()] = [],  # noqa: B006
        cluster_id: Annotated[
            list[str], Query(description="only this near-duplicate cluster's documents")
        ] = [],  # noqa: B006
        collapse: Annotated[
            bool, Query(description="one hit per near-duplicate cluster, with its size")
        ] = True,
        format: Annotated[list[str], Query()] = [],  # noqa: B006
        published_from: Annotated[list[str], Query()] = [],  # noqa: B006
        published_after: datetime | None = None,
        published_before: datetime | None = None,
        page: Annotated[int, Query(ge=1)] = 1,
        per_page: Annotated[int, Query(ge=1)] = 10,
        sort: Sort = "relevance",
        facet_size: Annotated[int, Query(ge=1, le=100)] = 10,
    ) -> dict[str, Any]:
        if per_page > max_per_page:
            raise HTTPException(400, f"per_page may be at most {max_per_page}")
        params = SearchParams(
            q=q,
            filters={
                "language": language,
                "section": section,
                "site": site,
                "author": author,
                "people": people,
                "places": places,
                "organizations": organizations,
                "keywords": keywords,
                "story_id": story_id,
                "cluster_id": cluster_id,
                "format": format,
                "published_from": published_from,
            },
            published_after=published_after,
            published_before=published_before,
            page=page,
            per_page=per_page,
            sort=sort,
            facet_size=facet_size,
            collapse=collapse,
        )
        try:
            body = build_search(params)
        except BadQuery as exc:
            raise HTTPException(400, str(exc)) from exc
        started = time.perf_counter()
        try:
            response = es.search(index=request.app.state.alias, body={**body, "timeout": "10s"})
        except ApiError as exc:
            if exc.meta.status == 400:
                raise HTTPException(400, f"Elasticsearch refused the query: {exc}") from exc
            raise
        result = parse_response(response.body, params)
        result["request_id"] = request.state.request_id
        result["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 1)
        return result

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

    @app.get("/api/documents/{doc_id}", summary="One document, its copies and related stories")
    def document(doc_id: str, es: EsDep, request: Request) -> dict[str, Any]:
        alias = request.app.state.alias
        found = _get_or_404(es, alias, doc_id)
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

    @app.get("/api/documents/{doc_id}/similar", summary="More like this document")
    def similar(
        doc_id: str, es: EsDep, request: Request, size: Annotated[int, Query(ge=1, le=50)] = 10
    ) -> dict[str, Any]:
        alias = request.app.state.alias
        found = _get_or_404(es, alias, doc_id, source_includes=["cluster_id"])
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
                {"id": h["_id"], "score": h["_score"], **h["_source"]}
                for h in result["hits"]["hits"]
            ],
        }

    @app.get("/healthz", summary="Whether Elasticsearch answers and the index exists")
    def healthz(es: EsDep, request: Request) -> JSONResponse:
        try:
            health = es.cluster.health()["status"]
            exists = bool(es.indices.exists_alias(name=request.app.state.alias))
        except TransportError:
            return JSONResponse(status_code=503, content={"status": "elasticsearch unreachable"})
        ok = health in ("green", "yellow") and exists
        return JSONResponse(
            status_code=200 if ok else 503,
            content={
                "status": "ok" if ok else "degraded",
                "elasticsearch": health,
                "index": exists,
            },
        )

    return app
