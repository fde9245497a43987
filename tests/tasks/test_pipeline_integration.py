"""The whole path on the real services: inbox -> watcher -> Redis -> Celery worker -> index."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from tests.support.index import SEEDS, search_ids
from tests.support.procs import WorkerProcess
from tests.support.waiting import wait_for, wait_terminal
from worker.enqueue import submit_many
from worker.pipeline.ledger import Ledger
from worker.settings import Settings

pytestmark = pytest.mark.integration

SEED_000 = SEEDS / "000_2fa40668a4e6c1c4.txt"
SEED_003 = SEEDS / "003_0fcbdef7ffe9cfd8.txt"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


def drop(src: Path | bytes, inbox: Path, name: str) -> Path:
    """Write the way a well-behaved scraper does: a temp name, then a rename."""
    inbox.mkdir(parents=True, exist_ok=True)
    temp = inbox / f".{name}.part"
    if isinstance(src, bytes):
        temp.write_bytes(src)
    else:
        shutil.copyfile(src, temp)
    final = inbox / name
    temp.rename(final)
    return final


def test_seeds_dropped_in_the_inbox_become_searchable(
    running_worker: WorkerProcess,
    watcher_thread,
    es: Elasticsearch,
    settings: Settings,
    ledger: Ledger,
) -> None:
    inbox, _ = watcher_thread
    paths = [drop(SEED_000, inbox, SEED_000.name), drop(SEED_003, inbox, SEED_003.name)]

    entries = wait_terminal(ledger, paths)

    assert {e.state for e in entries.values()} == {"indexed"}
    id_000, id_003 = entries[str(paths[0])].doc_id, entries[str(paths[1])].doc_id
    assert search_ids(es, settings.alias, "Istanbul") == {id_000, id_003}
    assert search_ids(es, settings.alias, "Kharkiv") == {id_003}
    doc = es.get(index=settings.alias, id=id_003)["_source"]
    assert (
        doc["title"]
        == "Ukraine, Russia resume peace talks in Turkey amid low hopes for breakthrough"
    )
    assert doc["section"] == "World"
    assert doc["published"].startswith("2025-06-02T21:29")
    assert doc["published_from"] == "text"
    assert doc["language"] == "en"
    assert doc["sources"] == [str(paths[1])]
    doc = es.get(index=settings.alias, id=id_000)["_source"]
    assert doc["published_from"] == "ingested"  # no date line: falls back, and says so
    assert doc["body"].count("Istanbul") < 6818 // 2  # the repeated body was cut
    assert doc["cleaning"]["removed"]["repeated_paragraph"]


def test_same_content_twice_and_under_a_second_name_is_one_document(
    running_worker: WorkerProcess,
    watcher_thread,
    es: Elasticsearch,
    settings: Settings,
    ledger: Ledger,
) -> None:
    inbox, _ = watcher_thread
    first = drop(SEED_003, inbox, "story.txt")
    (entry,) = wait_terminal(ledger, [first]).values()
    assert entry.state == "indexed"

    second = drop(SEED_003, inbox, "story copy.txt")
    again = drop(SEED_003, inbox, "story.txt")  # the same file dropped again
    wait_terminal(ledger, [second])
    wait_for(
        lambda: ledger.get(str(again)).size == again.stat().st_size,
        10,  # type: ignore[union-attr]
        what="the watcher to look at the re-dropped file",
    )

    dup = ledger.get(str(second))
    assert dup is not None and dup.state == "duplicate"
    assert dup.doc_id == entry.doc_id and dup.duplicate_of == str(first)
    re_dropped = ledger.get(str(first))
    assert re_dropped is not None
    assert re_dropped.state == "indexed" and re_dropped.attempts == 1  # not processed again
    es.indices.refresh(index=settings.alias)
    assert es.count(index=settings.alias)["count"] == 1
    sources = es.get(index=settings.alias, id=entry.doc_id)["_source"]["sources"]
    assert sources == sorted([str(first), str(second)])


def test_bad_files_are_quarantined_with_a_reason_and_the_worker_keeps_going(
    running_worker: WorkerProcess,
    watcher_thread,
    es: Elasticsearch,
    settings: Settings,
    ledger: Ledger,
) -> None:
    inbox, _ = watcher_thread
    empty = drop(b"", inbox, "empty.txt")
    image = drop(PNG, inbox, "photo.txt")
    blank = drop(b"  \n\t\n", inbox, "blank.txt")
    boiler = drop(b"Clicky\nAdvertisement\nShare this article\n", inbox, "boilerplate.txt")
    good = drop(SEED_003, inbox, "good.txt")

    entries = wait_terminal(ledger, [empty, image, blank, boiler, good])

    reasons = {Path(k).name: (e.state, e.reason) for k, e in entries.items()}
    assert reasons["empty.txt"] == ("quarantined", "empty")
    assert reasons["photo.txt"] == ("quarantined", "binary")
    assert "PNG" in entries[str(image)].last_error
    assert reasons["blank.txt"] == ("quarantined", "empty")
    assert reasons["boilerplate.txt"] == ("quarantined", "empty_after_cleaning")
    assert reasons["good.txt"] == ("indexed", "")
    assert running_worker.alive()
    es.indices.refresh(index=settings.alias)
    assert es.count(index=settings.alias)["count"] == 1


def _distinct_documents(folder: Path, count: int) -> list[Path]:
    paragraphs = [p for p in SEED_003.read_text().split("\n\n") if len(p) > 80]
    paths = []
    for i in range(count):
        body = "\n\n".join(paragraphs[(i + k) % len(paragraphs)] for k in range(4))
        path = folder / f"doc-{i:03}.txt"
        path.write_text(f"Report number {i} on the talks\n\n{body}\n\nFiled as item {i}.\n")
        paths.append(path)
    return paths


def test_killing_the_worker_mid_run_loses_nothing_and_duplicates_nothing(
    running_worker: WorkerProcess,
    es: Elasticsearch,
    settings: Settings,
    ledger: Ledger,
    send,
    tmp_path: Path,
) -> None:
    # Enough that phase 1 (fast: no model) is still busy when the worker is killed.
    paths = _distinct_documents(tmp_path, 240)
    # Batches of 4: a killed worker takes whole batches down with it, half done.
    results, failed = submit_many(paths, ledger, send, batch_size=4)
    assert not failed and set(results.values()) == {"queued"}
    wait_for(
        lambda: sum(ledger.get(str(p)).state == "indexed" for p in paths) >= 5,  # type: ignore[union-attr]
        60,
        what="the worker to index a few files",
    )

    running_worker.kill()
    unfinished = [p for p in paths if ledger.get(str(p)).state != "indexed"]  # type: ignore[union-attr]
    assert unfinished, "the worker finished everything before it was killed"
    running_worker.start()

    entries = wait_terminal(ledger, paths, timeout=120)
    assert {e.state for e in entries.values()} == {"indexed"}
    es.indices.refresh(index=settings.alias)
    indexed_ids = {
        h["_id"] for h in es.search(index=settings.alias, size=1000, source=False)["hits"]["hits"]
    }
    expected_ids = {e.doc_id for e in entries.values()}
    assert len(expected_ids) == 240
    assert indexed_ids == expected_ids  # lost = 0, unexpected = 0
    assert es.count(index=settings.alias)["count"] == 240  # duplicated = 0
    # Phase 2 of every document too, whatever of it the killed worker held.
    wait_for(
        lambda: all(ledger.get(str(p)).enrichment == "enriched" for p in paths),  # type: ignore[union-attr]
        180,
        what="every document to be enriched",
    )


def test_a_json_lines_feed_indexes_its_good_items_and_quarantines_each_bad_one(
    running_worker: WorkerProcess,
    watcher_thread,
    es: Elasticsearch,
    settings: Settings,
    ledger: Ledger,
) -> None:
    inbox, _ = watcher_thread
    story = SEED_003.read_text()
    lines = [
        json.dumps({"title": "Talks in Istanbul", "body": story, "date": "2025-06-02"}),
        "{broken",
        json.dumps({"title": "Same story again", "body": story}),  # a duplicate item
        json.dumps(
            {
                "title": "Other",
                "body": "Markets rallied on Monday after the talks.",
                "url": "https://www.example.org/markets",
            }
        ),
    ]
    (inbox / "scraper-a").mkdir()
    feed = drop("\n".join(lines).encode(), inbox / "scraper-a", "feed.jsonl")

    (entry,) = wait_terminal(ledger, [feed]).values()

    assert entry.state == "indexed"
    assert entry.items == "duplicate: 1, indexed: 2, quarantined: 1"
    bad = ledger.get(f"{feed}#L2")
    assert bad is not None and (bad.state, bad.reason) == ("quarantined", "malformed_json")
    dup = ledger.get(f"{feed}#L3")
    assert dup is not None and dup.duplicate_of == f"{feed}#L1"
    es.indices.refresh(index=settings.alias)
    hits = es.search(index=settings.alias, size=10)["hits"]["hits"]
    by_title = {h["_source"]["title"]: h["_source"] for h in hits}
    assert set(by_title) == {"Talks in Istanbul", "Other"}
    assert by_title["Talks in Istanbul"]["site"] == "scraper-a"  # the inbox sub-folder
    assert by_title["Talks in Istanbul"]["sources"] == [f"{feed}#L1", f"{feed}#L3"]
    assert by_title["Other"]["site"] == "example.org"  # the item's own URL wins
    assert by_title["Talks in Istanbul"]["published"].startswith("2025-06-02")


def test_a_sites_repeated_footer_is_learned_and_removed(
    settings: Settings, redis_client, es: Elasticsearch, ledger: Ledger, clean_state: None
) -> None:
    from worker.compose import pipeline_context
    from worker.pipeline.batch import process_file

    ctx = pipeline_context(settings, client=redis_client, es=es)
    folder = settings.inbox / "site-x"
    folder.mkdir(parents=True, exist_ok=True)
    footer = "Site X News is published by the Northern Media cooperative in Leeds."
    paragraphs = [p for p in SEED_003.read_text().split("\n\n") if len(p) > 120]
    bodies = []
    for i in range(7):
        path = folder / f"story-{i}.txt"
        path.write_text(
            f"{paragraphs[i % len(paragraphs)]}\n\nStory {'abcdefg'[i]} ends here.\n\n{footer}\n"
        )
        assert process_file(str(path), ctx) == "indexed"
        entry = ledger.get(str(path))
        assert entry is not None
        bodies.append(es.get(index=settings.alias, id=entry.doc_id)["_source"])

    kept = [footer in doc["body"] for doc in bodies]
    # Kept until seen in DROPSIFT_BOILERPLATE_MIN_DOCS (5) of the site's documents.
    assert kept == [True, True, True, True, False, False, False]
    assert bodies[-1]["cleaning"]["removed"]["source_boilerplate"] == [footer]
    assert all(doc["site"] == "site-x" for doc in bodies)


def test_the_index_follows_files_that_change_and_files_that_are_deleted(
    running_worker: WorkerProcess,
    watcher_thread,
    es: Elasticsearch,
    settings: Settings,
    ledger: Ledger,
) -> None:
    inbox, _ = watcher_thread

    def indexed_ids() -> set[str]:
        es.indices.refresh(index=settings.alias)
        hits = es.search(index=settings.alias, size=100, source=False)["hits"]["hits"]
        return {h["_id"] for h in hits}

    story = drop(SEED_003, inbox, "story.txt")
    first = wait_terminal(ledger, [story])[str(story)].doc_id
    assert indexed_ids() == {first}

    # A new version replaces the old document.
    wait_for(lambda: ledger.get(str(story)).produced, 10, what="the ledger to record output")  # type: ignore[union-attr]
    drop(SEED_000, inbox, "story.txt")
    second = wait_for(
        lambda: (
            (e := ledger.get(str(story)))
            and e.state == "indexed"
            and e.doc_id != first
            and e.doc_id
        ),
        60,
        what="the new version",
    )
    wait_for(lambda: indexed_ids() == {second}, 30, what="the old document to go")

    # A second source of the same content, then both deleted one after the other.
    copy = drop(SEED_000, inbox, "copy.txt")
    assert wait_terminal(ledger, [copy])[str(copy)].state == "duplicate"
    story.unlink()
    wait_for(lambda: ledger.get(str(story)).state == "deleted", 30, what="story.txt deleted")  # type: ignore[union-attr]
    doc = es.get(index=settings.alias, id=second)["_source"]
    assert doc["sources"] == [str(copy)]  # still there: another source holds it
    copy.unlink()
    wait_for(lambda: indexed_ids() == set(), 30, what="the last source's document to go")


def test_a_refused_new_version_takes_the_old_document_with_it(
    running_worker: WorkerProcess,
    watcher_thread,
    es: Elasticsearch,
    settings: Settings,
    ledger: Ledger,
) -> None:
    inbox, _ = watcher_thread
    story = drop(SEED_003, inbox, "story.txt")
    first = wait_terminal(ledger, [story])[str(story)].doc_id
    assert first and search_ids(es, settings.alias, "Kharkiv") == {first}
    wait_for(lambda: ledger.get(str(story)).produced, 10, what="the ledger to record output")  # type: ignore[union-attr]

    drop(b" \n\t\n  \n", inbox, "story.txt")  # the scraper rewrote it blank
    entry = wait_for(
        lambda: (e := ledger.get(str(story))) and e.state == "quarantined" and e,
        60,
        what="the blank version to be refused",
    )
    assert entry.reason == "empty"
    assert entry.produced == ()
    # The file no longer delivers the old text, and nothing else does: the document goes.
    wait_for(
        lambda: not search_ids(es, settings.alias, "Kharkiv"), 30, what="the old document to go"
    )
    assert not es.exists(index=settings.alias, id=first)
