"""Turn search parameters into an Elasticsearch request, and its response into our answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from search.mapping import FACET_FIELDS

# Facets, plus the cluster a near-duplicate belongs to (to expand a collapsed hit).
FILTER_FIELDS = (*FACET_FIELDS, "cluster_id")
MAX_WINDOW = 10_000  # Elasticsearch's default index.max_result_window
SEARCH_FIELDS = ("title^3", "body")
Sort = Literal["relevance", "date_desc", "date_asc"]


@dataclass
class SearchParams:
    q: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    """Facet field -> selected values; a document matches any of a field's values."""
    published_after: datetime | None = None
    published_before: datetime | None = None
    page: int = 1
    per_page: int = 10
    sort: Sort = "relevance"
    facet_size: int = 10
    fragment_size: int = 160
    collapse: bool = True
    """One hit per near-duplicate cluster, with the cluster's size; False lists every copy."""
    pre_tag: str = "<mark>"
    post_tag: str = "</mark>"


class BadQuery(ValueError):
    """The parameters cannot make a valid search; the message says why."""


def _terms(field_name: str, values: list[str]) -> dict[str, Any]:
    return {"terms": {field_name: values}}


def build_search(params: SearchParams) -> dict[str, Any]:
    """The request body: query, post_filter for facet selections, facet aggregations."""
    unknown = set(params.filters) - set(FILTER_FIELDS)
    if unknown:
        raise BadQuery(
            f"unknown filter field(s): {', '.join(sorted(unknown))}; "
            f"filters are {', '.join(FILTER_FIELDS)}"
        )
    if params.page < 1 or params.per_page < 1:
        raise BadQuery("page and per_page start at 1")
    start = (params.page - 1) * params.per_page
    if start + params.per_page > MAX_WINDOW:
        raise BadQuery(f"page * per_page may not exceed {MAX_WINDOW}")

    must: list[dict[str, Any]] = []
    if params.q.strip():
        # simple_query_string never fails on user syntax: "phrases", -exclusions and OR work.
        must.append(
            {
                "simple_query_string": {
                    "query": params.q,
                    "fields": list(SEARCH_FIELDS),
                    "default_operator": "and",
                }
            }
        )
    date_range: dict[str, str] = {}
    if params.published_after:
        date_range["gte"] = params.published_after.isoformat()
    if params.published_before:
        date_range["lte"] = params.published_before.isoformat()
    query_filter = [{"range": {"published": date_range}}] if date_range else []
    query: dict[str, Any] = {"bool": {"must": must or [{"match_all": {}}], "filter": query_filter}}

    selected = {f: v for f, v in params.filters.items() if v}
    # Multi-select facets: selections filter the hits (post_filter), and each facet's counts
    # are filtered by every selection except its own.
    aggs: dict[str, Any] = {}
    for facet in FACET_FIELDS:
        others = [_terms(f, v) for f, v in selected.items() if f != facet]
        aggs[facet] = {
            "filter": {"bool": {"filter": others}},
            "aggs": {"values": {"terms": {"field": facet, "size": params.facet_size}}},
        }

    sort: list[Any]
    if params.sort == "date_desc":
        sort = [{"published": "desc"}, {"doc_id": "asc"}]
    elif params.sort == "date_asc":
        sort = [{"published": "asc"}, {"doc_id": "asc"}]
    else:
        sort = ["_score", {"published": "desc"}, {"doc_id": "asc"}]

    body: dict[str, Any] = {
        "query": query,
        "from": start,
        "size": params.per_page,
        "sort": sort,
        "track_total_hits": MAX_WINDOW,
        "aggs": aggs,
        "_source": {"excludes": ["body", "cleaning"]},
        "highlight": {
            "encoder": "html",  # escapes the document's own markup around the tags
            "pre_tags": [params.pre_tag],
            "post_tags": [params.post_tag],
            "fields": {
                "title": {"number_of_fragments": 0},
                "body": {
                    "fragment_size": params.fragment_size,
                    "number_of_fragments": 3,
                    "no_match_size": params.fragment_size,
                },
            },
        },
    }
    if params.collapse:
        # inner_hits with size 0 only counts each cluster's matching members.
        body["collapse"] = {
            "field": "cluster_id",
            "inner_hits": {"name": "cluster", "size": 0, "track_scores": False},
        }
        body["aggs"]["clusters"] = {"cardinality": {"field": "cluster_id"}}
    if selected:
        body["post_filter"] = {"bool": {"filter": [_terms(f, v) for f, v in selected.items()]}}
    return body


def parse_response(response: dict[str, Any], params: SearchParams) -> dict[str, Any]:
    """Hits with highlights, totals, and facet values flagged as selected."""
    hits = []
    for hit in response["hits"]["hits"]:
        source = hit["_source"]
        cluster = hit.get("inner_hits", {}).get("cluster")
        hits.append(
            {
                "id": hit["_id"],
                "score": hit.get("_score"),
                **source,
                "highlight": hit.get("highlight", {}),
                # Members of this hit's near-duplicate cluster that match (1: no copies).
                "cluster_size": cluster["hits"]["total"]["value"] if cluster else 1,
            }
        )
    facets: dict[str, list[dict[str, Any]]] = {}
    for facet in FACET_FIELDS:
        chosen = set(params.filters.get(facet, []))
        buckets = response["aggregations"][facet]["values"]["buckets"]
        values = [
            {"value": b["key"], "count": b["doc_count"], "selected": b["key"] in chosen}
            for b in buckets
        ]
        # A selected value stays visible even when it has no hits under the other filters.
        for value in sorted(chosen - {v["value"] for v in values}):
            values.append({"value": value, "count": 0, "selected": True})
        facets[facet] = values
    total = response["hits"]["total"]
    clusters = response["aggregations"].get("clusters")
    return {
        "total": {"value": total["value"], "relation": total["relation"]},
        # With collapsing, the hits are clusters: about this many (a cardinality estimate).
        "clusters": clusters["value"] if clusters else None,
        "took_ms": response["took"],
        "page": params.page,
        "per_page": params.per_page,
        "hits": hits,
        "facets": facets,
        "filters": {f: v for f, v in params.filters.items() if v},
    }
