"""Unit tests for building search requests and shaping Elasticsearch responses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from search.mapping import FACET_FIELDS
from search.query import MAX_WINDOW, BadQuery, SearchParams, build_search, parse_response


def terms_in(clauses: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Field -> values of the terms clauses in a filter list."""
    out: dict[str, list[str]] = {}
    for clause in clauses:
        ((field_name, values),) = clause["terms"].items()
        out[field_name] = values
    return out


def test_q_uses_simple_query_string() -> None:
    body = build_search(SearchParams(q='budget "road repairs" -tax'))
    must = body["query"]["bool"]["must"]
    assert len(must) == 1
    # One of the ways q may match (exact, stemmed, typo-tolerant): the stemmed fields.
    (sqs,) = [
        c["simple_query_string"]
        for c in must[0]["bool"]["should"]
        if c["simple_query_string"]["fields"] == ["title^3", "body"]
    ]
    assert sqs["query"] == 'budget "road repairs" -tax'
    assert sqs["fields"] == ["title^3", "body"]


@pytest.mark.parametrize("q", ["", "   "])
def test_empty_q_is_match_all(q: str) -> None:
    body = build_search(SearchParams(q=q))
    assert body["query"]["bool"]["must"] == [{"match_all": {}}]


def test_no_selection_means_no_post_filter() -> None:
    body = build_search(SearchParams(q="x", filters={"language": []}))
    assert "post_filter" not in body
    for facet in FACET_FIELDS:
        assert body["aggs"][facet]["filter"]["bool"]["filter"] == []


def test_facet_selections_go_to_post_filter_not_query() -> None:
    params = SearchParams(q="budget", filters={"language": ["en", "de"], "format": ["txt"]})
    body = build_search(params)
    assert terms_in(body["post_filter"]["bool"]["filter"]) == {
        "language": ["en", "de"],
        "format": ["txt"],
    }
    assert body["query"]["bool"]["filter"] == []
    assert "terms" not in repr(body["query"])


def test_each_facet_agg_excludes_only_its_own_selection() -> None:
    params = SearchParams(filters={"language": ["en"], "format": ["txt"]})
    aggs = build_search(params)["aggs"]
    # clusters: hits are collapsed by default; published_range: the date histogram's interval
    assert set(aggs) == {*FACET_FIELDS, "clusters", "published_range"}
    assert terms_in(aggs["language"]["filter"]["bool"]["filter"]) == {"format": ["txt"]}
    assert terms_in(aggs["format"]["filter"]["bool"]["filter"]) == {"language": ["en"]}
    for facet in set(FACET_FIELDS) - {"language", "format"}:
        assert terms_in(aggs[facet]["filter"]["bool"]["filter"]) == {
            "language": ["en"],
            "format": ["txt"],
        }
        assert aggs[facet]["aggs"]["values"]["terms"]["field"] == facet


def test_date_range_goes_to_query_filter() -> None:
    after = datetime(2024, 1, 1, tzinfo=UTC)
    before = datetime(2024, 12, 31, tzinfo=UTC)
    body = build_search(SearchParams(published_after=after, published_before=before))
    assert body["query"]["bool"]["filter"] == [
        {"range": {"published": {"gte": after.isoformat(), "lte": before.isoformat()}}}
    ]


def test_unknown_filter_field_rejected() -> None:
    with pytest.raises(BadQuery, match="nope"):
        build_search(SearchParams(filters={"nope": ["x"]}))


def test_window_limit() -> None:
    body = build_search(SearchParams(page=MAX_WINDOW // 10, per_page=10))
    assert body["from"] == MAX_WINDOW - 10
    assert body["size"] == 10
    with pytest.raises(BadQuery):
        build_search(SearchParams(page=MAX_WINDOW // 10 + 1, per_page=10))
    with pytest.raises(BadQuery):
        build_search(SearchParams(page=1, per_page=MAX_WINDOW + 1))


@pytest.mark.parametrize(("page", "per_page"), [(0, 10), (1, 0), (-1, 10)])
def test_page_and_per_page_start_at_one(page: int, per_page: int) -> None:
    with pytest.raises(BadQuery):
        build_search(SearchParams(page=page, per_page=per_page))


def test_from_is_offset_of_page() -> None:
    body = build_search(SearchParams(page=3, per_page=20))
    assert body["from"] == 40
    assert body["size"] == 20


@pytest.mark.parametrize("sort", ["relevance", "date_desc", "date_asc"])
def test_sort_has_doc_id_tiebreaker(sort: str) -> None:
    order = build_search(SearchParams(sort=sort))["sort"]  # type: ignore[arg-type]
    assert order[-1] == {"doc_id": "asc"}


def test_sort_options() -> None:
    assert build_search(SearchParams(sort="relevance"))["sort"][0] == "_score"
    assert build_search(SearchParams(sort="date_desc"))["sort"][0] == {"published": "desc"}
    assert build_search(SearchParams(sort="date_asc"))["sort"][0] == {"published": "asc"}


def test_highlight_is_html_encoded_with_tags() -> None:
    highlight = build_search(SearchParams(pre_tag="<b>", post_tag="</b>"))["highlight"]
    assert highlight["encoder"] == "html"
    assert highlight["pre_tags"] == ["<b>"]
    assert highlight["post_tags"] == ["</b>"]
    assert set(highlight["fields"]) == {"title", "body"}


def es_response() -> dict[str, Any]:
    aggregations: dict[str, Any] = {f: {"values": {"buckets": []}} for f in FACET_FIELDS}
    aggregations["language"]["values"]["buckets"] = [
        {"key": "en", "doc_count": 7},
        {"key": "de", "doc_count": 2},
    ]
    aggregations["format"]["values"]["buckets"] = [{"key": "txt", "doc_count": 9}]
    return {
        "took": 12,
        "timed_out": False,
        "hits": {
            "total": {"value": 10000, "relation": "gte"},
            "max_score": 3.5,
            "hits": [
                {
                    "_index": "dropsift-docs-v1",
                    "_id": "abc123",
                    "_score": 3.5,
                    "_source": {"doc_id": "abc123", "title": "Budget", "language": "en"},
                    "highlight": {"body": ["the <mark>budget</mark> passed"]},
                },
                {
                    "_index": "dropsift-docs-v1",
                    "_id": "def456",
                    "_score": None,
                    "_source": {"doc_id": "def456", "title": "Roads", "language": "de"},
                },
            ],
        },
        "aggregations": aggregations,
    }


def test_parse_response() -> None:
    params = SearchParams(
        q="budget", filters={"language": ["en", "fr"], "format": []}, page=2, per_page=5
    )
    result = parse_response(es_response(), params)

    assert result["total"] == {"value": 10000, "relation": "gte"}
    assert result["took_ms"] == 12
    assert result["page"] == 2
    assert result["per_page"] == 5
    assert result["filters"] == {"language": ["en", "fr"]}

    first, second = result["hits"]
    assert first["id"] == "abc123"
    assert first["score"] == 3.5
    assert first["title"] == "Budget"
    assert first["highlight"] == {"body": ["the <mark>budget</mark> passed"]}
    assert second["id"] == "def456"
    assert second["highlight"] == {}

    assert result["facets"]["language"] == [
        {"value": "en", "count": 7, "selected": True},
        {"value": "de", "count": 2, "selected": False},
        {"value": "fr", "count": 0, "selected": True},
    ]
    assert result["facets"]["format"] == [{"value": "txt", "count": 9, "selected": False}]
    assert result["facets"]["author"] == []
    assert set(result["facets"]) == set(FACET_FIELDS)


def test_parse_response_eq_relation() -> None:
    response = es_response()
    response["hits"]["total"] = {"value": 2, "relation": "eq"}
    result = parse_response(response, SearchParams())
    assert result["total"] == {"value": 2, "relation": "eq"}
    assert all(not v["selected"] for values in result["facets"].values() for v in values)


def test_collapse_by_cluster_is_the_default_and_can_be_turned_off() -> None:
    collapsed = build_search(SearchParams(q="x"))
    assert collapsed["collapse"]["field"] == "cluster_id"
    assert collapsed["aggs"]["clusters"] == {"cardinality": {"field": "cluster_id"}}
    expanded = build_search(SearchParams(q="x", collapse=False, filters={"cluster_id": ["c"]}))
    assert "collapse" not in expanded and "clusters" not in expanded["aggs"]
    assert expanded["post_filter"] == {"bool": {"filter": [{"terms": {"cluster_id": ["c"]}}]}}
