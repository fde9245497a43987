"""What the API's routes are handed: the client, the alias, and the search parameters."""

from __future__ import annotations

import inspect
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any

from elasticsearch import ApiError, Elasticsearch
from fastapi import Depends, HTTPException, Query, Request
from pydantic import BaseModel

from search.query import FILTER_FIELDS, BadQuery, SearchParams, Sort, check_time_zone
from search.typos import build_spelling_request, parse_spellings

_FILTER_HELP = {
    "cluster_id": "only this near-duplicate cluster's documents (with collapse=false, to expand)",
}


def get_es(request: Request) -> Elasticsearch:
    """The client the app was created with; tests and callers hand in their own."""
    return request.app.state.es


def get_alias(request: Request) -> str:
    return request.app.state.alias


EsDep = Annotated[Elasticsearch, Depends(get_es)]
AliasDep = Annotated[str, Depends(get_alias)]


def _filters(**selected: list[str]) -> dict[str, list[str]]:
    return selected


# One query parameter per filter field, repeatable, built from the facet list in one place.
_filters.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            default=[],
            annotation=Annotated[
                list[str],
                Query(description=_FILTER_HELP.get(name, f"{name} is any of these (repeatable)")),
            ],
        )
        for name in FILTER_FIELDS
    ]
)
FiltersDep = Annotated[dict[str, list[str]], Depends(_filters)]


def search_params(
    filters: FiltersDep,
    q: Annotated[
        str,
        Query(
            max_length=1000,
            description='simple_query_string syntax: "exact phrase", -exclude, a | b, prefix*',
        ),
    ] = "",
    published_after: datetime | None = None,
    published_before: datetime | None = None,
    time_zone: Annotated[
        str, Query(max_length=64, description="of the date histogram: Europe/Paris, +01:00")
    ] = "UTC",
) -> SearchParams:
    """What to search, shared by every route that counts or lists matching documents."""
    try:
        check_time_zone(time_zone)
    except BadQuery as exc:
        raise HTTPException(400, str(exc)) from exc
    return SearchParams(
        q=q,
        filters=filters,
        published_after=published_after,
        published_before=published_before,
        time_zone=time_zone,
    )


SearchParamsDep = Annotated[SearchParams, Depends(search_params)]
SortParam = Annotated[Sort, Query(description="ties broken by document id")]


class Problem(BaseModel):
    """Why a request failed."""

    detail: Any


def problem(description: str) -> dict[str, Any]:
    return {"model": Problem, "description": description}


Responses = dict[int | str, dict[str, Any]]
BAD_REQUEST: Responses = {400: problem("bad parameters (the reason is in `detail`)")}
NOT_FOUND: Responses = {404: problem("no such document")}
UNAVAILABLE: Responses = {503: problem("Elasticsearch is not reachable")}


def run_search(
    es: Elasticsearch, index: str | None, body: dict[str, Any], timeout: str = "10s"
) -> dict[str, Any]:
    """One search; a query Elasticsearch refuses is the client's 400, with its reason."""
    try:
        return es.search(index=index, body={**body, "timeout": timeout}).body
    except ApiError as exc:
        if exc.meta.status == 400:
            raise HTTPException(400, f"Elasticsearch refused the query: {exc}") from exc
        raise


def with_spellings(es: Elasticsearch, alias: str, params: SearchParams) -> SearchParams:
    """params with what q's words may have meant, looked up in the index."""
    body = build_spelling_request(params.q)
    if body is None:
        return replace(params, spellings={})
    return replace(params, spellings=parse_spellings(params.q, run_search(es, alias, body)))
