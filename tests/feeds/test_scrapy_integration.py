"""A real Scrapy crawl of a local site into dropsift, three ways: its own local FEEDS written
in place, the shipped item pipeline (HTTP push), and the shipped atomic feed storage.

Each ends with every crawled page indexed exactly once (the crawl's manifest against a scan
of the index), the first page's document written once, and titles without the site's name.
Scrapy runs in a subprocess: its reactor does not restart within one process.
"""

from __future__ import annotations

import functools
import json
import re
import socket
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from elasticsearch import Elasticsearch
from lxml.html import fromstring
from pydantic import SecretStr

from bench.html_quality import default_data_dir, dropsift_body, load_pages, split_dir
from tests.support.procs import WorkerProcess
from tests.support.waiting import wait_for
from worker import compose
from worker.pipeline.ledger import Entry, Ledger
from worker.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.integration

PAGES_PER_CRAWL = 16
KEY = "scrapy-test-key"


@functools.cache
def _pages() -> list[tuple[str, str]]:
    """(id, html) of the dev split's pages that make a document, sorted by id."""
    data = default_data_dir()
    if not split_dir(data).is_dir():
        pytest.fail(f"the article-extraction dev split is not under {data} (DROPSIFT_BENCH_DATA)")
    return [(p.id, p.html) for p in load_pages(data) if dropsift_body(p).strip()]


class _Quiet(SimpleHTTPRequestHandler):
    extensions_map = {".html": "text/html; charset=utf-8"}  # noqa: RUF012

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A local site of real news pages (a slice of its own per test): (start URL, pages)."""
    part = int(request.node.get_closest_marker("pages").args[0])
    chosen = _pages()[part * PAGES_PER_CRAWL : (part + 1) * PAGES_PER_CRAWL]
    assert len(chosen) == PAGES_PER_CRAWL
    root = tmp_path / "site"
    root.mkdir()
    links = "".join(f'<a href="/{pid[:16]}.html">{pid[:16]}</a>\n' for pid, _ in chosen)
    (root / "index.html").write_text(f"<html><body>{links}</body></html>")
    for pid, html in chosen:
        (root / f"{pid[:16]}.html").write_text(html, encoding="utf-8")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=root))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    yield f"{base}/index.html", {f"{base}/{pid[:16]}.html": html for pid, html in chosen}
    server.shutdown()


@dataclass
class Crawl:
    """The stack a crawl feeds (a worker, a watcher on the inbox) and the site it crawls."""

    inbox: Path
    start: str
    pages: dict[str, str]
    manifest: Path

    def run(self, settings: dict[str, Any]) -> str:
        """Crawl with a Scrapy user's settings; returns Scrapy's log."""
        return _crawl(self.start, settings, self.manifest)

    def check(self, es: Elasticsearch, alias: str) -> None:
        urls = _urls(self.manifest)
        _check(_wait_indexed(es, alias, urls), urls, self.pages)


@pytest.fixture
def crawl(
    running_worker: WorkerProcess,
    watcher_thread: tuple[Path, Any],
    site: tuple[str, dict[str, str]],
    tmp_path: Path,
) -> Crawl:
    return Crawl(watcher_thread[0], *site, tmp_path / "manifest.jsonl")


def _crawl(start: str, settings: dict[str, Any], manifest: Path) -> str:
    """Run the spider with a user's settings; returns its log. The manifest lists its items."""
    feeds = {**settings.get("FEEDS", {}), str(manifest): {"format": "jsonlines", "fields": ["url"]}}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.feeds.scrapy_crawl",
            start,
            json.dumps({**settings, "FEEDS": feeds}),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stderr


def _urls(manifest: Path) -> list[str]:
    return [json.loads(line)["url"] for line in manifest.read_text().splitlines() if line]


def _index(es: Elasticsearch, alias: str) -> list[dict[str, Any]]:
    es.indices.refresh(index=alias)
    hits = es.search(index=alias, size=1000, version=True)["hits"]["hits"]
    return [{**h["_source"], "_version": h["_version"]} for h in hits]


def _wait_indexed(es: Elasticsearch, alias: str, urls: list[str]) -> list[dict[str, Any]]:
    def all_there() -> list[dict[str, Any]] | None:
        docs = _index(es, alias)
        return docs if {d["url"] for d in docs} >= set(urls) else None

    return wait_for(all_there, 180, every=1.0, what=f"{len(urls)} crawled pages in the index")  # type: ignore[no-any-return]


def _check(docs: list[dict[str, Any]], urls: list[str], pages: dict[str, str]) -> None:
    """Every crawled page indexed exactly once, the first written once, titles clean."""
    assert len(urls) == len(pages) == PAGES_PER_CRAWL
    assert Counter(d["url"] for d in docs) == Counter(list(pages))  # each page once, no more
    first = next(d for d in docs if d["url"] == urls[0])
    # Written once by phase 1, and once more by phase 2 when it has enriched it in place.
    assert first["_version"] == 1 + int(bool(first.get("enriched")))
    by_url = {d["url"]: d for d in docs}
    suffixed = 0
    for url, html in pages.items():
        tree = fromstring(html)
        page_title = " ".join((tree.findtext(".//title") or "").split())
        names = tree.xpath('//meta[@property="og:site_name"]/@content')
        title = by_url[url]["title"]
        assert title and title.strip()
        name = names[0].strip() if names else ""
        affix = re.compile(rf"\s[-|–—]\s+{re.escape(name)}$", re.IGNORECASE)
        if name and affix.search(page_title):
            suffixed += 1
            assert not affix.search(title), (title, name)
            assert " ".join(by_url[url]["title_original"].split()) == page_title
    assert suffixed >= 3  # the premise: these pages' <title>s carry their site's name


def _done(ledger: Ledger, path: Path) -> Entry | None:
    entry = ledger.get(str(path))
    return entry if entry is not None and entry.state == "indexed" else None


@pytest.mark.pages(0)
def test_scrapys_own_feed_written_slowly_in_place(
    settings: Settings, es: Elasticsearch, ledger: Ledger, crawl: Crawl
) -> None:
    feed = crawl.inbox / "crawler" / "items.jsonl"
    crawl.run({"FEEDS": {str(feed): {"format": "jsonlines"}}, "DOWNLOAD_DELAY": 0.4})
    crawl.check(es, settings.alias)

    def settled() -> Entry | None:
        entry = _done(ledger, feed)
        read_all = entry is not None and entry.feed and entry.feed.offset == feed.stat().st_size
        return entry if read_all else None

    entry = wait_for(settled, 60, what="the feed to be read to its end")
    assert entry.items == f"indexed: {PAGES_PER_CRAWL}"
    stats = ledger.r.hmget(ledger.key_of(str(feed)), ["feed_passes", "feed_bytes_read"])
    passes, read = int(stats[0]), int(stats[1])
    assert passes > 1  # read while it grew, not once at the end
    # Each pass read what was appended since the last, plus at most one unfinished line.
    longest = max(len(line) for line in feed.read_bytes().splitlines(keepends=True))
    assert feed.stat().st_size <= read <= feed.stat().st_size + passes * longest


@pytest.mark.pages(1)
def test_the_shipped_pipeline_pushes_batches_over_http(
    settings: Settings, es: Elasticsearch, crawl: Crawl
) -> None:
    keyed = settings.model_copy(update={"api_key": SecretStr(KEY)})
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(compose.api_app(keyed), host="127.0.0.1", port=port, log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 30, what="the API to listen")
    try:
        log = crawl.run(
            {
                "ITEM_PIPELINES": {"worker.scrapy.DropsiftPipeline": 300},
                "DROPSIFT_PUSH_URL": f"http://127.0.0.1:{port}",
                "DROPSIFT_API_KEY": KEY,
                "DROPSIFT_PUSH_BATCH_ITEMS": 5,  # 16 pages: three full batches, one at close
            }
        )
        crawl.check(es, settings.alias)
        assert log.count("dropsift accepted 5 of 5 items") == 3
        assert "dropsift accepted 1 of 1 items" in log
        assert "'dropsift/accepted': 16" in log
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.mark.pages(2)
def test_the_shipped_atomic_storage_renames_each_batch_into_place(
    settings: Settings, es: Elasticsearch, ledger: Ledger, crawl: Crawl
) -> None:
    folder = crawl.inbox / "atomic"
    storage = "worker.scrapy.AtomicFileFeedStorage"
    crawl.run(
        {
            "FEED_STORAGES": {"": storage, "file": storage},
            "FEEDS": {
                str(folder / "items-%(batch_id)d.jsonl"): {
                    "format": "jsonlines",
                    "batch_item_count": 6,
                }
            },
            "DOWNLOAD_DELAY": 0.2,
        }
    )
    crawl.check(es, settings.alias)
    files = sorted(folder.iterdir())
    assert [f.name for f in files] == ["items-1.jsonl", "items-2.jsonl", "items-3.jsonl"]
    for path in files:  # each file whole when it appeared: read once, in one pass
        entry = wait_for(lambda p=path: _done(ledger, p), 30, what=f"{path.name} to be done")
        assert ledger.r.hget(ledger.key_of(str(path)), "feed_passes") == "1"
        assert entry.feed is not None and entry.feed.offset == path.stat().st_size
