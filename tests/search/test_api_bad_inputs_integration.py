"""Bad input to the HTTP API: every one a 4xx with a reason, never a 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.search.test_api_integration import client, indexed  # noqa: F401 (fixtures)

pytestmark = pytest.mark.integration

QUERY_SYNTAX = [
    '"',
    '""',
    "(",
    ")",
    "/",
    "//",
    "\\",
    "\\\\",
    "~",
    "~~2",
    "*",
    "?",
    "^",
    "+",
    "-",
    "|",
    "&&",
    "!",
    ":",
    "[",
    "{",
    "<",
    "title:/re.*gex/",
    "body:[a TO",
    'Istanbul~ "talks"~3 (Kharkiv | "',
    "a" * 1000,
    "\u0000",
    "\ufffd\U0001f600",
    "\u202e\u200b",
]


@pytest.mark.parametrize("q", QUERY_SYNTAX)
def test_query_syntax_never_breaks_the_search(client: TestClient, q: str) -> None:  # noqa: F811
    response = client.get("/api/search", params={"q": q})
    assert response.status_code == 200, response.text
    assert response.json()["total"]["value"] >= 0


@pytest.mark.parametrize(
    "params",
    [
        {"q": "a" * 1001},
        {"per_page": 10**30},
        {"page": 10**30},
        {"page": 10**6, "per_page": 50},
        {"page": -1},
        {"per_page": 0},
        {"per_page": -5},
        {"page": "two"},
        {"per_page": "1e3"},
        {"facet_size": 10**9},
        {"facet_size": 0},
        {"collapse": "maybe"},
        {"published_after": "99999-01-01"},
        {"published_before": "2025-13-45"},
        {"published_after": "\u0000"},
        {"sort": ""},
    ],
)
def test_out_of_range_parameters_are_400_with_a_reason(
    client: TestClient,  # noqa: F811
    params: dict[str, object],
) -> None:
    response = client.get("/api/search", params=params)
    assert response.status_code == 400, (params, response.status_code, response.text)
    assert response.json()["detail"]


def test_a_query_string_that_is_not_utf8_is_400_or_handled(client: TestClient) -> None:  # noqa: F811
    response = client.get("/api/search?q=%ff%fe%c3")
    assert response.status_code in {200, 400}, response.text


@pytest.mark.parametrize(
    "doc_id", ["x" * 5000, "%00", "..%2F..%2Fetc", "a b", "\u00e9", "*", "_search"]
)
def test_odd_document_ids_are_404_not_500(client: TestClient, doc_id: str) -> None:  # noqa: F811
    for path in (f"/api/documents/{doc_id}", f"/api/documents/{doc_id}/similar"):
        response = client.get(path)
        assert response.status_code in {400, 404}, (path, response.status_code, response.text)


@pytest.mark.parametrize("size", [0, -1, 51, 10**30, "ten"])
def test_similar_size_out_of_range_is_400(
    client: TestClient,  # noqa: F811
    indexed: dict[str, str],  # noqa: F811
    size: object,
) -> None:
    doc_id = next(iter(indexed.values()))
    response = client.get(f"/api/documents/{doc_id}/similar", params={"size": size})
    assert response.status_code == 400, response.text


def test_a_body_or_wrong_method_on_search_is_refused_not_500(client: TestClient) -> None:  # noqa: F811
    response = client.post("/api/search", content=b"x" * 2_000_000)
    assert response.status_code == 405
    response = client.request(
        "GET", "/api/search", content=b"\xff" * 1000, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200  # a GET body is ignored
