"""The life of a file through worker.pipeline, on the real Redis and Elasticsearch.

Each test drives the pipeline functions the Celery tasks call, with the state a crash, a
race or a bad name leaves behind, and checks that every file ends indexed or quarantined
exactly once, and that nothing it delivered is left behind.
"""

from __future__ import annotations

import copy
import os
import shutil
import threading
import time
from pathlib import Path

import pytest
import redis
from elasticsearch import Elasticsearch

from search.indexer import IndexSink
from search.mapping import MAPPINGS, SETTINGS
from tasks.clean import CLEANER_VERSION, clean
from tasks.dedupe import ContentBusy, ContentRegistry, content_id
from tasks.extract import read_file
from tests.support.index import SEEDS
from worker import compose
from worker.celery_app import create_app
from worker.enqueue import submit_many
from worker.pipeline.batch import SplitBatch, _index, _stage, forget_files, process_files
from worker.pipeline.context import Context
from worker.pipeline.ledger import Ledger
from worker.pipeline.states import FileState
from worker.settings import Settings
from worker.watcher import Watcher

pytestmark = pytest.mark.integration

SEED = SEEDS / "003_0fcbdef7ffe9cfd8.txt"


@pytest.fixture
def ctx(fast_context: Context) -> Context:
    """The pipeline as a worker builds it, without the slow enrichers (tests/conftest.py)."""
    return fast_context


def _indexed(es: Elasticsearch, alias: str) -> dict[str, list[str]]:
    """Every document id in the index with its sources."""
    es.indices.refresh(index=alias)
    hits = es.search(index=alias, size=1000, source=["sources"])["hits"]["hits"]
    return {h["_id"]: h["_source"]["sources"] for h in hits}


def _queue(paths: list[Path], ledger: Ledger, root: Path) -> dict[Path, str]:
    sent: list[list[str]] = []
    results, failed = submit_many(paths, ledger, sent.append, root=root)
    assert not failed, failed
    return results


def _article(n: int) -> str:
    return (
        f"Report number {n} from the coast.\n\n"
        f"The harbour of town {n} reopened after the storm, officials said on Tuesday, "
        f"and {n * 7} boats went back to sea before noon while the market stayed shut.\n"
    )


def test_a_file_deleted_and_added_back_is_indexed_again(
    ctx: Context, settings: Settings, es: Elasticsearch
) -> None:
    path = settings.inbox / "news" / "story.txt"
    path.parent.mkdir(parents=True)
    shutil.copy(SEED, path)
    assert _queue([path], ctx.ledger, settings.inbox) == {path: "queued"}
    assert process_files([str(path)], ctx).states[str(path)] == FileState.INDEXED
    content = path.read_bytes()

    path.unlink()
    assert forget_files([str(path)], ctx) == {str(path): FileState.DELETED}
    assert _indexed(es, settings.alias) == {}

    path.write_bytes(content)  # same name, same bytes
    assert _queue([path], ctx.ledger, settings.inbox) == {path: "queued"}
    assert process_files([str(path)], ctx).states[str(path)] == FileState.INDEXED
    assert list(_indexed(es, settings.alias).values()) == [[str(path)]]


def test_a_symlink_loop_is_quarantined_and_the_watcher_keeps_queueing(
    settings: Settings, ledger: Ledger, clean_state: None
) -> None:
    inbox = settings.inbox
    (inbox / "a.txt").symlink_to(inbox / "b.txt")
    (inbox / "b.txt").symlink_to(inbox / "a.txt")
    sent: list[list[str]] = []
    watcher = Watcher(inbox, ledger, sent.append, stable_seconds=0.0, rescan_seconds=60)
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run, args=(stop,), kwargs={"tick": 0.05})
    thread.start()
    try:
        fine = inbox / "after.txt"
        time.sleep(0.5)
        fine.write_text(_article(1))
        deadline = time.monotonic() + 20
        while [str(fine)] not in sent and time.monotonic() < deadline:
            time.sleep(0.1)
        assert thread.is_alive()
    finally:
        stop.set()
        thread.join(timeout=10)
    assert [str(fine)] in sent
    for name in ("a.txt", "b.txt"):
        entry = ledger.get(str(inbox / name))
        assert entry is not None and entry.state == FileState.QUARANTINED
        assert entry.reason == "symlink_loop"


def test_a_fifo_in_the_inbox_is_refused_not_read(
    settings: Settings, ledger: Ledger, clean_state: None
) -> None:
    fifo = settings.inbox / "pipe.txt"
    os.mkfifo(fifo)
    results = _queue([fifo], ledger, settings.inbox)  # reading it would block for ever
    assert results == {fifo: "quarantined"}
    entry = ledger.get(str(fifo))
    assert entry is not None and entry.reason == "not_a_file"


def test_a_non_utf8_file_name_is_indexed_and_shown_escaped(
    ctx: Context, settings: Settings, es: Elasticsearch
) -> None:
    raw = os.fsencode(settings.inbox) + b"/caf\xe9 report.txt"
    with open(raw, "w") as handle:
        handle.write(_article(2))
    path = Path(os.fsdecode(raw))
    assert _queue([path], ctx.ledger, settings.inbox) == {path: "queued"}
    assert process_files([str(path)], ctx).states[str(path)] == FileState.INDEXED
    [sources] = _indexed(es, settings.alias).values()
    assert sources == [f"{settings.inbox}/caf\\xe9 report.txt"]


def test_a_batch_whose_delivery_died_is_split_without_charging_its_files(
    ctx: Context, settings: Settings
) -> None:
    paths = []
    for n in range(4):
        path = settings.inbox / f"n{n}.txt"
        path.write_text(_article(n))
        paths.append(str(path))
    for path in paths:
        ctx.ledger.start_attempt(path, charge=False)  # a delivery that was killed mid-batch
    with pytest.raises(SplitBatch) as split:
        process_files(paths, ctx)
    assert split.value.paths == paths
    for path in paths:
        entry = ctx.ledger.get(path)
        assert entry is not None and entry.attempts == 0 and entry.state == FileState.QUEUED
    # Alone, each file is charged its own attempts (poison after DROPSIFT_MAX_ATTEMPTS).
    for _ in range(settings.max_attempts):
        ctx.ledger.start_attempt(paths[0])
    assert process_files([paths[0]], ctx).states[paths[0]] == FileState.QUARANTINED
    entry = ctx.ledger.get(paths[0])
    assert entry is not None and entry.reason == "poison"
    assert process_files(paths[1:2], ctx).states[paths[1]] == FileState.INDEXED


def test_a_file_another_task_holds_is_deferred_not_processed_twice(
    ctx: Context, settings: Settings
) -> None:
    held, free = settings.inbox / "held.txt", settings.inbox / "free.txt"
    held.write_text(_article(3))
    free.write_text(_article(4))
    assert ctx.ledger.lease(str(held), "another-task", 30)
    result = process_files([str(held), str(free)], ctx, holder="this-task")
    assert result.deferred == [str(held)]
    assert result.states == {str(free): FileState.INDEXED}
    entry = ctx.ledger.get(str(held))
    assert entry is None or entry.attempts == 0


def test_a_crash_between_the_bulk_request_and_the_ledger_leaves_no_orphan(
    ctx: Context, settings: Settings, es: Elasticsearch
) -> None:
    path = settings.inbox / "page.txt"
    path.write_text(_article(5))
    process_files([str(path)], ctx)
    # Version 2 is staged and indexed, then the worker dies before it records the outcome.
    path.write_text(_article(6))
    _index([_stage(str(path), ctx)], ctx)
    assert len(_indexed(es, settings.alias)) == 2
    # Version 3 arrives: both earlier documents go, whatever the ledger last said.
    path.write_text(_article(7))
    assert process_files([str(path)], ctx).states[str(path)] == FileState.INDEXED
    docs = _indexed(es, settings.alias)
    assert list(docs.values()) == [[str(path)]]
    assert list(docs) == [content_id(clean(_doc(path, settings)).body, CLEANER_VERSION)]


def _doc(path: Path, settings: Settings):  # type: ignore[no-untyped-def]
    return read_file(path, settings.max_file_bytes).documents[0]


def test_content_refused_by_elasticsearch_is_released_for_its_next_copy(
    ctx: Context, settings: Settings, es: Elasticsearch
) -> None:
    # An index that refuses documents of more than 127 words, as Elasticsearch refuses a
    # document that does not fit a mapping: a 400 for that item alone.
    alias = f"{settings.index_prefix}-strict"
    mappings = copy.deepcopy(MAPPINGS)
    mappings["properties"]["word_count"] = {"type": "byte"}
    es.indices.create(
        index=f"{alias}-v1", mappings=mappings, settings=SETTINGS, aliases={alias: {}}
    )
    try:
        ctx.sink = IndexSink(es, alias)
        first, copy_ = settings.inbox / "first.txt", settings.inbox / "copy.txt"
        long = " ".join(f"The ferry number {n} left the harbour." for n in range(40))
        first.write_text(f"{_article(8)}\n{long}\n")
        assert process_files([str(first)], ctx).states[str(first)] == FileState.QUARANTINED
        shutil.copy(first, copy_)
        # Before: a "duplicate" of a document that was never indexed. Now the copy owns the
        # content, and is refused with Elasticsearch's reason in its turn.
        assert process_files([str(copy_)], ctx).states[str(copy_)] == FileState.QUARANTINED
        for path in (first, copy_):
            entry = ctx.ledger.get(str(path))
            assert entry is not None and entry.reason == "index_rejected", entry
            assert "word_count" in entry.last_error
        assert (
            ctx.contents.sources(content_id(clean(_doc(first, settings)).body, CLEANER_VERSION))
            == []
        )
    finally:
        es.indices.delete(index=f"{alias}-v1")


def test_content_being_deleted_is_not_claimed_until_the_deletion_is_done(
    settings: Settings, redis_client: redis.Redis, clean_state: None
) -> None:
    contents = ContentRegistry(redis_client, settings.key_prefix)
    assert contents.claim("doc-1", "/inbox/a.txt").is_owner
    assert contents.release("doc-1", "/inbox/a.txt", mark="m1") == 0
    with pytest.raises(ContentBusy):  # a copy arriving while the document is deleted waits
        contents.claim("doc-1", "/inbox/b.txt")
    contents.deleted("doc-1", "m1")
    assert contents.claim("doc-1", "/inbox/b.txt").is_owner


def test_a_document_id_does_not_depend_on_the_sites_learned_boilerplate(
    ctx: Context, settings: Settings
) -> None:
    site = settings.inbox / "outlet"
    site.mkdir()
    footer = "The Harbour Gazette is printed in Portsmouth every weekday."
    early = site / "early.txt"
    early.write_text(f"{_article(100)}\n{footer}\n")
    process_files([str(early)], ctx)
    first = ctx.ledger.get(str(early))
    for n in range(8):  # the footer is learned as the site's boilerplate
        other = site / f"other{n}.txt"
        other.write_text(f"{_article(200 + n)}\n{footer}\n")
        process_files([str(other)], ctx)
    assert ctx.boilerplate.line_count("outlet", footer) >= 8
    again = site / "again.txt"
    shutil.copy(early, again)
    assert process_files([str(again)], ctx).states[str(again)] == FileState.DUPLICATE
    second = ctx.ledger.get(str(again))
    assert first is not None and second is not None and second.doc_id == first.doc_id


def test_messages_still_reach_the_queue_after_redis_lost_its_bindings(
    settings: Settings, redis_client: redis.Redis, clean_state: None
) -> None:
    # A queue of its own: no worker of the test session consumes from it.
    isolated = settings.model_copy(update={"index_prefix": f"{settings.index_prefix}-routing"})
    app = create_app(isolated)
    queue = isolated.index_prefix
    redis_client.delete(queue)
    app.send_task(compose.PROCESS_FILES, args=[["/first"]])
    # As after FLUSHALL or a restart without persistence: the routing tables are gone.
    redis_client.delete(*redis_client.keys(f"_kombu.binding*{queue}") or ["none"])
    app.send_task(compose.PROCESS_FILES, args=[["/second"]])
    assert redis_client.llen(queue) == 2
    redis_client.delete(queue)


def test_the_watcher_survives_redis_going_away(settings: Settings, clean_state: None) -> None:
    dead = redis.Redis.from_url("redis://127.0.0.1:1/0", decode_responses=True)
    (settings.inbox / "waiting.txt").write_text(_article(9))
    sent: list[list[str]] = []
    watcher = Watcher(
        settings.inbox, Ledger(dead, "x:"), sent.append, stable_seconds=0, rescan_seconds=0.2
    )
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run, args=(stop,), kwargs={"tick": 0.05})
    thread.start()
    time.sleep(2)
    alive = thread.is_alive()
    stop.set()
    thread.join(timeout=10)
    assert alive and not sent


def test_the_main_jobs_watcher_is_restarted_and_then_given_up_on(
    settings: Settings, tmp_path: Path
) -> None:
    from worker.cli import _WatcherThread

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    broken = settings.model_copy(update={"inbox": blocker / "inbox"})  # cannot be created
    stop = threading.Event()
    watcher = _WatcherThread(broken, stop, max_restarts=2)
    checks: list[bool] = []
    for _ in range(4):
        watcher.join(timeout=5)
        checks.append(watcher.check())
    stop.set()
    assert checks[:2] == [True, True] and checks[-1] is False
