"""The per-file ledger in Redis: what happened to every file the watcher or an ingest saw."""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import redis

from tasks.redis_scripts import lua
from worker.pipeline.states import SETTLED, TERMINAL, FileState

# What a file delivered: (document source, document id) pairs.
Produced = tuple[tuple[str, str], ...]

_LEASE = lua(__name__, "lease")
_MARK_ENRICHED = lua(__name__, "mark_enriched")
_UNLEASE = lua(__name__, "unlease")


def file_key_id(path: str) -> str:
    return hashlib.sha1(path.encode("utf-8", "surrogateescape")).hexdigest()


@dataclass(frozen=True)
class FeedPosition:
    """How far a growing JSON Lines file has been consumed, and what came before."""

    offset: int
    """Bytes consumed: the end of the last complete line taken."""
    lines: int
    """Lines consumed (blank ones too): the next item is `L<lines + 1>`."""
    fingerprint: str
    """Of the consumed bytes (their length, first and last 4 KiB): a rewrite shows here."""
    open_line: bool = False
    """The last line taken had no newline yet (it parsed whole): its newline may follow."""

    @classmethod
    def from_redis(cls, data: dict[str, str]) -> FeedPosition | None:
        if not data.get("feed_fingerprint"):
            return None
        return cls(
            offset=int(data.get("feed_offset", 0)),
            lines=int(data.get("feed_lines", 0)),
            fingerprint=data["feed_fingerprint"],
            open_line=data.get("feed_open_line") == "1",
        )

    def to_redis(self) -> dict[str, str]:
        return {
            "feed_offset": str(self.offset),
            "feed_lines": str(self.lines),
            "feed_fingerprint": self.fingerprint,
            "feed_open_line": "1" if self.open_line else "0",
        }


@dataclass(frozen=True)
class Entry:
    path: str
    state: FileState
    raw_hash: str = ""
    size: int = -1
    mtime_ns: int = -1
    attempts: int = 0
    reason: str = ""
    last_error: str = ""
    doc_id: str = ""
    duplicate_of: str = ""
    items: str = ""
    """For a multi-item file (JSON feed): its items' outcomes, counted."""
    enrichment: str = ""
    """Phase 2 of the file's document: pending, enriched or failed ("" before phase 1 ends)."""
    enriched_at: float = 0.0
    produced: Produced = ()
    """(source, document id) of every document the file may have delivered: written before
    the documents are, so a crash in between never leaves one that nothing here names."""
    updated_at: float = 0.0
    feed: FeedPosition | None = None
    """For a JSON Lines feed: how far it has been read (worker.pipeline.feeds)."""

    @classmethod
    def from_redis(cls, data: dict[str, str]) -> Entry:
        return cls(
            path=data.get("path", ""),
            state=FileState(data.get("state") or FileState.QUEUED),
            raw_hash=data.get("raw_hash", ""),
            size=int(data.get("size", -1)),
            mtime_ns=int(data.get("mtime_ns", -1)),
            attempts=int(data.get("attempts", 0)),
            reason=data.get("reason", ""),
            last_error=data.get("last_error", ""),
            doc_id=data.get("doc_id", ""),
            duplicate_of=data.get("duplicate_of", ""),
            items=data.get("items", ""),
            enrichment=data.get("enrichment", ""),
            enriched_at=float(data.get("enriched_at") or 0.0),
            produced=tuple(tuple(pair) for pair in json.loads(data.get("produced") or "[]")),
            updated_at=float(data.get("updated_at", 0.0)),
            feed=FeedPosition.from_redis(data),
        )

    @property
    def settled(self) -> bool:
        return self.state in SETTLED


class Ledger:
    """File path -> state, content hash, attempts and last error, kept in Redis."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.r = client
        self.prefix = prefix
        self._deferred: redis.client.Pipeline | None = None
        self._lease = client.register_script(_LEASE)
        self._unlease = client.register_script(_UNLEASE)
        self._mark_enriched = client.register_script(_MARK_ENRICHED)

    def key_of(self, path: str) -> str:
        """The Redis hash that holds a file's entry."""
        return f"{self.prefix}file:{file_key_id(path)}"

    @property
    def _index_key(self) -> str:
        return f"{self.prefix}files"

    def get(self, path: str) -> Entry | None:
        data = self.r.hgetall(self.key_of(path))
        return Entry.from_redis(data) if data else None  # type: ignore[arg-type]

    def get_many(self, paths: Iterable[str]) -> dict[str, Entry]:
        """`get` of several files in one round trip (the unknown ones left out)."""
        names = list(paths)
        pipe = self.r.pipeline(transaction=False)
        for path in names:
            pipe.hgetall(self.key_of(path))
        found = pipe.execute() if names else []
        return {p: Entry.from_redis(d) for p, d in zip(names, found, strict=True) if d}

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Writes made inside are sent together at the end, in one round trip.

        For the end of a batch, whose writes are final states: a crash before they are sent
        leaves the files `processing`, and their redelivery does the (idempotent) work again.
        Sent also when the block fails: each write stands for work that was done.
        """
        self._deferred = self.r.pipeline(transaction=False)
        try:
            yield
        finally:
            pipe, self._deferred = self._deferred, None
            pipe.execute()

    def _pipe(self) -> tuple[redis.client.Pipeline, bool]:
        """The deferred pipeline, or a new one to send now (then True)."""
        if self._deferred is not None:
            return self._deferred, False
        return self.r.pipeline(transaction=False), True

    def _write(self, path: str, **fields: Any) -> None:
        fields["updated_at"] = time.time()
        fields["path"] = path
        pipe, now = self._pipe()
        pipe.hset(self.key_of(path), mapping={k: str(v) for k, v in fields.items()})
        pipe.sadd(self._index_key, self.key_of(path))
        if now:
            pipe.execute()

    # --- the watcher's side ---------------------------------------------------------------

    def queued(self, path: str, raw_hash: str, size: int, mtime_ns: int) -> None:
        """A version of the file was handed to the queue.

        New content, or a file back after it ended (deleted, vanished, quarantined), starts
        from zero attempts; a re-send of the same version in flight keeps its count.
        """
        previous = self.get(path)
        fields: dict[str, Any] = {
            "state": FileState.QUEUED,
            "raw_hash": raw_hash,
            "size": size,
            "mtime_ns": mtime_ns,
        }
        if previous is None or previous.raw_hash != raw_hash or previous.state in TERMINAL:
            fields.update(
                attempts=0,
                reason="",
                last_error="",
                doc_id="",
                duplicate_of="",
                items="",
                enrichment="",
                enriched_at=0.0,
            )
        self._write(path, **fields)

    def seen_unchanged(self, path: str, size: int, mtime_ns: int) -> None:
        """Same content under a new mtime: remember the stat so the next scan skips it."""
        self._write(path, size=size, mtime_ns=mtime_ns)

    def publish_failed(self, path: str, error: str) -> None:
        """Sending to the queue failed: forget the stat so the next scan tries again."""
        self._write(
            path, state=FileState.PUBLISH_FAILED, size=-1, mtime_ns=-1, last_error=error[:2000]
        )

    def refused_at_door(self, path: str, reason: str, detail: str) -> None:
        """Quarantined before it was queued (unreadable, a link loop, outside the inbox).

        The stat is forgotten, so the file is looked at again at every scan: it may be
        readable by then.
        """
        self._write(
            path,
            state=FileState.QUARANTINED,
            reason=reason,
            last_error=detail[:2000],
            size=-1,
            mtime_ns=-1,
        )

    # --- the worker's side ----------------------------------------------------------------

    def lease(self, path: str, holder: str, seconds: float) -> bool:
        """Only one task works on a file at a time: two versions in flight are never mixed."""
        return bool(self._lease(keys=[self._lease_key(path)], args=[holder, int(seconds * 1000)]))

    def unlease(self, path: str, holder: str) -> None:
        self._unlease(keys=[self._lease_key(path)], args=[holder])

    def lease_many(self, paths: Sequence[str], holder: str, seconds: float) -> list[bool]:
        """`lease` of several files in one round trip."""
        pipe = self.r.pipeline(transaction=False)
        for path in paths:
            self._lease(
                keys=[self._lease_key(path)], args=[holder, int(seconds * 1000)], client=pipe
            )
        return [bool(x) for x in pipe.execute()] if paths else []

    def unlease_many(self, paths: Sequence[str], holder: str) -> None:
        pipe = self.r.pipeline(transaction=False)
        for path in paths:
            self._unlease(keys=[self._lease_key(path)], args=[holder], client=pipe)
        if paths:
            pipe.execute()

    def _lease_key(self, path: str) -> str:
        return f"{self.prefix}lease:{file_key_id(path)}"

    def start_attempt(self, path: str, *, charge: bool = True) -> tuple[int, FileState | None]:
        """Mark the file processing; returns its attempts and the state it was in.

        A charged attempt is counted before the work starts, so a crash mid-task still
        counts. A previous state of `processing` means the last attempt never finished.
        """
        return self.start_attempts([path], charge=charge)[path]

    def start_attempts(
        self, paths: Sequence[str], *, charge: bool = True
    ) -> dict[str, tuple[int, FileState | None]]:
        """`start_attempt` of several files in one round trip."""
        pipe = self.r.pipeline()
        now = str(time.time())
        for path in paths:
            key = self.key_of(path)
            pipe.hget(key, "state")
            pipe.hincrby(key, "attempts", 1 if charge else 0)
            pipe.hset(key, mapping={"state": FileState.PROCESSING, "path": path, "updated_at": now})
            pipe.sadd(self._index_key, key)
        replies = pipe.execute() if paths else []
        out = {}
        for i, path in enumerate(paths):
            before, attempts = replies[4 * i], replies[4 * i + 1]
            out[path] = (int(attempts), FileState(before) if before else None)
        return out

    def forgive_attempt(self, path: str, error: str, *, charged: bool = True) -> None:
        """A failure that was not the file's fault (a service was down) does not count."""
        if charged:
            self.r.hincrby(self.key_of(path), "attempts", -1)
        self._write(path, state=FileState.QUEUED, last_error=error[:2000])

    def record_error(self, path: str, error: str) -> None:
        self._write(path, last_error=error[:2000])

    def plan(
        self,
        path: str,
        produced: Iterable[tuple[str, str]],
        *,
        known: Iterable[tuple[str, str]] | None = None,
        pipe: redis.client.Pipeline | None = None,
    ) -> None:
        """Before documents are written: the file may deliver these too (write-ahead).

        `known`: what the entry names already, as just read; `pipe`: queue the write there,
        to be sent ahead of what it announces (the claims) in the same round trip.
        """
        if known is None:
            entry = self.get(path)
            known = entry.produced if entry else ()
        known = set(known)
        wanted = known | set(produced)
        if wanted != known:
            self.set_produced(path, wanted, pipe=pipe)

    def finish(self, path: str, state: FileState, **fields: Any) -> None:
        assert state in TERMINAL, state
        if state != FileState.INDEXED:
            # No document of its own to enrich: a `pending` written for an attempt that
            # indexed one (expect_enrichment) does not outlive it.
            fields.setdefault("enrichment", "")
            fields.setdefault("enriched_at", 0.0)
        self._write(path, state=state, **fields)

    def set_produced(
        self,
        path: str,
        produced: Iterable[tuple[str, str]],
        pipe: redis.client.Pipeline | None = None,
    ) -> None:
        """What the file's current version delivered; kept until the next version replaces it."""
        target, now = (pipe, False) if pipe is not None else self._pipe()
        target.hset(self.key_of(path), "produced", json.dumps(sorted(produced)))
        target.delete(self._appended_key(path))
        if now:
            target.execute()

    def add_produced(self, path: str, produced: Iterable[tuple[str, str]]) -> None:
        """What lines appended to a feed deliver, added without rewriting the earlier ones.

        Kept beside the entry (source -> document id), so a pass costs what it adds.
        """
        pairs = dict(produced)
        if pairs:
            self.r.hset(self._appended_key(path), mapping={s: d for s, d in pairs.items()})

    def produced(self, path: str) -> Produced:
        """Everything the file may have delivered: its version's list and what appends added."""
        pipe = self.r.pipeline(transaction=False)
        pipe.hget(self.key_of(path), "produced")
        pipe.hgetall(self._appended_key(path))
        listed, appended = pipe.execute()
        pairs: set[tuple[str, str]] = {(s, d) for s, d in json.loads(listed or "[]")}
        pairs.update(appended.items())
        return tuple(sorted(pairs))

    def _appended_key(self, path: str) -> str:
        return f"{self.prefix}appended:{file_key_id(path)}"

    def expect_enrichment(self, documents: Iterable[tuple[str, str]]) -> None:
        """Before phase 2 hears of them: each source's entry names its document, phase 2
        pending, in one round trip.

        Phase 2 may end before phase 1 has written the rest of its end; its outcome is kept
        only where the entry names the document it enriched, so the entry must say so first.
        """
        pipe = self.r.pipeline(transaction=False)
        for source, doc_id in documents:
            pipe.hset(
                self.key_of(source),
                mapping={
                    "path": source,
                    "doc_id": doc_id,
                    "enrichment": "pending",
                    "enriched_at": 0,
                },
            )
        pipe.execute()

    def mark_enriched(
        self, sources: dict[str, list[str]], state: str, when: float | None = None
    ) -> None:
        """Phase 2's outcome (enriched, failed) on the entries of each document's sources
        (the entries of its copies, recorded as duplicates, are left as they are)."""
        when = time.time() if when is None else when
        pipe = self.r.pipeline(transaction=False)
        for doc_id, names in sources.items():
            for source in names:
                self._mark_enriched(
                    keys=[self.key_of(source)], args=[doc_id, state, str(when)], client=pipe
                )
        pipe.execute()

    def quarantine(self, path: str, reason: str, error: str, **fields: Any) -> None:
        self.finish(path, FileState.QUARANTINED, reason=reason, last_error=error[:2000], **fields)

    # --- reading ----------------------------------------------------------------------------

    def entries(self, chunk: int = 500) -> Iterator[Entry]:
        """Every file's entry, read `chunk` at a time in one round trip each."""
        keys: list[str] = []
        for key in self.r.sscan_iter(self._index_key, count=chunk):
            keys.append(key)
            if len(keys) >= chunk:
                yield from self._read(keys)
                keys = []
        yield from self._read(keys)

    def _read(self, keys: list[str]) -> Iterator[Entry]:
        pipe = self.r.pipeline(transaction=False)
        for key in keys:
            pipe.hgetall(key)
        for data in pipe.execute() if keys else []:
            if data:
                yield Entry.from_redis(data)

    def summary(self) -> Counter[str]:
        return Counter(str(entry.state) for entry in self.entries())
