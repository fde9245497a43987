"""GET /api/search: ranked hits, facets, a date histogram, "did you mean", cursor paging."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Annotated, Any

from elasticsearch import ApiError, Elasticsearch
from fastapi import APIRouter, HTTPException, Query, Request

from search.deps import (
    BAD_REQUEST,
    UNAVAILABLE,
    AliasDep,
    EsDep,
    SearchParamsDep,
    SortParam,
    run_search,
    with_spellings,
)
from search.mapping import FACET_FIELDS
from search.query import (
    CURSOR_KEEP_ALIVE,
    START_CURSOR,
    SUGGEST_BELOW,
    BadQuery,
    SearchParams,
    base_query,
    build_histogram,
    build_search,
    build_suggest,
    decode_cursor,
    histogram_interval,
    next_cursor,
    parse_histogram,
    parse_response,
    parse_suggest,
    plain_words,
    published_range,
)

router = APIRouter(tags=["search"])


@router.get("/api/search", summary="Search documents", responses={**BAD_REQUEST, **UNAVAILABLE})
def search(
    es: EsDep,
    alias: AliasDep,
    request: Request,
    base: SearchParamsDep,
    collapse: Annotated[
        bool, Query(description="one hit per near-duplicate cluster, with its size")
    ] = True,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1)] = 10,
    sort: SortParam = "relevance",
    facet_size: Annotated[int, Query(ge=1, le=100)] = 10,
    facets: Annotated[
        list[str], Query(description="the facets to count (repeatable; default: all of them)")
    ] = [],  # noqa: B006 (FastAPI copies defaults)
    cursor: Annotated[
        str | None,
        Query(
            max_length=4096,
            description=f"deep paging: `{START_CURSOR}` for the first page, then the answer's "
            f"`next_cursor`; each page keeps the cursor alive {CURSOR_KEEP_ALIVE} (every copy "
            "is listed, facets come with the first page)",
        ),
    ] = None,
) -> dict[str, Any]:
    max_per_page = request.app.state.max_per_page
    if per_page > max_per_page:
        raise HTTPException(400, f"per_page may be at most {max_per_page}")
    if cursor is not None and page != 1:
        raise HTTPException(400, "page does not apply to cursor paging: follow next_cursor")
    params = replace(
        base,
        page=page,
        per_page=per_page,
        sort=sort,
        facet_size=facet_size,
        collapse=collapse,
        facets=tuple(facets) if facets else FACET_FIELDS,
    )
    started = time.perf_counter()
    try:
        if cursor is None:
            result = _page(es, alias, params)
        else:
            result = _cursor_page(es, alias, params, cursor)
    except BadQuery as exc:
        raise HTTPException(400, str(exc)) from exc
    result["request_id"] = request.state.request_id
    result["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def _page(es: Elasticsearch, alias: str, params: SearchParams) -> dict[str, Any]:
    params = with_spellings(es, alias, params)
    response = run_search(es, alias, build_search(params))
    result = parse_response(response, params)
    result["histogram"] = _histogram(es, alias, params, response)
    result["did_you_mean"] = _did_you_mean(es, alias, params, result["total"]["value"])
    result["next_cursor"] = None
    return result


def _cursor_page(
    es: Elasticsearch, alias: str, params: SearchParams, cursor: str
) -> dict[str, Any]:
    first = cursor == START_CURSOR
    if first:
        build_search(params)  # parameters checked before a point in time is opened
        params = with_spellings(es, alias, params)
        pit_id = es.open_point_in_time(index=alias, keep_alive=CURSOR_KEEP_ALIVE)["id"]
        after = None
    else:
        position = decode_cursor(cursor, params)
        pit_id, after = position.pit_id, position.search_after
        params = replace(params, spellings=position.spellings)
    try:
        response = es.search(
            body={**build_search(params, pit_id=pit_id, search_after=after), "timeout": "10s"}
        ).body
    except ApiError as exc:
        if exc.meta.status in (400, 404) and not first:
            raise HTTPException(
                400, f"cursor expired or invalid ({exc.error}): start again with cursor=*"
            ) from exc
        if exc.meta.status == 400:
            raise HTTPException(400, f"Elasticsearch refused the query: {exc}") from exc
        raise
    result = parse_response(response, params)
    result["histogram"] = _histogram(es, alias, params, response) if first else None
    result["did_you_mean"] = (
        _did_you_mean(es, alias, params, result["total"]["value"]) if first else None
    )
    result["next_cursor"] = next_cursor(response, params)
    if result["next_cursor"] is None:
        es.options(ignore_status=404).close_point_in_time(id=response["pit_id"])
    return result


def _histogram(
    es: Elasticsearch, alias: str, params: SearchParams, response: dict[str, Any]
) -> dict[str, Any]:
    """Matched documents per calendar interval, the interval chosen from their date range."""
    found = published_range(response)
    if found is None:
        return {
            "field": "published",
            "interval": None,
            "time_zone": params.time_zone,
            "buckets": [],
        }
    interval = histogram_interval(*found)
    counted = run_search(es, alias, build_histogram(params, *found))
    return parse_histogram(counted, params, interval)


def _did_you_mean(
    es: Elasticsearch, alias: str, params: SearchParams, total: int
) -> dict[str, Any] | None:
    """A respelling of q that finds more, when q found little."""
    if total >= SUGGEST_BELOW or not params.q.strip():
        return None
    body = build_suggest(params.q, params)
    if body is None:
        return None
    suggestion = parse_suggest(run_search(es, alias, body))
    if suggestion is None or suggestion["text"] == plain_words(params.q).lower():
        return None
    # The suggester has no collation here (it needs scripts): count what the respelling finds.
    respelled = replace(params, q=suggestion["text"], spellings={})
    query = base_query(respelled)
    query["bool"]["filter"] += [{"terms": {f: v}} for f, v in params.filters.items() if v]
    found = es.count(index=alias, query=query)["count"]
    return {**suggestion, "total": found} if found > total else None
