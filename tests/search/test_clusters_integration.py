"""Near-duplicate clusters and related stories in the search API, on the real Elasticsearch."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from search.api import create_app
from search.indexer import bulk_index
from tests.support.index import index_seeds
from worker.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def ids(settings: Settings, redis_client: redis.Redis, es: Elasticsearch) -> dict[str, str]:
    """The two seeds through the pipeline, plus a planted copy of 003 and a story about it."""
    found = index_seeds(settings, redis_client, es)
    seed = es.get(index=settings.alias, id=found["003"])["_source"]
    copy = {
        **seed,
        "doc_id": "copy",
        "sources": ["/in/copy.txt"],
        "canonical": False,
        "similarity": 0.91,
        "body": seed["body"] + " Reporting by the wire desk.",
    }
    story = {
        **seed,
        "doc_id": "story",
        "sources": ["/in/story.txt"],
        "cluster_id": "story",
        "title": "Kharkiv mayor describes missile strike near school",
        "body": "Mayor Ihor Terekhov said missiles hit Kharkiv near a school on Monday.",
    }
    outcome = bulk_index(es, settings.alias, [("copy", copy), ("story", story)])
    assert outcome.indexed == ["copy", "story"]
    es.indices.refresh(index=settings.alias)
    return {**found, "copy": "copy", "story": "story"}


@pytest.fixture(scope="module")
def client(settings: Settings, es: Elasticsearch, ids: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(es, settings.alias)) as test_client:
        yield test_client


def test_a_cluster_is_one_hit_with_its_size_and_can_be_expanded(
    client: TestClient, ids: dict[str, str]
) -> None:
    collapsed = client.get("/api/search", params={"q": "Kharkiv"}).json()
    sizes = {h["cluster_id"]: h["cluster_size"] for h in collapsed["hits"]}
    assert sizes == {ids["003"]: 2, "story": 1}
    assert collapsed["total"]["value"] == 3  # documents; the hits are clusters
    assert collapsed["clusters"] == 2

    every = client.get("/api/search", params={"q": "Kharkiv", "collapse": "false"}).json()
    assert {h["id"] for h in every["hits"]} == {ids["003"], "copy", "story"}

    members = client.get("/api/search", params={"cluster_id": ids["003"], "collapse": "false"})
    assert {h["id"] for h in members.json()["hits"]} == {ids["003"], "copy"}


def test_a_document_lists_its_copies_and_related_stories(
    client: TestClient, ids: dict[str, str]
) -> None:
    doc = client.get(f"/api/documents/{ids['003']}").json()
    assert [d["id"] for d in doc["near_duplicates"]] == ["copy"]
    assert doc["near_duplicates"][0]["similarity"] == pytest.approx(0.91)
    # The other outlet's seed too: processed right after 003, before either was searchable.
    assert {d["id"] for d in doc["related_stories"]} == {ids["000"], "story"}


def test_similar_documents_leave_out_the_documents_own_copies(
    client: TestClient, ids: dict[str, str]
) -> None:
    similar = client.get(f"/api/documents/{ids['003']}/similar").json()
    found = [h["id"] for h in similar["hits"]]
    assert "copy" not in found and ids["003"] not in found
    assert found and found[0] in {"story", ids["000"]}
    assert client.get("/api/documents/nope/similar").status_code == 404
