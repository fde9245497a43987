"""The per-file ledger in Redis: what happened to every file the watcher or an ingest saw."""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import redis

# Terminal states: the file needs nothing more until its content changes.
INDEXED, DUPLICATE, QUARANTINED, VANISHED = "indexed", "duplicate", "quarantined", "vanished"
DELETED = "deleted"
QUEUED, PROCESSING, PUBLISH_FAILED = "queued", "processing", "publish_failed"
TERMINAL = frozenset({INDEXED, DUPLICATE, QUARANTINED, VANISHED, DELETED})


def file_key_id(path: str) -> str:
    return hashlib.sha1(path.encode("utf-8", "surrogateescape")).hexdigest()


@dataclass(frozen=True)
class Entry:
    path: str
    state: str
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
    produced: tuple[tuple[str, str], ...] = ()
    """(source, document id) of every document the file's last version delivered."""
    updated_at: float = 0.0

    @classmethod
    def from_redis(cls, data: dict[str, str]) -> Entry:
        return cls(
            path=data.get("path", ""),
            state=data.get("state", ""),
            raw_hash=data.get("raw_hash", ""),
            size=int(data.get("size", -1)),
            mtime_ns=int(data.get("mtime_ns", -1)),
            attempts=int(data.get("attempts", 0)),
            reason=data.get("reason", ""),
            last_error=data.get("last_error", ""),
            doc_id=data.get("doc_id", ""),
            duplicate_of=data.get("duplicate_of", ""),
            items=data.get("items", ""),
            produced=tuple(tuple(pair) for pair in json.loads(data.get("produced") or "[]")),
            updated_at=float(data.get("updated_at", 0.0)),
        )


class Ledger:
    """File path -> state, content hash, attempts and last error, kept in Redis."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.r = client
        self.prefix = prefix

    def key_of(self, path: str) -> str:
        """The Redis hash that holds a file's entry."""
        return f"{self.prefix}file:{file_key_id(path)}"

    def _key(self, path: str) -> str:
        return self.key_of(path)

    @property
    def _index_key(self) -> str:
        return f"{self.prefix}files"

    def get(self, path: str) -> Entry | None:
        data = self.r.hgetall(self._key(path))
        return Entry.from_redis(data) if data else None  # type: ignore[arg-type]

    def _write(self, path: str, **fields: Any) -> None:
        fields["updated_at"] = time.time()
        fields["path"] = path
        pipe = self.r.pipeline()
        pipe.hset(self._key(path), mapping={k: str(v) for k, v in fields.items()})
        pipe.sadd(self._index_key, self._key(path))
        pipe.execute()

    def queued(self, path: str, raw_hash: str, size: int, mtime_ns: int) -> None:
        """A version of the file was handed to the queue; a new version starts from zero."""
        previous = self.get(path)
        fields: dict[str, Any] = {
            "state": QUEUED,
            "raw_hash": raw_hash,
            "size": size,
            "mtime_ns": mtime_ns,
        }
        if previous is None or previous.raw_hash != raw_hash:
            fields.update(
                attempts=0, reason="", last_error="", doc_id="", duplicate_of="", items=""
            )
        self._write(path, **fields)

    def seen_unchanged(self, path: str, size: int, mtime_ns: int) -> None:
        """Same content under a new mtime: remember the stat so the next scan skips it."""
        self._write(path, size=size, mtime_ns=mtime_ns)

    def publish_failed(self, path: str, error: str) -> None:
        """Sending to the queue failed: forget the stat so the next scan tries again."""
        self._write(path, state=PUBLISH_FAILED, size=-1, mtime_ns=-1, last_error=error[:2000])

    def start_attempt(self, path: str) -> int:
        """Count a delivery before the work starts, so a crash mid-task still counts."""
        pipe = self.r.pipeline()
        pipe.hincrby(self._key(path), "attempts", 1)
        pipe.hset(
            self._key(path),
            mapping={"state": PROCESSING, "path": path, "updated_at": str(time.time())},
        )
        pipe.sadd(self._index_key, self._key(path))
        attempts, *_ = pipe.execute()
        return int(attempts)

    def forgive_attempt(self, path: str, error: str) -> None:
        """A failure that was not the file's fault (a service was down) does not count."""
        self.r.hincrby(self._key(path), "attempts", -1)
        self._write(path, state=QUEUED, last_error=error[:2000])

    def record_error(self, path: str, error: str) -> None:
        self._write(path, last_error=error[:2000])

    def finish(self, path: str, state: str, **fields: Any) -> None:
        assert state in TERMINAL, state
        self._write(path, state=state, **fields)

    def set_produced(self, path: str, produced: list[tuple[str, str]]) -> None:
        """What the file's current version delivered; kept until the next version replaces it."""
        self.r.hset(self._key(path), "produced", json.dumps(sorted(produced)))

    def quarantine(self, path: str, reason: str, error: str) -> None:
        self.finish(path, QUARANTINED, reason=reason, last_error=error[:2000])

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
        return Counter(entry.state for entry in self.entries())
