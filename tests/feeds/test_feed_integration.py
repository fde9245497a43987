"""A growing JSON Lines feed through the door and the pipeline, on the real Redis and ES."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from worker.enqueue import submit_many
from worker.ingest import ingest
from worker.pipeline.batch import forget_files, process_files
from worker.pipeline.context import Context
from worker.pipeline.ledger import Ledger
from worker.settings import Settings
from worker.watcher import Watcher

pytestmark = pytest.mark.integration


def _door(path: Path, ledger: Ledger, root: Path) -> str:
    sent: list[list[str]] = []
    results, failed = submit_many([path], ledger, sent.append, root=root)
    assert not failed, failed
    return results[path]


def _pass(path: Path, ctx: Context, root: Path) -> str:
    """What the door decides, and the pass a worker makes when it sends the feed."""
    decision = _door(path, ctx.ledger, root)
    if decision == "queued":
        assert process_files([str(path)], ctx).states[str(path)] == "indexed"
    return decision


def _docs(es: Elasticsearch, alias: str) -> dict[str, dict]:
    """Every document by its source, with its _version."""
    es.indices.refresh(index=alias)
    hits = es.search(index=alias, size=1000, version=True)["hits"]["hits"]
    return {
        s: {**h["_source"], "_version": h["_version"]}
        for h in hits
        for s in h["_source"]["sources"]
    }


def _field(ctx: Context, path: Path, name: str) -> str:
    """A field of the file's ledger entry as Redis holds it."""
    return str(ctx.ledger.r.hget(ctx.ledger.key_of(str(path)), name))


def test_a_feed_appended_line_by_line_is_read_once_and_each_item_indexed_once(
    settings: Settings, ctx: Context, es: Elasticsearch, item: Callable[..., str]
) -> None:
    inbox = settings.inbox
    (inbox / "crawler").mkdir()
    feed = inbox / "crawler" / "items.jsonl"
    feed.write_text("")
    lines = [item(n) for n in range(1, 7)]
    decisions = []
    for line in lines:
        with feed.open("a") as handle:
            handle.write(line)
        decisions.append(_pass(feed, ctx, inbox))
    assert decisions == ["queued"] * 6

    docs = _docs(es, settings.alias)
    assert sorted(docs) == [f"{feed}#L{n}" for n in range(1, 7)]
    assert {d["_version"] for d in docs.values()} == {1}  # each document written once
    entry = ctx.ledger.get(str(feed))
    assert entry is not None and entry.feed is not None
    assert entry.items == "indexed: 6"
    assert (entry.feed.offset, entry.feed.lines) == (feed.stat().st_size, 6)
    # Every byte was read by exactly one pass: no pass re-read an earlier item.
    assert int(_field(ctx, feed, "feed_bytes_read")) == feed.stat().st_size
    assert int(_field(ctx, feed, "feed_passes")) == 6
    assert _door(feed, ctx.ledger, inbox) == "unchanged"


def test_a_partial_last_line_waits_for_its_end(
    settings: Settings, ctx: Context, es: Elasticsearch, item: Callable[..., str]
) -> None:
    feed = settings.inbox / "items.jsonl"
    first, second = item(1), item(2)
    feed.write_text(first + second[:40])
    assert _pass(feed, ctx, settings.inbox) == "queued"
    assert sorted(_docs(es, settings.alias)) == [f"{feed}#L1"]
    entry = ctx.ledger.get(str(feed))
    assert entry is not None and entry.feed is not None
    assert entry.feed.offset == len(first.encode())
    with feed.open("a") as handle:
        handle.write(second[40:60])
    assert _pass(feed, ctx, settings.inbox) == "unchanged"  # still no complete line
    with feed.open("a") as handle:
        handle.write(second[60:])
    assert _pass(feed, ctx, settings.inbox) == "queued"
    docs = _docs(es, settings.alias)
    assert sorted(docs) == [f"{feed}#L1", f"{feed}#L2"]
    assert ctx.ledger.get(f"{feed}#L2").state == "indexed"  # type: ignore[union-attr]
    # Only the unfinished line's first 40 bytes were read twice.
    assert int(_field(ctx, feed, "feed_bytes_read")) == feed.stat().st_size + 40


def test_a_last_line_without_newline_is_taken_once_and_its_newline_adds_nothing(
    settings: Settings, ctx: Context, es: Elasticsearch, item: Callable[..., str]
) -> None:
    feed = settings.inbox / "items.jsonl"
    feed.write_text(item(1) + item(2).rstrip("\n"))
    assert _pass(feed, ctx, settings.inbox) == "queued"
    with feed.open("a") as handle:
        handle.write("\n" + item(3))
    assert _pass(feed, ctx, settings.inbox) == "queued"
    docs = _docs(es, settings.alias)
    assert sorted(docs) == [f"{feed}#L{n}" for n in (1, 2, 3)]
    assert {d["_version"] for d in docs.values()} == {1}


def test_a_rewritten_feed_is_read_whole_and_items_no_longer_there_are_released(
    settings: Settings, ctx: Context, es: Elasticsearch, item: Callable[..., str]
) -> None:
    feed = settings.inbox / "items.jsonl"
    feed.write_text(item(1) + item(2) + item(3))
    assert _pass(feed, ctx, settings.inbox) == "queued"
    first = _docs(es, settings.alias)[f"{feed}#L1"]["doc_id"]
    # Truncated and written again from the start (a crawl run again with overwrite).
    feed.write_text(item(1) + item(4))
    assert _pass(feed, ctx, settings.inbox) == "queued"
    docs = _docs(es, settings.alias)
    assert sorted(docs) == [f"{feed}#L1", f"{feed}#L2"]
    assert "Item 4" in docs[f"{feed}#L2"]["title"]  # item 4's, not item 2's
    assert docs[f"{feed}#L1"]["doc_id"] == first  # the same item, the same document
    # Rewritten in place past the old end, its first item changed: whole again.
    feed.write_text(item(5) + item(4) + item(6))
    assert _pass(feed, ctx, settings.inbox) == "queued"
    docs = _docs(es, settings.alias)
    assert sorted(docs) == [f"{feed}#L{n}" for n in (1, 2, 3)]
    assert "Item 5" in docs[f"{feed}#L1"]["title"]
    entry = ctx.ledger.get(str(feed))
    assert entry is not None and entry.items == "indexed: 3"


def test_a_deleted_feed_added_back_is_read_whole(
    settings: Settings, ctx: Context, es: Elasticsearch, item: Callable[..., str]
) -> None:
    feed = settings.inbox / "items.jsonl"
    feed.write_text(item(1) + item(2))
    assert _pass(feed, ctx, settings.inbox) == "queued"
    feed.unlink()
    assert forget_files([str(feed)], ctx) == {str(feed): "deleted"}
    assert _docs(es, settings.alias) == {}
    feed.write_text(item(1) + item(2))
    assert _pass(feed, ctx, settings.inbox) == "queued"
    assert sorted(_docs(es, settings.alias)) == [f"{feed}#L1", f"{feed}#L2"]


def test_an_unclosed_json_array_waits_for_its_end(
    settings: Settings, ctx: Context, es: Elasticsearch, item: Callable[..., str]
) -> None:
    export = settings.inbox / "items.json"
    export.write_text("[\n" + item(1).rstrip("\n") + ",\n")
    assert _door(export, ctx.ledger, settings.inbox) == "incomplete"
    assert ctx.ledger.get(str(export)) is None
    with export.open("a") as handle:
        handle.write(item(2).rstrip("\n") + "\n]")
    assert _pass(export, ctx, settings.inbox) == "queued"
    assert sorted(_docs(es, settings.alias)) == [f"{export}#0", f"{export}#1"]


def test_bad_bytes_appended_refuse_their_line_and_not_the_feed(
    settings: Settings, ctx: Context, es: Elasticsearch, item: Callable[..., str]
) -> None:
    feed = settings.inbox / "items.jsonl"
    feed.write_text(item(1))
    assert _pass(feed, ctx, settings.inbox) == "queued"
    with feed.open("ab") as handle:
        handle.write(b'{"body": "\x00\xff\xfe broken"\n' + item(2).encode())
    assert _pass(feed, ctx, settings.inbox) == "queued"
    assert sorted(_docs(es, settings.alias)) == [f"{feed}#L1", f"{feed}#L3"]
    bad = ctx.ledger.get(f"{feed}#L2")
    assert bad is not None and (bad.state, bad.reason) == ("quarantined", "malformed_json")
    entry = ctx.ledger.get(str(feed))
    assert entry is not None and entry.items == "indexed: 2, quarantined: 1"


def test_ingest_does_not_wait_for_an_unclosed_json_array(
    settings: Settings, ctx: Context, item: Callable[..., str]
) -> None:
    export = settings.inbox / "items.json"
    export.write_text("[\n" + item(1).rstrip("\n") + ",\n")
    sent: list[list[str]] = []
    report = ingest(settings.inbox, ctx.ledger, sent.append, timeout=30, show_progress=False)
    assert (report.states, report.incomplete, sent) == ({"incomplete": 1}, {str(export)}, [])
    assert not report.timed_out


def test_the_watcher_sends_a_growing_feed_without_waiting_for_it_to_hold_still(
    settings: Settings, ctx: Context, item: Callable[..., str]
) -> None:
    sent: list[list[str]] = []
    watcher = Watcher(settings.inbox, ctx.ledger, sent.append, stable_seconds=60, rescan_seconds=60)
    feed, page = settings.inbox / "items.jsonl", settings.inbox / "page.txt"
    feed.write_text(item(1))
    page.write_text("A page still being written, which waits to hold still.")
    for path in (feed, page):
        watcher.note(path)
    watcher.settle()
    assert sent == [[str(feed)]]
    # Appended while its pass is in flight: kept, and sent once the pass is done.
    with feed.open("a") as handle:
        handle.write(item(2))
    watcher.note(feed)
    watcher.settle()
    assert sent == [[str(feed)]] and feed in watcher._pending
    assert process_files([str(feed)], ctx).states[str(feed)] == "indexed"  # lines 1 and 2
    with feed.open("a") as handle:
        handle.write(item(3))
    watcher._pending[feed].retry_at = 0
    watcher.settle()
    assert sent == [[str(feed)], [str(feed)]]
    assert feed not in watcher._pending
    assert process_files([str(feed)], ctx).states[str(feed)] == "indexed"
    entry = ctx.ledger.get(str(feed))
    assert entry is not None and entry.items == "indexed: 3"


def test_a_feed_larger_than_one_pass_is_read_in_passes_and_a_huge_line_refused_alone(
    settings: Settings,
    ctx: Context,
    es: Elasticsearch,
    item: Callable[..., str],
    resent: list[list[str]],
) -> None:
    ctx.config = dataclasses.replace(ctx.config, max_file_bytes=1500)
    feed = settings.inbox / "items.jsonl"
    huge = json.dumps({"title": "Huge", "body": "word " * 400}) + "\n"
    feed.write_text(item(1) + item(2) + item(3) + huge + item(5))
    assert _pass(feed, ctx, settings.inbox) == "queued"
    passes = 1
    while resent:  # what is left over is sent again as a task of its own
        assert resent.pop() == [str(feed)]
        assert process_files([str(feed)], ctx).states[str(feed)] == "indexed"
        passes += 1
    assert passes > 2
    assert sorted(_docs(es, settings.alias)) == [f"{feed}#L{n}" for n in (1, 2, 3, 5)]
    huge_entry = ctx.ledger.get(f"{feed}#L4")
    assert huge_entry is not None and huge_entry.reason == "too_large"
    entry = ctx.ledger.get(str(feed))
    assert entry is not None and entry.items == "indexed: 4, quarantined: 1"
    assert entry.feed is not None and entry.feed.offset == feed.stat().st_size
