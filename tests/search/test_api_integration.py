"""The HTTP search API against the real Elasticsearch, with the seeds indexed by the pipeline."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from search.api import create_app
from tests.support.index import index_seeds
from worker.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def indexed(settings: Settings, redis_client: redis.Redis, es: Elasticsearch) -> dict[str, str]:
    return index_seeds(settings, redis_client, es)


@pytest.fixture(scope="module")
def client(settings: Settings, es: Elasticsearch, indexed: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(es, settings.alias, max_per_page=50)) as test_client:
        yield test_client


def test_search_ranks_highlights_and_counts_facets(
    client: TestClient, indexed: dict[str, str]
) -> None:
    response = client.get("/api/search", params={"q": "Istanbul"})
    assert response.status_code == 200
    result = response.json()
    assert result["total"] == {"value": 2, "relation": "eq"}
    assert {h["id"] for h in result["hits"]} == set(indexed.values())
    fragments = " ".join(f for h in result["hits"] for f in h["highlight"].get("body", []))
    assert "<mark>Istanbul</mark>" in fragments
    assert {"value": "en", "count": 2, "selected": False} in result["facets"]["language"]
    assert "body" not in result["hits"][0]  # lists stay light; the body is one GET away
    assert response.headers["x-request-id"] == result["request_id"]


def test_phrase_and_exclusion_queries(client: TestClient, indexed: dict[str, str]) -> None:
    kharkiv = client.get("/api/search", params={"q": "Kharkiv"}).json()
    assert [h["id"] for h in kharkiv["hits"]] == [indexed["003"]]
    excluded = client.get("/api/search", params={"q": "Istanbul -Kharkiv"}).json()
    assert [h["id"] for h in excluded["hits"]] == [indexed["000"]]
    phrase = client.get("/api/search", params={"q": '"Ihor Terekhov"'}).json()
    assert [h["id"] for h in phrase["hits"]] == [indexed["003"]]


def test_facet_selection_filters_hits_but_not_its_own_counts(
    client: TestClient, indexed: dict[str, str]
) -> None:
    result = client.get("/api/search", params={"published_from": "text"}).json()
    assert [h["id"] for h in result["hits"]] == [indexed["003"]]
    counts = {v["value"]: (v["count"], v["selected"]) for v in result["facets"]["published_from"]}
    assert counts == {"text": (1, True), "ingested": (1, False)}
    # Other facets are counted within the selection.
    assert result["facets"]["section"] == [{"value": "World", "count": 1, "selected": False}]


def test_date_range_and_sort(client: TestClient, indexed: dict[str, str]) -> None:
    june = client.get(
        "/api/search",
        params={
            "published_after": "2025-06-01T00:00:00",
            "published_before": "2025-06-30T00:00:00",
        },
    ).json()
    assert [h["id"] for h in june["hits"]] == [indexed["003"]]
    newest_first = client.get("/api/search", params={"sort": "date_desc"}).json()
    assert newest_first["hits"][-1]["id"] == indexed["003"]  # 000 is dated at ingestion: now


def test_bad_requests_get_400_with_a_reason(client: TestClient) -> None:
    for params in (
        {"per_page": 51},
        {"page": 2000, "per_page": 10},
        {"page": 0},
        {"sort": "sideways"},
        {"published_after": "not a date"},
    ):
        response = client.get("/api/search", params=params)
        assert response.status_code == 400, params
        assert response.json()["detail"]
    # Syntax that would break a query_string query is harmless here.
    for q in ['"unclosed (AND -', "title:(", "a OR OR", "\\", "*?~^"]:
        assert client.get("/api/search", params={"q": q}).status_code == 200, q


def test_document_by_id(client: TestClient, indexed: dict[str, str]) -> None:
    doc = client.get(f"/api/documents/{indexed['003']}").json()
    assert doc["section"] == "World"
    assert "Clicky" not in doc["body"]
    assert doc["cleaning"]["removed"]["junk_line"] == ["Clicky"]
    assert client.get("/api/documents/" + "0" * 64).status_code == 404


def test_health_and_openapi(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/search", "/api/documents/{doc_id}", "/healthz"} <= set(paths)
    assert client.get("/docs").status_code == 200


def test_names_spelled_otherwise_find_their_seed(
    client: TestClient, indexed: dict[str, str]
) -> None:
    for q in ("Zelensky", "Zaporizhia", "Zelenskyy"):
        hits = client.get("/api/search", params={"q": q}).json()["hits"]
        assert [h["id"] for h in hits] == [indexed["000"]], q
    both = client.get("/api/search", params={"q": '"peace talks"'}).json()["hits"]
    assert {h["id"] for h in both} == set(indexed.values())
