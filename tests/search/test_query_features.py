"""Unit tests for typo tolerance, cursors, histogram intervals and facet prefixes."""

from __future__ import annotations

import re

import pytest

from search.query import (
    BadQuery,
    Cursor,
    SearchParams,
    build_search,
    case_insensitive_prefix,
    decode_cursor,
    encode_cursor,
    fingerprint,
    histogram_interval,
    next_cursor,
    plain_words,
    text_query,
)
from search.typos import (
    MAX_TYPO_WORDS,
    build_spelling_request,
    parse_spellings,
    typo_tolerant,
    typo_words,
    typos_allowed,
)

DAY_MS = 86_400_000


@pytest.mark.parametrize(
    ("word", "typos"),
    [("talk", 0), ("a", 0), ("talks", 1), ("Zelensky", 1), ("Zaporizhia", 2), ("negotiation", 2)],
)
def test_typos_allowed_by_length(word: str, typos: int) -> None:
    assert typos_allowed(word) == typos


@pytest.mark.parametrize(
    ("q", "fuzzy"),
    [
        ("talks", "talks~1"),
        ("war talks Zaporizhia", "war talks~1 Zaporizhia~2"),
        ('"peace talks" Istanbol', '"peace talks" Istanbol~1'),  # phrases stay exact
        ("Istanbul -Kharkiv", "Istanbul~1 -Kharkiv"),  # so do exclusions
        ("negot* 2024 covid19", "negot* 2024 covid19"),  # prefixes and words with digits
        ("(talks | tasks)", "(talks~1 | tasks~1)"),
        ("+talks", "+talks~1"),
        ('"unclosed talks', '"unclosed talks'),
        ("talks~2", "talks~2"),
        ("O'Brien", "O'Brien"),
        ("", ""),
    ],
)
def test_typo_tolerant_rewrites_only_plain_words(q: str, fuzzy: str) -> None:
    assert typo_tolerant(q) == fuzzy


def test_spellings_from_the_index_replace_fuzzy_syntax() -> None:
    spellings = {"istanbol": ("istanbul", "istanbol"), "talks": ("talk", "tasks"), "zzzzz": ()}
    assert typo_tolerant('Istanbol "peace talks" talks -tasks zzzzz', spellings) == (
        '(Istanbol | istanbul) "peace talks" (talks | talk | tasks) -tasks zzzzz'
    )
    assert typo_tolerant("jupyter", {"jupyter": ("jupiter's",)}) == '(jupyter | "jupiter\'s")'
    assert typo_tolerant("talks", {}) == "talks"  # nothing like it in the index


def test_typo_words_are_bounded() -> None:
    q = " ".join(f"word{'x' * i}" for i in range(MAX_TYPO_WORDS + 3))
    assert len(typo_words(q)) == MAX_TYPO_WORDS
    assert typo_words('talk "peace talks" Zaporizhia -Kharkiv') == [("Zaporizhia", 2)]


def test_spelling_request_and_answer() -> None:
    body = build_spelling_request("Istanbol talk Zaporizhia")
    assert body is not None
    assert set(body["suggest"]) == {
        "0:title.exact",
        "0:body.exact",
        "1:title.exact",
        "1:body.exact",
    }
    term = body["suggest"]["1:body.exact"]["term"]
    assert (term["max_edits"], term["prefix_length"]) == (2, 1)
    assert build_spelling_request('talk "peace talks"') is None
    response = {
        "suggest": {
            "0:title.exact": [{"options": [{"text": "istanbul", "score": 0.8}]}],
            "0:body.exact": [
                {
                    "options": [
                        {"text": "istanbul", "score": 0.9},
                        {"text": "istanbel", "score": 0.7},
                    ]
                }
            ],
            "1:title.exact": [{"options": []}],
            "1:body.exact": [{"options": [{"text": "zaporizhzhia", "score": 0.8}]}],
        }
    }
    assert parse_spellings("Istanbol talk Zaporizhia", response) == {
        "istanbol": ("istanbul", "istanbel"),
        "zaporizhia": ("zaporizhzhia",),
    }


def test_text_query_ranks_exact_over_stemmed_over_fuzzy() -> None:
    should = text_query("war talks")["bool"]["should"]
    exact, stemmed, fuzzy = (c["simple_query_string"] for c in should)
    assert exact["fields"] == ["title.exact^3", "body.exact"]
    assert stemmed["fields"] == ["title^3", "body"]
    assert stemmed["quote_field_suffix"] == ".exact"  # phrases are exact
    assert fuzzy["fields"] == ["title.exact^3", "body.exact"]
    assert fuzzy["query"] == "war talks~1"
    assert fuzzy["fuzzy_prefix_length"] == 1
    assert exact["boost"] > stemmed["boost"] > fuzzy["boost"]
    assert all(c["default_operator"] == "and" for c in (exact, stemmed, fuzzy))
    # Nothing to be fuzzy about: no third clause.
    assert len(text_query("talk")["bool"]["should"]) == 2


def test_plain_words_drop_syntax_and_exclusions() -> None:
    assert plain_words('"peace tlks" -Kharkiv (Istanbol | x*)') == "peace tlks Istanbol x"


def test_cursor_round_trip_and_checks() -> None:
    params = SearchParams(q="talks", filters={"language": ["en"], "site": []}, per_page=4)
    cursor = Cursor("pit==", [1.5, 1700000000000, "abc"], fingerprint(params), {"talks": ("talk",)})
    token = encode_cursor(cursor)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)  # safe in a URL as it is
    assert decode_cursor(token, params) == cursor
    # Empty filters and the page number do not make another query.
    same = SearchParams(
        q="talks", filters={"language": ["en"]}, per_page=4, page=3, spellings={"x": ()}
    )
    assert decode_cursor(token, same) == cursor
    with pytest.raises(BadQuery, match="another query"):
        decode_cursor(token, SearchParams(q="tasks", per_page=4))
    for bad in ("", "!!", "e30", "WzEsMiwzXQ", "WzEsMiwzLDRd"):
        with pytest.raises(BadQuery, match="cursor"):
            decode_cursor(bad, params)


def test_next_cursor_only_after_a_full_page() -> None:
    params = SearchParams(per_page=2)
    hits = [{"_id": "a", "sort": [1, "a"]}, {"_id": "b", "sort": [2, "b"]}]
    full = {"pit_id": "p2", "hits": {"hits": hits}}
    token = next_cursor(full, params)
    assert token is not None
    assert decode_cursor(token, params) == Cursor("p2", [2, "b"], fingerprint(params))
    assert next_cursor({"pit_id": "p2", "hits": {"hits": hits[:1]}}, params) is None


def test_cursor_pages_use_the_point_in_time_not_from() -> None:
    first = build_search(SearchParams(q="x", per_page=100), pit_id="p")
    assert first["pit"] == {"id": "p", "keep_alive": "2m"}
    assert "from" not in first and "collapse" not in first
    assert "language" in first["aggs"]  # facets with the first page
    later = build_search(SearchParams(q="x"), pit_id="p", search_after=[1, "a"])
    assert later["search_after"] == [1, "a"]
    assert "aggs" not in later
    assert later["sort"][-1] == {"doc_id": "asc"}
    # Deeper than page x per_page allows, which is what cursors are for.
    build_search(SearchParams(page=1, per_page=100), pit_id="p", search_after=[1])


@pytest.mark.parametrize(
    ("span_ms", "interval"),
    [
        (0, "minute"),
        (3_600_000, "minute"),
        (DAY_MS, "hour"),
        (30 * DAY_MS, "day"),
        (365 * DAY_MS, "week"),
        (7 * 365 * DAY_MS, "month"),
        (20 * 365 * DAY_MS, "quarter"),
        (300 * 365 * DAY_MS, "year"),
    ],
)
def test_histogram_interval_from_the_range(span_ms: int, interval: str) -> None:
    assert histogram_interval(1_600_000_000_000, 1_600_000_000_000 + span_ms) == interval


def test_time_zone_is_checked() -> None:
    build_search(SearchParams(time_zone="Europe/Paris"))
    build_search(SearchParams(time_zone="+05:30"))
    for bad in ("Mars/Olympus", "../etc/passwd", "+25:00", ""):
        with pytest.raises(BadQuery, match="time_zone"):
            build_search(SearchParams(time_zone=bad))


def test_case_insensitive_prefix_regex() -> None:
    assert case_insensitive_prefix("eR") == "(.*[ \\-])?[eE][rR].*"
    assert case_insensitive_prefix("a.b*") == "(.*[ \\-])?[aA]\\.[bB]\\*.*"
    assert case_insensitive_prefix("") == "(.*[ \\-])?.*"


def test_only_the_facets_asked_for_are_counted() -> None:
    body = build_search(SearchParams(facets=("site", "people")))
    assert set(body["aggs"]) == {"site", "people", "published_range", "clusters"}
    with pytest.raises(BadQuery, match="unknown facet"):
        build_search(SearchParams(facets=("nope",)))
