"""Type-ahead: titles as people type, and values inside a facet with many of them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query

from search.deps import (
    BAD_REQUEST,
    UNAVAILABLE,
    AliasDep,
    EsDep,
    SearchParamsDep,
    problem,
    run_search,
    with_spellings,
)
from search.mapping import FACET_FIELDS
from search.query import (
    BadQuery,
    SearchParams,
    build_autocomplete,
    build_facet_values,
    parse_autocomplete,
    parse_facet_values,
)

router = APIRouter(tags=["type-ahead"])


@router.get(
    "/api/autocomplete",
    summary="Titles that start like what was typed",
    responses={**BAD_REQUEST, **UNAVAILABLE},
)
def autocomplete(
    es: EsDep,
    alias: AliasDep,
    q: Annotated[str, Query(min_length=1, max_length=200, description="what was typed")],
    size: Annotated[int, Query(ge=1, le=20)] = 8,
) -> dict[str, Any]:
    if not q.strip():
        return {"q": q, "suggestions": []}
    body = build_autocomplete(q, size, SearchParams())
    response = run_search(es, alias, body, timeout="2s")
    return {"q": q, "took_ms": response["took"], "suggestions": parse_autocomplete(response)}


@router.get(
    "/api/facets/{field}",
    summary="A facet's values that start with a prefix, counted within the search",
    responses={**BAD_REQUEST, 404: problem("no such facet"), **UNAVAILABLE},
)
def facet_values(
    es: EsDep,
    alias: AliasDep,
    field: Annotated[str, Path(json_schema_extra={"enum": list(FACET_FIELDS)})],
    params: SearchParamsDep,
    prefix: Annotated[
        str, Query(max_length=200, description="case-insensitive start of the value")
    ] = "",
    size: Annotated[int, Query(ge=1, le=100)] = 10,
) -> dict[str, Any]:
    if field not in FACET_FIELDS:
        raise HTTPException(404, f"no facet {field!r}; facets are {', '.join(FACET_FIELDS)}")
    params = with_spellings(es, alias, params)  # counted as the search counts
    try:
        body = build_facet_values(field, prefix, size, params)
    except BadQuery as exc:
        raise HTTPException(400, str(exc)) from exc
    response = run_search(es, alias, body, timeout="5s")
    return {
        "field": field,
        "prefix": prefix,
        "took_ms": response["took"],
        "values": parse_facet_values(response, field, params),
    }
