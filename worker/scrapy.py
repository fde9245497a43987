"""Scrapy, first class: what a Scrapy project adds to its settings.py to feed dropsift.

Two ways, one line of settings each (the README shows them):

- `DropsiftPipeline`, an item pipeline that pushes items in batches to `POST /api/documents`
  (for a crawler on another machine);
- `AtomicFileFeedStorage`, a feed storage for local files (`FEED_STORAGES`) that writes each
  feed under a temporary name and renames it into place when the batch closes, so the inbox
  only ever sees whole files.

Scrapy's own local FEEDS (appending JSON Lines in place) need nothing: dropsift reads a growing
JSON Lines file as it grows. Only Scrapy and urllib3 are needed here.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import urllib3
from itemadapter import ItemAdapter
from scrapy.extensions.feedexport import FileFeedStorage
from scrapy.spiders import Spider
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread
from urllib3.util.retry import Retry

# Scrapy users read Scrapy's log: these lines belong there, not in a log of dropsift's own.
log = logging.getLogger(__name__)

_RETRY_STATUSES = (429, 500, 502, 503, 504)


class DropsiftPipeline:
    """Push scraped items to dropsift in batches, with retries; every refusal is logged.

    Settings: `DROPSIFT_PUSH_URL` (the API's base URL, required), `DROPSIFT_API_KEY`,
    `DROPSIFT_PUSH_BATCH_ITEMS` (100), `DROPSIFT_PUSH_BATCH_BYTES` (8 MiB),
    `DROPSIFT_PUSH_RETRIES` (5), `DROPSIFT_PUSH_BACKOFF` (0.5 s, doubled per retry),
    `DROPSIFT_PUSH_TIMEOUT` (30 s).

    The buffer holds at most one batch: a full batch is sent (in a thread, the crawl goes on)
    before the item that filled it passes, so memory stays bounded on any crawl length.
    Server errors (5xx, 429) and lost connections are retried with exponential backoff; a
    batch too large for the server (413) is split in halves. Items still not accepted are
    logged with their URL and reason and counted in the stats (`dropsift/refused`,
    `dropsift/failed`), never dropped silently.
    """

    def __init__(
        self,
        url: str,
        key: str | None = None,
        *,
        batch_items: int = 100,
        batch_bytes: int = 8 * 1024 * 1024,
        retries: int = 5,
        backoff: float = 0.5,
        timeout: float = 30.0,
        stats: Any = None,
    ) -> None:
        self.endpoint = url.rstrip("/") + "/api/documents"
        self.headers = {"Content-Type": "application/json"}
        if key:
            self.headers["Authorization"] = f"Bearer {key}"
        self.batch_items = batch_items
        self.batch_bytes = batch_bytes
        self.stats = stats
        retry = Retry(
            total=retries,
            backoff_factor=backoff,
            status_forcelist=_RETRY_STATUSES,
            allowed_methods=None,  # POST too: a pushed item sent twice is a duplicate, not lost
            raise_on_status=False,
        )
        self.http = urllib3.PoolManager(retries=retry, timeout=urllib3.Timeout(total=timeout))
        self._buffer: list[bytes] = []
        self._size = 0

    @classmethod
    def from_crawler(cls, crawler: Any) -> DropsiftPipeline:
        settings = crawler.settings
        url = settings.get("DROPSIFT_PUSH_URL")
        if not url:
            raise ValueError("DropsiftPipeline needs DROPSIFT_PUSH_URL (the dropsift API)")
        return cls(
            url,
            settings.get("DROPSIFT_API_KEY"),
            batch_items=settings.getint("DROPSIFT_PUSH_BATCH_ITEMS", 100),
            batch_bytes=settings.getint("DROPSIFT_PUSH_BATCH_BYTES", 8 * 1024 * 1024),
            retries=settings.getint("DROPSIFT_PUSH_RETRIES", 5),
            backoff=settings.getfloat("DROPSIFT_PUSH_BACKOFF", 0.5),
            timeout=settings.getfloat("DROPSIFT_PUSH_TIMEOUT", 30.0),
            stats=crawler.stats,
        )

    async def process_item(self, item: Any) -> Any:
        encoded = json.dumps(ItemAdapter(item).asdict(), ensure_ascii=False, default=str)
        self._buffer.append(encoded.encode())
        self._size += len(self._buffer[-1]) + 1
        if len(self._buffer) >= self.batch_items or self._size >= self.batch_bytes:
            batch, self._buffer, self._size = self._buffer, [], 0
            await maybe_deferred_to_future(deferToThread(self.send, batch))
        return item

    async def close_spider(self) -> None:
        batch, self._buffer, self._size = self._buffer, [], 0
        if batch:
            await maybe_deferred_to_future(deferToThread(self.send, batch))

    def send(self, batch: Sequence[bytes]) -> None:
        """POST one batch; log and count what was accepted, refused or lost."""
        body = b"[" + b",".join(batch) + b"]"
        try:
            response = self.http.request(
                "POST", self.endpoint, body=body, headers=self.headers, retries=None
            )
        except urllib3.exceptions.HTTPError as exc:
            self._lost(batch, f"dropsift could not be reached: {exc}")
            return
        if response.status == 413 and len(batch) > 1:
            half = len(batch) // 2
            self.send(batch[:half])
            self.send(batch[half:])
            return
        try:
            answer = json.loads(response.data or b"{}")
        except ValueError:
            answer = {}
        if response.status not in (202, 422):
            detail = answer.get("detail") if isinstance(answer, dict) else None
            self._lost(batch, f"dropsift answered {response.status}: {detail or response.data!r}")
            return
        refused = [a for a in answer.get("items", []) if a.get("status") == "refused"]
        for refusal in refused:
            url = _url_of(batch[refusal["index"]])
            log.warning(
                "dropsift refused an item (%s: %s): %s",
                refusal.get("reason"),
                refusal.get("detail"),
                url,
            )
        self._count("dropsift/accepted", len(batch) - len(refused))
        self._count("dropsift/refused", len(refused))
        log.info(
            "dropsift accepted %d of %d items (push %s)",
            len(batch) - len(refused),
            len(batch),
            answer.get("push_id"),
        )

    def _lost(self, batch: Sequence[bytes], why: str) -> None:
        urls = ", ".join(_url_of(item) for item in batch[:5])
        more = f" and {len(batch) - 5} more" if len(batch) > 5 else ""
        log.error("%d items not delivered to dropsift (%s): %s%s", len(batch), why, urls, more)
        self._count("dropsift/failed", len(batch))

    def _count(self, key: str, n: int) -> None:
        if self.stats is not None and n:
            self.stats.inc_value(key, n)


def _url_of(encoded: bytes) -> str:
    try:
        item = json.loads(encoded)
    except ValueError:
        return "?"
    return str(item.get("url") or item.get("link") or "(no url)") if isinstance(item, dict) else "?"


class AtomicFileFeedStorage(FileFeedStorage):
    """Scrapy's local file storage, writing to a temporary name renamed when the batch closes.

    The temporary name is a dotfile ending in `.part`, which dropsift never reads; the
    rename is atomic, and the file and its folder are fsynced first. With `overwrite` off
    (Scrapy's default for files) an existing file is copied first and appended to, so the
    renamed file holds both.
    """

    def open(self, spider: Spider) -> IO[bytes]:
        final = Path(self.path)
        final.parent.mkdir(parents=True, exist_ok=True)
        self._final = final
        self._temp = final.with_name(f".{final.name}.{os.getpid()}.part")
        if self.write_mode == "ab":
            if final.exists():
                shutil.copyfile(final, self._temp)
            return self._temp.open("ab")
        return self._temp.open("wb")

    def store(self, file: IO[bytes]) -> None:
        file.flush()
        os.fsync(file.fileno())
        file.close()
        os.replace(self._temp, self._final)
        folder = os.open(self._final.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
        log.info("feed renamed into place: %s", self._final)
