"""Typo tolerance, ranking, phrases, suggestions, type-ahead, cursors and the date histogram,
through the HTTP API against the real Elasticsearch."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from search.api import create_app
from search.index import drop_all
from search.query import SearchParams, decode_cursor
from tests.search.support import index_documents
from worker.settings import Settings

pytestmark = pytest.mark.integration

DOCS: list[dict[str, Any]] = [
    {
        "doc_id": "talks",
        "title": "Peace talks resume in Istanbul",
        "body": "Delegations held peace talks in Istanbul. Zelenskyy spoke of the Zaporizhzhia "
        "plant.",
        "published": "2025-01-31T23:30:00Z",
        "people": ["Volodymyr Zelenskyy", "Recep Tayyip Erdoğan"],
        "site": "example.org",
    },
    {
        "doc_id": "tasks",
        "title": "Volunteers share the tasks",
        "body": "The tasks of the volunteers were shared out at the river bank.",
        "published": "2025-03-15T12:00:00Z",
        "people": ["Valentina Matviyenko"],
    },
    {
        "doc_id": "hospital",
        "title": "A new hospital opens",
        "body": "The hospital opened its doors to the first patients in the lighthouse town.",
        "published": "2025-02-01T00:30:00Z",
        "people": ["Vladimir Putin"],
    },
    {
        "doc_id": "talk",
        "title": "One peace talk, then silence",
        "body": "After one peace talk nothing happened in the lighthouse town.",
        "published": "2025-03-20T08:00:00Z",
    },
]
# Documents only there to be paged through.
FILLER = [
    {
        "doc_id": f"filler{i:02d}",
        "title": f"Weather report number {i}",
        "body": "Sunny weather with a light breeze over the harbour.",
        "published": f"2024-06-{i + 1:02d}T10:00:00Z",
    }
    for i in range(23)
]


@pytest.fixture(scope="module")
def client(settings: Settings, es: Elasticsearch) -> Iterator[TestClient]:
    alias = f"{settings.alias}-features"
    index_documents(es, alias, DOCS + FILLER)
    with TestClient(create_app(es, alias, max_per_page=50)) as test_client:
        yield test_client
    drop_all(es, alias)


def ids(client: TestClient, q: str, **params: Any) -> list[str]:
    response = client.get("/api/search", params={"q": q, "collapse": False, **params})
    assert response.status_code == 200, response.text
    return [h["id"] for h in response.json()["hits"]]


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("Istanbul", ["talks"]),
        ("Istanbol", ["talks"]),  # 8 letters, one typo
        ("hospitel", ["hospital"]),  # 8 letters, one typo
        ("Zaporizhia", ["talks"]),  # 10 letters, two typos
        ("Zelensky", ["talks"]),  # 8 letters, one typo
        ("bonk", []),  # 4 letters: no typo allowed ("bank")
        ("hozpitel", []),  # 8 letters: two typos are one too many
        ("Hospital", ["hospital"]),
        ("jospital", []),  # the first letter is never a typo
        ("Zaporuzzzzia", []),  # 12 letters, three typos
    ],
)
def test_typo_tolerance_scales_with_word_length(
    client: TestClient, q: str, found: list[str]
) -> None:
    assert ids(client, q) == found


def test_exact_ranks_above_fuzzy(client: TestClient) -> None:
    # "talks" is one letter away from "tasks": both match, the exact one first.
    talks = ids(client, "talks")
    assert talks[0] == "talks"
    assert set(talks) == {"talks", "tasks", "talk"}  # "talk": one letter away, and a stem
    tasks = ids(client, "tasks")
    assert tasks[0] == "tasks"
    assert set(tasks) == {"tasks", "talks"}


def test_phrases_are_exact_and_exclusions_work(client: TestClient) -> None:
    assert ids(client, '"peace talks"') == ["talks"]
    assert ids(client, '"peace talk"') == ["talk"]
    assert ids(client, '"talks peace"') == []
    assert ids(client, "lighthouse -hospital") == ["talk"]
    assert ids(client, "Istanbol -Zelenskyy") == []
    assert set(ids(client, "hospital | Istanbul")) == {"hospital", "talks"}


def test_bad_syntax_never_errors(client: TestClient) -> None:
    for q in ['"unclosed (AND -', "title:(", "a OR OR", "\\", "*?~^", "~~2 talks~x", '"" ()']:
        assert client.get("/api/search", params={"q": q}).status_code == 200, q


def test_did_you_mean_when_few_hits(client: TestClient) -> None:
    result = client.get("/api/search", params={"q": "peace tlks"}).json()
    assert result["total"]["value"] == 0
    assert result["did_you_mean"]["text"] == "peace talks"
    assert "<mark>" in result["did_you_mean"]["highlighted"]
    assert result["did_you_mean"]["total"] >= 1
    # A query that finds what it asks for gets no suggestion.
    assert client.get("/api/search", params={"q": "weather"}).json()["did_you_mean"] is None


def test_autocomplete_titles_as_people_type(client: TestClient) -> None:
    for typed in ("peace ta", "Peace talks re", "pea"):
        result = client.get("/api/autocomplete", params={"q": typed}).json()
        titles = [s["title"] for s in result["suggestions"]]
        assert "Peace talks resume in Istanbul" in titles, typed
    first = client.get("/api/autocomplete", params={"q": "peace talks r"}).json()["suggestions"][0]
    assert first["title"] == "Peace talks resume in Istanbul"
    assert "<mark>" in first["highlighted"]
    nothing = client.get("/api/autocomplete", params={"q": "xyzzy"}).json()
    assert nothing["suggestions"] == []
    assert client.get("/api/autocomplete").status_code == 400


def test_cursor_pages_through_every_hit_once(client: TestClient) -> None:
    for sort in ("relevance", "date_desc", "date_asc"):
        params: dict[str, Any] = {"q": "weather", "per_page": 4, "sort": sort, "cursor": "*"}
        seen: list[str] = []
        pages = 0
        while True:
            result = client.get("/api/search", params=params).json()
            pages += 1
            seen += [h["id"] for h in result["hits"]]
            if result["next_cursor"] is None:
                break
            params["cursor"] = result["next_cursor"]
        assert len(seen) == len(set(seen)) == len(FILLER), sort
        assert set(seen) == {d["doc_id"] for d in FILLER}
        assert pages == 6  # 23 hits, 4 a page
    by_date = []
    params = {"q": "weather", "per_page": 10, "sort": "date_asc", "cursor": "*"}
    while params["cursor"]:
        result = client.get("/api/search", params=params).json()
        by_date += [h["published"] for h in result["hits"]]
        params["cursor"] = result["next_cursor"]
    assert by_date == sorted(by_date)


def test_bad_stale_or_foreign_cursor_is_a_400(client: TestClient, es: Elasticsearch) -> None:
    for cursor in ("not-a-cursor", "e30", "W10", "%%%"):
        response = client.get("/api/search", params={"q": "weather", "cursor": cursor})
        assert response.status_code == 400, cursor
        assert "cursor" in response.json()["detail"]
    first = client.get("/api/search", params={"q": "weather", "per_page": 4, "cursor": "*"}).json()
    cursor = first["next_cursor"]
    other_query = client.get(
        "/api/search", params={"q": "harbour", "per_page": 4, "cursor": cursor}
    )
    assert other_query.status_code == 400
    assert "another query" in other_query.json()["detail"]
    paged = client.get("/api/search", params={"q": "weather", "cursor": "*", "page": 2})
    assert paged.status_code == 400
    # A cursor whose point in time is gone (expired) asks the client to start again.
    es.close_point_in_time(id=decode_cursor(cursor, SearchParams(q="weather", per_page=4)).pit_id)
    stale = client.get("/api/search", params={"q": "weather", "per_page": 4, "cursor": cursor})
    assert stale.status_code == 400
    assert "expired" in stale.json()["detail"]


def test_date_histogram_buckets_in_the_time_zone(client: TestClient) -> None:
    # 2025-01-31T23:30Z and 2025-02-01T00:30Z: two UTC days, one day in Paris (UTC+1).
    def buckets(time_zone: str) -> dict[str, int]:
        result = client.get(
            "/api/search",
            params={"q": "Istanbul | hospital", "time_zone": time_zone},
        ).json()
        histogram = result["histogram"]
        assert histogram["interval"] == "minute"  # an hour apart: 60 buckets
        assert histogram["time_zone"] == time_zone
        counts: dict[str, int] = {}
        for bucket in histogram["buckets"]:
            day = bucket["key"][:10]
            counts[day] = counts.get(day, 0) + bucket["count"]
        return counts

    assert buckets("UTC") == {"2025-01-31": 1, "2025-02-01": 1}
    assert buckets("Europe/Paris") == {"2025-02-01": 2}
    wide = client.get("/api/search", params={"q": "lighthouse | Istanbul"}).json()["histogram"]
    assert wide["interval"] == "day"
    assert sum(b["count"] for b in wide["buckets"]) == 3
    assert len(wide["buckets"]) == 49  # every day from 31 January to 20 March, empty ones too
    everything = client.get("/api/search").json()["histogram"]
    assert everything["interval"] == "week"
    assert client.get("/api/search", params={"time_zone": "Mars/Olympus"}).status_code == 400


def test_facet_type_ahead_is_case_insensitive(client: TestClient) -> None:
    def values(prefix: str, **params: Any) -> list[str]:
        response = client.get("/api/facets/people", params={"prefix": prefix, **params})
        assert response.status_code == 200, response.text
        return [v["value"] for v in response.json()["values"]]

    assert set(values("v")) == {"Volodymyr Zelenskyy", "Valentina Matviyenko", "Vladimir Putin"}
    assert values("VOL") == ["Volodymyr Zelenskyy"]
    assert values("erd") == ["Recep Tayyip Erdoğan"]
    assert values("ERDOĞ") == ["Recep Tayyip Erdoğan"]
    assert values("x") == []
    # Counted within the search: only people of documents about the hospital.
    assert values("v", q="hospital") == ["Vladimir Putin"]
    assert client.get("/api/facets/nonsense", params={"prefix": "a"}).status_code == 404


def test_only_the_facets_asked_for_are_counted(client: TestClient) -> None:
    result = client.get("/api/search", params={"facets": ["people", "site"]}).json()
    assert set(result["facets"]) == {"people", "site"}
    assert set(client.get("/api/search").json()["facets"]) >= {"people", "site", "language"}
    assert client.get("/api/search", params={"facets": ["nope"]}).status_code == 400
