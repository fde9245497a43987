"""Same-story linking across workers, against the real Redis and Elasticsearch."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
import redis
from elasticsearch import Elasticsearch
from redis.exceptions import LockError

from search.index import ensure_index
from search.indexer import IndexSink
from tasks.document import Document
from tasks.story import LOCK_SECONDS, RecentStories, link_stories
from tests.support.index import SEEDS
from worker.compose import pipeline_context
from worker.pipeline.batch import is_transient, process_files
from worker.pipeline.enrichment import enrich_documents
from worker.settings import Settings

pytestmark = pytest.mark.integration

PEOPLE = ["Rustem Umerov", "Vladimir Medinsky", "Hakan Fidan"]
PLACES = ["Istanbul", "Ukraine", "Russia"]


def outlet_story(n: int, people: list[str] = PEOPLE) -> Document:
    return Document(
        source=f"/in/outlet-{n}.txt",
        text="…",
        body="…",
        doc_id=f"doc-{n:02d}",
        people=people,
        places=PLACES,
        published=datetime(2025, 6, 2, 12, n),
        published_from="text",
    )


@pytest.fixture
def recent(
    settings: Settings, redis_client: redis.Redis, es: Elasticsearch, clean_state: None
) -> RecentStories:
    ensure_index(es, settings.alias)
    return RecentStories(redis_client, settings.key_prefix, ttl_seconds=60)


@pytest.fixture
def sink(settings: Settings, es: Elasticsearch) -> IndexSink:
    return IndexSink(es, settings.alias)


def test_a_story_linked_by_another_worker_is_found_before_it_is_searchable(
    recent: RecentStories, sink: IndexSink
) -> None:
    [first] = link_stories([outlet_story(1)], sink, recent)
    assert first.story_id == "doc-01"
    # Not indexed at all: only the other worker's memory can link the second outlet to it.
    [second] = link_stories([outlet_story(2)], sink, recent)
    assert second.story_id == "doc-01"
    # Without it, the second outlet starts a story of its own.
    [alone] = link_stories([outlet_story(3)], sink)
    assert alone.story_id == "doc-03"


def test_a_worker_linking_meanwhile_is_waited_for_and_then_seen(
    recent: RecentStories, settings: Settings, sink: IndexSink, redis_client: redis.Redis
) -> None:
    other_worker = RecentStories(redis_client, settings.key_prefix, ttl_seconds=60)
    result: list[Document] = []
    with other_worker.lock():  # the other worker is linking its batch right now
        thread = threading.Thread(
            target=lambda: result.extend(link_stories([outlet_story(2)], sink, recent))
        )
        thread.start()
        thread.join(timeout=0.5)
        assert thread.is_alive() and not result  # waiting, not linking blind
        other_worker.remember([outlet_story(1).replace(story_id="doc-01")])
    thread.join(timeout=30)
    assert [d.story_id for d in result] == ["doc-01"]


def test_other_people_start_their_own_story_and_the_memory_expires(
    recent: RecentStories, settings: Settings, sink: IndexSink, redis_client: redis.Redis
) -> None:
    link_stories([outlet_story(1)], sink, recent)
    [other] = link_stories([outlet_story(2, ["Emmanuel Macron", "Olaf Scholz"])], sink, recent)
    assert other.story_id == "doc-02"
    keys = list(redis_client.scan_iter(f"{settings.key_prefix}story:*"))
    assert any(":story:doc:" in k for k in keys) and any(":story:person:" in k for k in keys)
    assert all(0 < redis_client.ttl(k) <= 60 for k in keys)


def test_a_story_lock_held_too_long_retries_the_enrichment_and_search_does_not_wait(
    settings: Settings, redis_client: redis.Redis, es: Elasticsearch, clean_state: None
) -> None:
    handed: list[str] = []
    ctx = pipeline_context(settings, client=redis_client, es=es, enrich_later=handed.extend)
    ctx.stories = RecentStories(redis_client, settings.key_prefix, lock_wait=0.2)
    seed = str(SEEDS / "003_0fcbdef7ffe9cfd8.txt")
    stalled = RecentStories(redis_client, settings.key_prefix)  # another worker, stuck
    with stalled.lock():
        # Phase 1 takes no story lock: the file is searchable while linking is stuck.
        assert process_files([seed], ctx).states == {seed: "indexed"}
        with pytest.raises(LockError):
            enrich_documents(handed, ctx)
    assert is_transient(LockError())  # the enrichment task retries it, charging nothing
    entry = ctx.ledger.get(seed)
    assert entry is not None and entry.enrichment == "pending"
    assert es.get(index=settings.alias, id=entry.doc_id)["_source"]["enriched"] is False
    assert enrich_documents(handed, ctx).enriched == [entry.doc_id]
    entry = ctx.ledger.get(seed)
    assert entry is not None and entry.enrichment == "enriched"


def test_the_lock_expires_for_a_holder_that_dies_and_an_outlived_holder_lets_go_quietly(
    recent: RecentStories, settings: Settings, redis_client: redis.Redis
) -> None:
    key = f"{settings.key_prefix}story:lock"
    with recent.lock():
        assert 0 < redis_client.pttl(key) <= LOCK_SECONDS * 1000
        redis_client.delete(key)  # as if it had expired under a slow holder
    with recent.lock():  # free again at once
        assert redis_client.exists(key)
    assert not redis_client.exists(key)
