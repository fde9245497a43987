"""Turn search parameters into an Elasticsearch request, and its response into our answer."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

from search.mapping import FACET_FIELDS
from search.typos import (
    FUZZY_PREFIX_LENGTH,
    ONE_TYPO_FROM,
    TWO_TYPOS_FROM,
    Spellings,
    typo_tolerant,
)

# Facets, plus the cluster a near-duplicate belongs to (to expand a collapsed hit).
FILTER_FIELDS = (*FACET_FIELDS, "cluster_id")
MAX_WINDOW = 10_000  # Elasticsearch's default index.max_result_window
SEARCH_FIELDS = ("title^3", "body")
"""Analysed for the language (stemmed): "talks" finds "talk"."""
EXACT_FIELDS = ("title.exact^3", "body.exact")
"""The same text unstemmed: exact words, phrases and typo tolerance."""
Sort = Literal["relevance", "date_desc", "date_asc"]

# Exact above stemmed above fuzzy: a document matching exactly scores in all three clauses.
EXACT_BOOST = 2.0
STEMMED_BOOST = 1.0
FUZZY_BOOST = 0.5
# "Did you mean" is asked for when a query finds fewer hits than this.
SUGGEST_BELOW = 3
# A cursor's point in time lives this long after each page; a client idle longer starts over.
CURSOR_KEEP_ALIVE = "2m"
START_CURSOR = "*"
# The date histogram's interval: the finest calendar unit giving at most this many buckets.
MAX_HISTOGRAM_BUCKETS = 100
_INTERVALS = (
    ("minute", 60),
    ("hour", 3600),
    ("day", 86_400),
    ("week", 7 * 86_400),
    ("month", 2_629_746),  # a Gregorian year / 12
    ("quarter", 7_889_238),
    ("year", 31_556_952),
)
_TIME_ZONE_OFFSET = re.compile(r"^[+-](?:0\d|1[0-4]):[0-5]\d$")
_QUERY_SYNTAX = re.compile(r'[+|()"*~\\]')
# Characters Lucene's regular expressions give a meaning to.
_REGEX_SPECIAL = set('.?+*|{}[]()"\\#@&<>~^$')

HIGHLIGHT_MAX_OFFSET = 999_999
"""Characters of a field the highlighter reads, just under `index.highlight.max_analyzed_offset`."""


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
    time_zone: str = "UTC"
    """Of the date histogram's buckets."""
    facets: tuple[str, ...] = FACET_FIELDS
    """The facets to count (fewer cost less)."""
    spellings: Spellings | None = None
    """What q's words may have meant, from the index (search.typos); None: fuzzy queries."""


class BadQuery(ValueError):
    """The parameters cannot make a valid search; the message says why."""


@dataclass(frozen=True)
class Cursor:
    """Where a deep-paging client is: its point in time and the last hit's sort values."""

    pit_id: str
    search_after: list[Any]
    fingerprint: str
    spellings: Spellings = field(default_factory=dict)
    """Those of the first page, so every page ranks alike."""


def _terms(field_name: str, values: list[str]) -> dict[str, Any]:
    return {"terms": {field_name: values}}


def plain_words(q: str) -> str:
    """The words a person meant, without syntax or excluded words (for suggestions)."""
    kept = [w for w in q.split() if not w.startswith("-")]
    return " ".join(_QUERY_SYNTAX.sub(" ", " ".join(kept)).split())


def text_query(q: str, spellings: Spellings | None = None) -> dict[str, Any]:
    """Exact, stemmed and typo-tolerant clauses over the same simple_query_string."""

    def sqs(query: str, fields: tuple[str, ...], boost: float, **extra: Any) -> dict[str, Any]:
        return {
            "simple_query_string": {
                "query": query,
                "fields": list(fields),
                # All words must match; simple_query_string never fails on user syntax.
                "default_operator": "and",
                "boost": boost,
                **extra,
            }
        }

    # Phrases search the exact subfields in every clause, so "peace talks" stays exact.
    should = [
        sqs(q, EXACT_FIELDS, EXACT_BOOST),
        sqs(q, SEARCH_FIELDS, STEMMED_BOOST, quote_field_suffix=".exact"),
    ]
    fuzzy = typo_tolerant(q, spellings)
    if fuzzy != q:
        should.append(
            sqs(fuzzy, EXACT_FIELDS, FUZZY_BOOST, fuzzy_prefix_length=FUZZY_PREFIX_LENGTH)
        )
    return {"bool": {"should": should, "minimum_should_match": 1}}


def check_time_zone(time_zone: str) -> str:
    """An IANA zone name or a UTC offset like +01:00; BadQuery otherwise."""
    from zoneinfo import ZoneInfo

    if _TIME_ZONE_OFFSET.match(time_zone):
        return time_zone
    try:
        ZoneInfo(time_zone)
    except (ValueError, OSError, KeyError) as exc:
        raise BadQuery(f"unknown time_zone {time_zone!r}: use a name like Europe/Paris") from exc
    return time_zone


def _check(params: SearchParams) -> None:
    unknown = set(params.filters) - set(FILTER_FIELDS)
    if unknown:
        raise BadQuery(
            f"unknown filter field(s): {', '.join(sorted(unknown))}; "
            f"filters are {', '.join(FILTER_FIELDS)}"
        )
    if params.page < 1 or params.per_page < 1:
        raise BadQuery("page and per_page start at 1")
    unknown_facets = set(params.facets) - set(FACET_FIELDS)
    if unknown_facets:
        raise BadQuery(
            f"unknown facet(s): {', '.join(sorted(unknown_facets))}; "
            f"facets are {', '.join(FACET_FIELDS)}"
        )
    check_time_zone(params.time_zone)


def _selected(params: SearchParams) -> dict[str, list[str]]:
    return {f: v for f, v in params.filters.items() if v}


def base_query(params: SearchParams) -> dict[str, Any]:
    """The text and the date range, without facet selections."""
    must = [text_query(params.q, params.spellings)] if params.q.strip() else []
    date_range: dict[str, str] = {}
    if params.published_after:
        date_range["gte"] = params.published_after.isoformat()
    if params.published_before:
        date_range["lte"] = params.published_before.isoformat()
    query_filter = [{"range": {"published": date_range}}] if date_range else []
    return {"bool": {"must": must or [{"match_all": {}}], "filter": query_filter}}


def build_search(
    params: SearchParams, *, pit_id: str | None = None, search_after: list[Any] | None = None
) -> dict[str, Any]:
    """The request body: query, post_filter for facet selections, facet aggregations.

    With a point in time (cursor paging) the page follows `search_after` instead of `from`,
    every copy is listed (collapsing cannot follow a cursor), and facets come with the first
    page only.
    """
    _check(params)
    start = (params.page - 1) * params.per_page
    if pit_id is None and start + params.per_page > MAX_WINDOW:
        raise BadQuery(f"page * per_page may not exceed {MAX_WINDOW}; use cursor=* to go deeper")
    if pit_id is not None and params.per_page > MAX_WINDOW:
        raise BadQuery(f"per_page may not exceed {MAX_WINDOW}")

    selected = _selected(params)
    # Multi-select facets: selections filter the hits (post_filter), and each facet's counts
    # are filtered by every selection except its own.
    aggs: dict[str, Any] = {}
    for facet in params.facets:
        others = [_terms(f, v) for f, v in selected.items() if f != facet]
        aggs[facet] = {
            "filter": {"bool": {"filter": others}},
            "aggs": {"values": {"terms": {"field": facet, "size": params.facet_size}}},
        }
    # The date histogram's interval comes from the range of what matched (a second request).
    aggs["published_range"] = {
        "filter": {"bool": {"filter": [_terms(f, v) for f, v in selected.items()]}},
        "aggs": {"min": {"min": {"field": "published"}}, "max": {"max": {"field": "published"}}},
    }

    sort: list[Any]
    if params.sort == "date_desc":
        sort = [{"published": "desc"}, {"doc_id": "asc"}]
    elif params.sort == "date_asc":
        sort = [{"published": "asc"}, {"doc_id": "asc"}]
    else:
        sort = ["_score", {"published": "desc"}, {"doc_id": "asc"}]

    body: dict[str, Any] = {
        "query": base_query(params),
        "from": start,
        "size": params.per_page,
        "sort": sort,
        "track_total_hits": MAX_WINDOW,
        "aggs": aggs,
        "_source": {"excludes": ["body", "cleaning"]},
        "highlight": {
            "encoder": "html",  # escapes the document's own markup around the tags
            # A body longer than the index's highlight limit (1,000,000 characters) would fail
            # every search that matches it: such a body is highlighted in its first part only.
            "max_analyzed_offset": HIGHLIGHT_MAX_OFFSET,
            "pre_tags": [params.pre_tag],
            "post_tags": [params.post_tag],
            "fields": {
                # Words matched through the exact subfields are marked in the text too.
                "title": {"number_of_fragments": 0, "matched_fields": ["title", "title.exact"]},
                "body": {
                    "fragment_size": params.fragment_size,
                    "number_of_fragments": 3,
                    "no_match_size": params.fragment_size,
                    "matched_fields": ["body", "body.exact"],
                },
            },
        },
    }
    if pit_id is not None:
        del body["from"]
        body["pit"] = {"id": pit_id, "keep_alive": CURSOR_KEEP_ALIVE}
        if search_after is not None:
            body["search_after"] = search_after
            del body["aggs"]
    elif params.collapse:
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
    aggregations = response.get("aggregations", {})
    facets: dict[str, list[dict[str, Any]]] = {}
    for facet in params.facets if aggregations else ():
        chosen = set(params.filters.get(facet, []))
        buckets = aggregations[facet]["values"]["buckets"]
        values = [
            {"value": b["key"], "count": b["doc_count"], "selected": b["key"] in chosen}
            for b in buckets
        ]
        # A selected value stays visible even when it has no hits under the other filters.
        for value in sorted(chosen - {v["value"] for v in values}):
            values.append({"value": value, "count": 0, "selected": True})
        facets[facet] = values
    total = response["hits"]["total"]
    clusters = aggregations.get("clusters")
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


# --- deep paging ------------------------------------------------------------------------------


def fingerprint(params: SearchParams) -> str:
    """What a cursor's pages must share: everything but the page number."""
    shown = asdict(params)
    shown.pop("page")
    shown.pop("spellings")
    shown["filters"] = {f: sorted(v) for f, v in sorted(params.filters.items()) if v}
    return hashlib.sha256(json.dumps(shown, sort_keys=True, default=str).encode()).hexdigest()[:16]


def encode_cursor(cursor: Cursor) -> str:
    raw = json.dumps([cursor.pit_id, cursor.search_after, cursor.fingerprint, cursor.spellings])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(token: str, params: SearchParams) -> Cursor:
    """The cursor a client sent back; BadQuery when it is not one or belongs to another query."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        pit_id, search_after, print_, spellings = json.loads(raw)
        spellings = {str(w): tuple(str(s) for s in alts) for w, alts in spellings.items()}
    except (binascii.Error, ValueError, TypeError, AttributeError) as exc:
        raise BadQuery("cursor is not one this API gave out; start again with cursor=*") from exc
    if not (isinstance(pit_id, str) and isinstance(search_after, list)):
        raise BadQuery("cursor is not one this API gave out; start again with cursor=*")
    if print_ != fingerprint(params):
        raise BadQuery(
            "cursor belongs to another query: send the same parameters as for its first page"
        )
    return Cursor(pit_id, search_after, print_, spellings)


def next_cursor(response: dict[str, Any], params: SearchParams) -> str | None:
    """The cursor of the page after this one, or None when this page was the last."""
    hits = response["hits"]["hits"]
    if len(hits) < params.per_page:
        return None
    return encode_cursor(
        Cursor(response["pit_id"], hits[-1]["sort"], fingerprint(params), params.spellings or {})
    )


# --- date histogram ---------------------------------------------------------------------------


def histogram_interval(first_ms: float, last_ms: float) -> str:
    """The finest calendar interval that spans the range in at most MAX_HISTOGRAM_BUCKETS."""
    span = max(last_ms - first_ms, 0) / 1000
    for name, seconds in _INTERVALS:
        if span / seconds < MAX_HISTOGRAM_BUCKETS:
            return name
    return _INTERVALS[-1][0]


def published_range(response: dict[str, Any]) -> tuple[float, float] | None:
    """The first and last `published` of the matched documents, in epoch milliseconds."""
    found = response.get("aggregations", {}).get("published_range")
    if not found or found["min"]["value"] is None:
        return None
    return found["min"]["value"], found["max"]["value"]


def build_histogram(params: SearchParams, first_ms: float, last_ms: float) -> dict[str, Any]:
    """A size-0 request: matched documents (selections applied) per calendar interval."""
    interval = histogram_interval(first_ms, last_ms)
    query = base_query(params)
    query["bool"]["filter"] += [_terms(f, v) for f, v in _selected(params).items()]
    return {
        "size": 0,
        "track_total_hits": False,
        "query": query,
        "aggs": {
            "published": {
                "date_histogram": {
                    "field": "published",
                    "calendar_interval": interval,
                    "time_zone": params.time_zone,
                    "min_doc_count": 0,
                    "extended_bounds": {"min": int(first_ms), "max": int(last_ms)},
                    "format": "strict_date_optional_time",
                }
            }
        },
    }


def parse_histogram(
    response: dict[str, Any], params: SearchParams, interval: str
) -> dict[str, Any]:
    agg = response["aggregations"]["published"]
    return {
        "field": "published",
        "interval": interval,
        "time_zone": params.time_zone,
        "buckets": [{"key": b["key_as_string"], "count": b["doc_count"]} for b in agg["buckets"]],
    }


# --- did you mean -----------------------------------------------------------------------------


def build_suggest(q: str, params: SearchParams) -> dict[str, Any] | None:
    """A phrase suggester over word shingles of the bodies; None when q has no words."""
    text = plain_words(q)
    if not text:
        return None
    return {
        "size": 0,
        "track_total_hits": False,
        "suggest": {
            "did_you_mean": {
                "text": text.lower(),
                "phrase": {
                    "field": "body.shingles",
                    "size": 1,
                    "gram_size": 2,
                    "max_errors": 2,
                    "direct_generator": [
                        {"field": "body.shingles", "suggest_mode": "always", "min_word_length": 3}
                    ],
                    "highlight": {"pre_tag": params.pre_tag, "post_tag": params.post_tag},
                },
            }
        },
    }


def parse_suggest(response: dict[str, Any]) -> dict[str, str] | None:
    """The best suggestion with its changed words marked, or None."""
    for entry in response.get("suggest", {}).get("did_you_mean", []):
        for option in entry["options"]:
            return {"text": option["text"], "highlighted": option["highlighted"]}
    return None


# --- autocomplete and facet values ------------------------------------------------------------


def build_autocomplete(q: str, size: int, params: SearchParams) -> dict[str, Any]:
    """Titles that start like q, word by word (the last word a prefix), typo-tolerant."""

    def prefix(field_name: str, boost: float, **extra: Any) -> dict[str, Any]:
        return {
            "match_bool_prefix": {
                field_name: {"query": q, "operator": "and", "boost": boost, **extra}
            }
        }

    return {
        "size": size,
        "track_total_hits": False,
        "query": {
            "bool": {
                "should": [
                    # A title that starts with what was typed comes first.
                    {"match_phrase_prefix": {"title.exact": {"query": q, "boost": 3.0}}},
                    prefix("title.exact", EXACT_BOOST),
                    prefix("title", STEMMED_BOOST),
                    prefix(
                        "title.exact",
                        FUZZY_BOOST,
                        fuzziness=f"AUTO:{ONE_TYPO_FROM},{TWO_TYPOS_FROM}",
                        prefix_length=FUZZY_PREFIX_LENGTH,
                    ),
                ],
                "minimum_should_match": 1,
            }
        },
        "sort": ["_score", {"published": "desc"}, {"doc_id": "asc"}],
        # One suggestion per title: copies of a story share it.
        "collapse": {"field": "title.keyword"},
        "_source": ["title", "published", "site"],
        "highlight": {
            "encoder": "html",
            "pre_tags": [params.pre_tag],
            "post_tags": [params.post_tag],
            "fields": {
                "title": {"number_of_fragments": 0, "matched_fields": ["title", "title.exact"]}
            },
        },
    }


def parse_autocomplete(response: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for hit in response["hits"]["hits"]:
        source = hit["_source"]
        marked = hit.get("highlight", {}).get("title")
        out.append(
            {
                "id": hit["_id"],
                "title": source.get("title"),
                "highlighted": marked[0] if marked else None,
                "published": source.get("published"),
                "site": source.get("site"),
            }
        )
    return out


def case_insensitive_prefix(prefix: str) -> str:
    """A Lucene regular expression for terms with a word that starts with prefix, in any case."""
    out = []
    for char in prefix:
        lower, upper = char.lower(), char.upper()
        if lower != upper and len(lower) == len(upper) == 1:
            out.append(f"[{lower}{upper}]")
        elif char in _REGEX_SPECIAL:
            out.append("\\" + char)
        else:
            out.append(char)
    # At the start of the value or of any word in it: "erd" finds "Recep Tayyip Erdoğan".
    return "(.*[ \\-])?" + "".join(out) + ".*"


def build_facet_values(facet: str, prefix: str, size: int, params: SearchParams) -> dict[str, Any]:
    """A facet's values that start with prefix (any case), counted within the current search.

    Like the facets of a search, the counts ignore the facet's own selection.
    """
    _check(params)
    if facet not in FACET_FIELDS:
        raise BadQuery(f"unknown facet {facet!r}; facets are {', '.join(FACET_FIELDS)}")
    query = base_query(params)
    query["bool"]["filter"] += [_terms(f, v) for f, v in _selected(params).items() if f != facet]
    terms: dict[str, Any] = {"field": facet, "size": size}
    if prefix:
        # Matched against the facet's distinct values once, not per document.
        terms["include"] = case_insensitive_prefix(prefix)
    return {
        "size": 0,
        "track_total_hits": False,
        "query": query,
        "aggs": {"values": {"terms": terms}},
    }


def parse_facet_values(
    response: dict[str, Any], facet: str, params: SearchParams
) -> list[dict[str, Any]]:
    chosen = set(params.filters.get(facet, []))
    return [
        {"value": b["key"], "count": b["doc_count"], "selected": b["key"] in chosen}
        for b in response["aggregations"]["values"]["buckets"]
    ]
