"""Bulk indexing against the real Elasticsearch: per-item outcomes and transient failures."""

from __future__ import annotations

import threading

import pytest
import redis
from elasticsearch import Elasticsearch

from search.client import make_client
from search.indexer import (
    RetryPolicy,
    TransientIndexError,
    bulk_index,
    set_sources,
    set_sources_many,
)
from tasks.dedupe import ContentRegistry
from worker.settings import Settings

pytestmark = pytest.mark.integration


def _doc(doc_id: str, **extra: object) -> dict[str, object]:
    return {
        "doc_id": doc_id,
        "title": doc_id,
        "body": f"text of {doc_id}",
        "published": "2025-06-02T21:29:00",
        "sources": [f"/in/{doc_id}.txt"],
        **extra,
    }


def test_a_rejected_item_is_reported_and_the_rest_of_its_batch_is_indexed(
    es: Elasticsearch, settings: Settings, clean_state: None
) -> None:
    docs = [("a1", _doc("a1")), ("bad", _doc("bad", unexpected_field=1)), ("a2", _doc("a2"))]
    outcome = bulk_index(es, settings.alias, docs)
    assert outcome.indexed == ["a1", "a2"]
    assert set(outcome.rejected) == {"bad"}
    assert outcome.rejected["bad"].startswith("400 strict_dynamic_mapping_exception")
    es.indices.refresh(index=settings.alias)
    assert es.count(index=settings.alias)["count"] == 2


def test_an_unreachable_cluster_is_retried_with_backoff_then_reported() -> None:
    nobody = make_client("http://127.0.0.1:9", request_timeout=2)  # nothing listens on port 9
    delays: list[float] = []
    with pytest.raises(TransientIndexError, match="after 3 retries"):
        bulk_index(
            nobody,
            "any",
            [("x", _doc("x"))],
            policy=RetryPolicy(max_retries=3, backoff=0.5, backoff_max=1.0),
            sleep=delays.append,
        )
    assert len(delays) == 3
    assert all(0 <= d <= 1.0 for d in delays)


def test_concurrent_sources_all_land_on_the_document(
    es: Elasticsearch, settings: Settings, redis_client: redis.Redis, clean_state: None
) -> None:
    registry = ContentRegistry(redis_client, settings.key_prefix)
    registry.claim("shared", "/in/0.txt")
    bulk_index(es, settings.alias, [("shared", _doc("shared"))])

    def deliver(i: int) -> None:
        registry.claim("shared", f"/in/{i}.txt")
        set_sources(es, settings.alias, "shared", lambda: registry.sources("shared"))

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(1, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = es.get(index=settings.alias, id="shared")["_source"]["sources"]
    assert stored == sorted(f"/in/{i}.txt" for i in range(9))


def test_sources_of_many_documents_in_one_pass_even_when_one_changes_meanwhile(
    es: Elasticsearch, settings: Settings, redis_client: redis.Redis, clean_state: None
) -> None:
    registry = ContentRegistry(redis_client, settings.key_prefix)
    for doc_id in ("a", "b", "c"):
        registry.claim(doc_id, f"/in/{doc_id}.txt")
    bulk_index(es, settings.alias, [(d, _doc(d)) for d in ("a", "b", "c")])
    registry.claim("a", "/in/a-copy.txt")
    registry.claim("b", "/in/b-copy.txt")
    registry.claim("later", "/in/later.txt")  # claimed, not indexed yet

    reads: list[str] = []

    def read(doc_id: str) -> list[str]:
        if doc_id == "b" and "b" not in reads:
            # Another worker writes b's sources between our read and our update.
            registry.claim("b", "/in/b-third.txt")
            set_sources(es, settings.alias, "b", lambda: registry.sources("b"))
        reads.append(doc_id)
        return registry.sources(doc_id)

    missing = set_sources_many(es, settings.alias, ["a", "b", "c", "later", "a"], read)
    assert missing == {"later"}
    assert reads.count("b") == 2  # the conflicting update was redone
    stored = {d: es.get(index=settings.alias, id=d)["_source"]["sources"] for d in "abc"}
    assert stored == {
        "a": ["/in/a-copy.txt", "/in/a.txt"],
        "b": ["/in/b-copy.txt", "/in/b-third.txt", "/in/b.txt"],
        "c": ["/in/c.txt"],
    }
