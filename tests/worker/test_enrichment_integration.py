"""Phase 2 on the real Redis and Elasticsearch: near-copies wait for their canonical's story."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import redis
from elasticsearch import Elasticsearch

from search.events import drop_events, events_alias
from tasks.source import printable
from tests.support.index import SEEDS
from tests.support.phases import keywords_later
from worker.compose import pipeline_context
from worker.pipeline.batch import process_files
from worker.pipeline.context import Context
from worker.pipeline.enrichment import MAX_WAITS, enrich_documents
from worker.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
def phase1(
    settings: Settings,
    redis_client: redis.Redis,
    es: Elasticsearch,
    clean_state: None,
    tmp_path: Path,
) -> tuple[Context, str, str]:
    """A seed and a near-copy of it through phase 1 only: their ids, canonical first."""
    handed: list[str] = []
    ctx = pipeline_context(settings, client=redis_client, es=es, enrich_later=handed.extend)
    original = SEEDS / "003_0fcbdef7ffe9cfd8.txt"
    near = tmp_path / "near.txt"
    near.write_text(original.read_text() + "\n\nThis story was updated with a statement.\n")
    for path in (original, near):
        assert process_files([str(path)], ctx).states == {str(path): "indexed"}
    return ctx, handed[0], handed[1]


def test_a_near_copy_waits_for_its_canonical_and_then_takes_its_story(
    settings: Settings, es: Elasticsearch, phase1: tuple[Context, str, str]
) -> None:
    ctx, canonical, copy = phase1
    assert es.get(index=settings.alias, id=copy)["_source"]["cluster_id"] == canonical

    # The canonical's phase 2 has not run yet: the copy waits, and nothing is written.
    assert enrich_documents([copy], ctx).waiting == [copy]
    assert es.get(index=settings.alias, id=copy)["_source"]["enriched"] is False
    assert enrich_documents([canonical], ctx).enriched == [canonical]
    assert enrich_documents([copy], ctx, tries=1).enriched == [copy]
    story = es.get(index=settings.alias, id=canonical)["_source"]["story_id"]
    assert es.get(index=settings.alias, id=copy)["_source"]["story_id"] == story


def test_a_near_copy_waits_only_so_long(
    settings: Settings, es: Elasticsearch, phase1: tuple[Context, str, str]
) -> None:
    ctx, _, copy = phase1
    result = enrich_documents([copy], ctx, tries=MAX_WAITS)
    assert result.enriched == [copy] and not result.waiting
    assert es.get(index=settings.alias, id=copy)["_source"]["people"]


def _enriching_at_once(settings: Settings, redis_client: redis.Redis, es: Elasticsearch) -> Context:
    """Phase 1 of language and stats, whose phase 2 (keywords) runs the moment it is sent."""

    def enrich_now(doc_ids: list[str]) -> None:
        enrich_documents(doc_ids, ctx)

    ctx = keywords_later(settings, redis_client, es, enrich_now)
    return ctx


def test_phase_2_done_before_phase_1_has_finished_is_kept(
    settings: Settings,
    redis_client: redis.Redis,
    es: Elasticsearch,
    clean_state: None,
    tmp_path: Path,
) -> None:
    """Phase 2 may end before phase 1 has written its own end (a fast enricher, an idle
    worker): here it runs the moment it is sent. Its outcome stays on the ledger, for a new
    file and for a file whose content changed."""
    ctx = _enriching_at_once(settings, redis_client, es)
    path = tmp_path / "report.txt"
    for text in (SEEDS / "000_2fa40668a4e6c1c4.txt", SEEDS / "003_0fcbdef7ffe9cfd8.txt"):
        path.write_text(text.read_text())
        assert process_files([str(path)], ctx).states == {str(path): "indexed"}
        entry = ctx.ledger.get(str(path))
        assert entry is not None
        source = es.get(index=settings.alias, id=entry.doc_id)["_source"]
        assert source["enriched"] is True and source["keywords"]
        assert entry.enrichment == "enriched"


def test_phase_2_done_first_is_an_outcome_record_too(
    settings: Settings, redis_client: redis.Redis, es: Elasticsearch, clean_state: None
) -> None:
    """The record of phase 2 goes under the file even when phase 2 ended before phase 1
    had written the file's end (its entry said `processing` then)."""
    drop_events(es, settings.index_prefix)
    ctx = _enriching_at_once(settings, redis_client, es)
    path = str(SEEDS / "003_0fcbdef7ffe9cfd8.txt")
    assert process_files([path], ctx).states == {path: "indexed"}

    es.indices.refresh(index=events_alias(settings.index_prefix))
    hits = es.search(index=events_alias(settings.index_prefix), size=10)["hits"]["hits"]
    assert sorted((h["_source"]["path"], h["_source"]["state"]) for h in hits) == [
        (path, "enriched"),
        (path, "indexed"),
    ]


def test_phase_2_marks_an_entry_redis_lost_and_phase_1_wrote_again(
    settings: Settings, redis_client: redis.Redis, es: Elasticsearch, clean_state: None
) -> None:
    """Redis is wiped after phase 1 announced phase 2 and sent it, before phase 1 wrote the
    file's end: the entry phase 1 writes again says indexed, without `pending`. Phase 2's
    outcome still goes on it (nothing would ever send the file again: it is settled)."""
    handed: list[str] = []

    def send_then_wipe(doc_ids: list[str]) -> None:
        handed.extend(doc_ids)
        redis_client.delete(ctx.ledger.key_of(path))

    ctx = keywords_later(settings, redis_client, es, send_then_wipe)
    path = str(SEEDS / "003_0fcbdef7ffe9cfd8.txt")
    assert process_files([path], ctx).states == {path: "indexed"}
    entry = ctx.ledger.get(path)
    assert entry is not None and (entry.state, entry.enrichment) == ("indexed", "")

    assert enrich_documents(handed, ctx).enriched == handed
    entry = ctx.ledger.get(path)
    assert entry is not None and entry.enrichment == "enriched"


def test_an_item_that_was_a_copy_and_now_indexes_a_document_of_its_own_keeps_phase_2(
    settings: Settings, redis_client: redis.Redis, es: Elasticsearch, clean_state: None
) -> None:
    """A feed's item was a copy of another file; the feed is rewritten and the item now
    indexes a document of its own, whose phase 2 ends before phase 1 has written the item's
    new state (its entry still says duplicate then): the outcome is kept."""
    ctx = _enriching_at_once(settings, redis_client, es)
    settings.inbox.mkdir(parents=True, exist_ok=True)
    seed, other = SEEDS / "003_0fcbdef7ffe9cfd8.txt", SEEDS / "000_2fa40668a4e6c1c4.txt"
    for name, body, state in (
        ("first.jsonl", seed, "indexed"),
        ("items.jsonl", seed, "duplicate"),  # a copy of first.jsonl's item
        ("items.jsonl", other, "indexed"),  # rewritten: a document of its own
    ):
        feed = settings.inbox / name
        feed.write_text(json.dumps({"title": "A report", "body": body.read_text()}) + "\n")
        process_files([str(feed)], ctx)
        entry = ctx.ledger.get(f"{feed}#L1")
        assert entry is not None and entry.state == state

    assert entry.enrichment == "enriched"
    assert es.get(index=settings.alias, id=entry.doc_id)["_source"]["enriched"] is True


def test_phase_2_records_its_outcome_when_redis_lost_the_contents_sources(
    settings: Settings,
    redis_client: redis.Redis,
    es: Elasticsearch,
    clean_state: None,
) -> None:
    """Redis lost the content registry's record of who delivers a document (a FLUSHALL while
    its batch was in flight): phase 2 still records its outcome on the file, by the sources
    the indexed document carries."""
    handed: list[str] = []
    ctx = keywords_later(settings, redis_client, es, handed.extend)
    path = str(SEEDS / "003_0fcbdef7ffe9cfd8.txt")
    assert process_files([path], ctx).states == {path: "indexed"}
    (doc_id,) = handed
    redis_client.delete(ctx.contents._sources_key(doc_id))
    assert ctx.contents.sources_many([doc_id]) == {doc_id: []}

    assert enrich_documents([doc_id], ctx).enriched == [doc_id]
    entry = ctx.ledger.get(path)
    assert entry is not None and entry.enrichment == "enriched"


def test_phase_2_finds_a_non_utf8_file_by_the_sources_its_document_carries(
    settings: Settings,
    redis_client: redis.Redis,
    es: Elasticsearch,
    clean_state: None,
) -> None:
    """As above, for a file whose name is not UTF-8: the document carries the name's
    printable form (\\xNN escapes), and the ledger's key is the name itself."""
    handed: list[str] = []
    ctx = keywords_later(settings, redis_client, es, handed.extend)
    settings.inbox.mkdir(parents=True, exist_ok=True)
    path = str(settings.inbox / os.fsdecode(b"caf\xe9 report.txt"))
    shutil.copy(SEEDS / "003_0fcbdef7ffe9cfd8.txt", path)
    assert process_files([path], ctx).states == {path: "indexed"}
    (doc_id,) = handed
    assert es.get(index=settings.alias, id=doc_id)["_source"]["sources"] == [printable(path)]
    redis_client.delete(ctx.contents._sources_key(doc_id))

    assert enrich_documents([doc_id], ctx).enriched == [doc_id]
    entry = ctx.ledger.get(path)
    assert entry is not None and entry.enrichment == "enriched"


def test_pending_does_not_outlive_an_attempt_that_ended_otherwise(
    settings: Settings, redis_client: redis.Redis, clean_state: None
) -> None:
    """An attempt wrote `pending` for the document it indexed, then failed; the next one
    ended the file another way (quarantined, vanished): nothing is pending for it."""
    ledger = pipeline_context(settings, client=redis_client).ledger
    path = str(settings.inbox / "report.txt")
    ledger.queued(path, "raw", 10, 1)
    ledger.expect_enrichment([(path, "d1")])
    assert (ledger.get(path) or pytest.fail()).enrichment == "pending"
    ledger.quarantine(path, "empty", "nothing left after cleaning")
    entry = ledger.get(path)
    assert entry is not None and (entry.state, entry.enrichment) == ("quarantined", "")


def test_phase_2_is_on_the_documents_entry_not_its_copies_whenever_they_came(
    settings: Settings, redis_client: redis.Redis, es: Elasticsearch, clean_state: None
) -> None:
    """A copy's entry says duplicate and names the document; phase 2 is the document's, told
    on the entry that indexed it. Copies recorded before its enrichment and after it read
    the same: no phase 2 of their own."""
    handed: list[str] = []
    ctx = keywords_later(settings, redis_client, es, handed.extend)
    seed = SEEDS / "003_0fcbdef7ffe9cfd8.txt"
    settings.inbox.mkdir(parents=True, exist_ok=True)
    before, after = settings.inbox / "before.txt", settings.inbox / "after.txt"
    shutil.copy(seed, before)
    shutil.copy(seed, after)
    assert process_files([str(seed)], ctx).states == {str(seed): "indexed"}
    assert process_files([str(before)], ctx).states == {str(before): "duplicate"}
    assert enrich_documents(handed, ctx).enriched == handed
    assert process_files([str(after)], ctx).states == {str(after): "duplicate"}

    entries = ctx.ledger.get_many([str(seed), str(before), str(after)])
    assert {p: (e.state, e.doc_id, e.enrichment) for p, e in entries.items()} == {
        str(seed): ("indexed", handed[0], "enriched"),
        str(before): ("duplicate", handed[0], ""),
        str(after): ("duplicate", handed[0], ""),
    }
