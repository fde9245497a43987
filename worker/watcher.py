"""The inbox watcher: inotify events as hints, a startup scan and a periodic rescan as truth.

A file is queued once its size and mtime have held still for DROPSIFT_STABLE_SECONDS (a JSON
Lines feed as soon as it changes: its complete lines can be read while it grows); a file
whose publish fails stays pending and is tried again, so nothing is dropped while Redis is away.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import structlog
from celery.utils.time import get_exponential_backoff_interval
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from tasks.source import ItemRef
from worker.enqueue import Send, is_ignored, submit_many, walk
from worker.pipeline.feeds import is_feed
from worker.pipeline.ledger import Ledger
from worker.pipeline.states import FileState

log = structlog.get_logger(__name__)


@dataclass
class _Pending:
    size: int
    mtime_ns: int
    changed_at: float
    retry_at: float = 0.0
    failures: int = 0


class _Hints(FileSystemEventHandler):
    def __init__(self, note: Callable[[Path, bool], None]) -> None:
        self.note = note

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            return
        for attr in ("dest_path", "src_path"):
            path = getattr(event, attr, "")
            if path:
                # A rename's target is complete: renaming into place is how a writer says so.
                complete = attr == "dest_path" and event.event_type == "moved"
                self.note(Path(path if isinstance(path, str) else path.decode()), complete)


class Watcher:
    def __init__(
        self,
        inbox: Path,
        ledger: Ledger,
        send: Send,
        *,
        stable_seconds: float,
        rescan_seconds: float,
        stale_after: float = 7200.0,
        batch_size: int = 16,
        forget: Send | None = None,
    ) -> None:
        self.inbox = inbox.resolve()
        self.ledger = ledger
        self.send = send
        self.stable_seconds = stable_seconds
        self.rescan_seconds = rescan_seconds
        self.stale_after = stale_after
        self.batch_size = batch_size
        self.forget = forget
        """Sends deleted files to be forgotten; None leaves deletions alone."""
        self._pending: dict[Path, _Pending] = {}
        self._lock = threading.Lock()
        self.queued = 0

    def note(self, path: Path, complete: bool = False) -> None:
        """A hint that a path may have changed; it is looked at once it holds still.

        A file renamed into place (`complete`) is queued at the next tick, unless it
        changes meanwhile: the wait for it to hold still is for files written in place.
        """
        if is_ignored(path, self.inbox):
            return
        now = time.monotonic()
        try:
            st = path.stat() if complete else None
        except OSError:
            st = None
        with self._lock:
            if st is not None:
                self._pending[path] = _Pending(
                    st.st_size, st.st_mtime_ns, now - self.stable_seconds
                )
            else:
                self._pending.setdefault(path, _Pending(-2, -2, now))

    def scan(self) -> int:
        """Note every file in the inbox, and every file the ledger knows that is gone."""
        files = walk(self.inbox)
        for path in files:
            self.note(path)
        gone = self._deleted(set(files))
        log.info("watcher_scan", inbox=str(self.inbox), files=len(files), deleted=len(gone))
        return len(files)

    def _deleted(self, present: set[Path]) -> list[str]:
        """Ledger entries under the inbox whose file no longer exists: sent to be forgotten."""
        if self.forget is None:
            return []
        root = f"{self.inbox}{os.sep}"
        gone = [
            e.path
            for e in self.ledger.entries()
            if e.path.startswith(root)
            and not ItemRef.parse(e.path).is_item
            and e.state not in (FileState.DELETED, FileState.VANISHED)
            and Path(e.path) not in present
            and not os.path.lexists(e.path)
        ]
        for start in range(0, len(gone), self.batch_size):
            self.forget(gone[start : start + self.batch_size])
        return gone

    def settle(self) -> None:
        """Queue pending files whose size and mtime have stopped changing."""
        now = time.monotonic()
        with self._lock:
            items = list(self._pending.items())
        ready: list[Path] = []
        vanished: list[Path] = []
        for path, pending in items:
            if now < pending.retry_at:
                continue
            try:
                st = path.stat()
            except FileNotFoundError:
                if os.path.lexists(path):  # a dangling link: the door says what it is
                    ready.append(path)
                else:
                    self._drop(path)
                    vanished.append(path)
                continue
            except OSError:
                # A link loop, no permission: the door quarantines it with the reason.
                ready.append(path)
                continue
            # A feed's complete lines can be read while it grows: it does not wait to hold still.
            waits = not is_feed(path)
            if (st.st_size, st.st_mtime_ns) != (pending.size, pending.mtime_ns):
                pending.size, pending.mtime_ns, pending.changed_at = (
                    st.st_size,
                    st.st_mtime_ns,
                    now,
                )
                if waits:
                    continue
            if waits and now - pending.changed_at < self.stable_seconds:
                continue
            ready.append(path)
        if vanished and self.forget is not None:
            known = [str(p) for p in vanished if self.ledger.get(str(p)) is not None]
            if known:
                try:
                    self.forget(known)
                except Exception as error:  # the periodic scan finds them again
                    log.warning("watcher_forget_failed", files=len(known), error=repr(error)[:300])
        if not ready:
            return
        results, failed = submit_many(
            ready,
            self.ledger,
            self.send,
            root=self.inbox,
            stale_after=self.stale_after,
            batch_size=self.batch_size,
        )
        for path, result in results.items():
            waiting = self._pending.get(path)
            if result == "in_flight" and is_feed(path) and waiting is not None:
                # Lines appended while a pass runs are sent once it is done.
                waiting.retry_at = now + max(self.stable_seconds, 0.2)
                continue
            self._drop(path)
            if result == "queued":
                self.queued += 1
        queued = sum(r == "queued" for r in results.values())
        if queued:
            log.info("files_queued", queued=queued, skipped=len(results) - queued)
        for path, exc in failed.items():
            if isinstance(exc, FileNotFoundError):
                self._drop(path)
                continue
            waiting = self._pending.get(path)
            if waiting is None:
                continue
            waiting.failures += 1
            delay = get_exponential_backoff_interval(1, waiting.failures, 30, True) + 0.1
            waiting.retry_at = now + delay
            log.warning(
                "watcher_publish_failed", path=str(path), error=repr(exc)[:300], retry_in_s=delay
            )

    def _drop(self, path: Path) -> None:
        with self._lock:
            self._pending.pop(path, None)

    def run(self, stop: threading.Event, tick: float = 0.1) -> None:
        self.inbox.mkdir(parents=True, exist_ok=True)
        observer = Observer()
        observer.schedule(_Hints(self.note), str(self.inbox), recursive=True)
        observer.start()
        log.info("watcher_started", inbox=str(self.inbox))
        try:
            next_scan = 0.0
            failures = 0
            while not stop.is_set():
                try:
                    if time.monotonic() >= next_scan:
                        next_scan = time.monotonic() + self.rescan_seconds
                        self.scan()
                    self.settle()
                    failures = 0
                except Exception as exc:
                    # Redis away, a folder gone mid-scan: the files stay where they are, and
                    # the next scan finds them. The watcher itself never stops for it.
                    failures += 1
                    delay = get_exponential_backoff_interval(1, failures, 10, False)
                    log.warning("watcher_error", error=repr(exc)[:300], retry_in_s=delay)
                    next_scan = 0.0
                    stop.wait(delay)
                stop.wait(tick)
        finally:
            observer.stop()
            observer.join(timeout=5)
            log.info("watcher_stopped", queued=self.queued)
