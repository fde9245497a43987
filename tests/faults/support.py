"""The fault suite's harness: a private Redis, real worker and watcher processes, verification.

Every scenario is checked the same way: a manifest of what went in (each file's body carries
a unique marker), a point-in-time scan of the whole index once the faults are over, and the
lost, unexpected and duplicated counts printed and asserted zero.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis
from elasticsearch import Elasticsearch

from search.client import make_client
from search.events import drop_events
from search.index import drop_all
from tasks.enrichers import split_phases
from tests.faults.proxy import FaultProxy
from tests.support.procs import Service
from tests.support.waiting import wait_for
from worker.pipeline.ledger import Ledger
from worker.settings import Settings

ES_URL = os.environ.get("DROPSIFT_TEST_ES_URL", "http://127.0.0.1:9200")
# Phase 1's enrichers and a cheap one of phase 2 (keywords), so every scenario runs both
# phases and its verdict checks that each document was enriched too.
FAST_ENRICHERS = ["language", "stats", "summary", "keywords"]
HEAL_SECONDS = float(os.environ.get("DROPSIFT_FAULT_HEAL_SECONDS", "120"))
# A ledger that is final everywhere and an index that has not changed for this long will not
# heal by itself: longer than the visibility timeout, after which lost messages come back.
SETTLED_SECONDS = 40.0
FINAL = frozenset({"indexed", "duplicate", "quarantined", "vanished", "deleted"})
DELIVERED = frozenset({"indexed", "duplicate"})
REPORT: list[str] = []
"""Every scenario's FAULT line, printed again at the end of the run."""


def note(line: str) -> None:
    """A figure for the end-of-run summary (and the test's own output)."""
    REPORT.append(line)
    print(line)


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, str(default)))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, every: float = 0.2) -> Any:
    """wait_for, with what it waits for said in third place (as the scenarios read)."""
    return wait_for(predicate, timeout, every=every, what=what)


# --- the ledger: read here and nowhere else -------------------------------------------------


@dataclass(frozen=True)
class LedgerRow:
    state: str
    reason: str
    attempts: int
    last_error: str
    enrichment: str = ""


def read_ledger(
    client: redis.Redis, prefix: str, paths: list[str] | None = None
) -> dict[str, LedgerRow]:
    """The ledger's rows for these paths (all rows when None); a path with none is left out."""
    ledger = Ledger(client, f"{prefix}:")
    if paths is None or len(paths) > 200:
        entries: Iterable[Any] = ledger.entries()
    else:
        entries = (e for e in map(ledger.get, paths) if e is not None)
    return {
        e.path: LedgerRow(e.state, e.reason, e.attempts, e.last_error, e.enrichment)
        for e in entries
    }


# --- a private Redis ------------------------------------------------------------------------


class RedisServer:
    """Debian's redis-server on a free port with its own folder; append-only unless told not."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self._client: redis.Redis | None = None
        folder.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        """One client for the test's own reads; it reconnects after a restart by itself."""
        if self._client is None:
            self._client = redis.Redis(port=self.port, decode_responses=True, socket_timeout=10)
        return self._client

    def start(self, persist: bool = True) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder)]
        args += ["--save", "", "--appendonly", "yes" if persist else "no"]
        args += ["--logfile", str(self.folder / "redis.log")]
        self.proc = subprocess.Popen(args, start_new_session=True)

        def answers() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                pytest.fail(f"redis-server exited with {self.proc.returncode}")
            try:
                return bool(self.client().ping())
            except redis.RedisError:
                return False

        wait_until(answers, 30, "the private Redis to answer")

    def stop(self) -> None:
        """SIGTERM: with append-only persistence, what it held comes back on the next start."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def restart_empty(self) -> None:
        """Stop it and start it again without persistence: it comes back with nothing."""
        self.stop()
        self.start(persist=False)

    def flushall(self) -> None:
        self.client().flushall()


# --- real dropsift processes ----------------------------------------------------------------


def _children_of(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


class Process(Service):
    """`python -m worker.cli <args>` in its own process group, logging to a file."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path, ready: bytes) -> None:
        super().__init__(args, env, log_path)
        self.args = args
        self.ready = ready

    def start(self, timeout: float = 90.0) -> None:  # type: ignore[override]
        super().start(self.ready, timeout)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def children(self) -> list[int]:
        """A Celery worker's pool: the children of the Celery main process, which `dropsift
        worker` runs as its own child (it starts it again should it die)."""
        [*supervised] = _children_of(self.pid)
        if self.args and self.args[0] == "worker" and len(supervised) == 1:
            return _children_of(supervised[0])
        return supervised

    def events(self, name: str) -> list[dict[str, Any]]:
        """The JSON log events called `name`."""
        found = []
        for line in self.text().splitlines():
            if line.startswith("{") and f'"{name}"' in line:
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if event.get("event") == name:
                    found.append(event)
        return found


class RssSampler:
    """Samples the resident memory of a process and its children from /proc, in a thread."""

    def __init__(self, process: Process, every: float = 0.2) -> None:
        self.process = process
        self.every = every
        self.peak_one_kib = 0
        self.peak_total_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _rss_kib(pid: int) -> int:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.process.alive():
                sizes = [self._rss_kib(p) for p in [self.process.pid, *self.process.children()]]
                self.peak_one_kib = max(self.peak_one_kib, *sizes)
                self.peak_total_kib = max(self.peak_total_kib, sum(sizes))
            self._stop.wait(self.every)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


# --- what goes in ---------------------------------------------------------------------------

_WORDS = [
    "harbour",
    "council",
    "river",
    "market",
    "winter",
    "budget",
    "station",
    "school",
    "bridge",
    "festival",
    "railway",
    "hospital",
    "museum",
    "garden",
    "library",
    "airport",
    "factory",
    "village",
    "mountain",
    "election",
    "engineer",
    "teacher",
    "farmer",
    "doctor",
    "minister",
    "weather",
    "forecast",
    "traffic",
    "contract",
    "report",
    "project",
    "building",
    "concert",
    "theatre",
    "stadium",
    "island",
    "valley",
    "forest",
    "coast",
    "desert",
    "harvest",
    "energy",
    "water",
    "transport",
    "housing",
    "science",
    "research",
    "history",
    "culture",
    "economy",
    "industry",
    "tourism",
    "planning",
    "district",
    "committee",
    "meeting",
    "decision",
    "proposal",
    "community",
    "resident",
    "visitor",
    "morning",
    "evening",
    "summer",
    "autumn",
    "spring",
    "yesterday",
    "tomorrow",
    "quickly",
    "slowly",
    "carefully",
    "announced",
    "discussed",
    "approved",
    "rejected",
    "opened",
    "closed",
    "reported",
    "expected",
    "increased",
    "reduced",
    "measured",
    "recorded",
    "published",
    "delivered",
    "repaired",
    "visited",
    "described",
    "improved",
]


def new_marker() -> str:
    return f"mfz{uuid.uuid4().hex[:16]}"


def article(marker: str, paragraphs: int = 3, seed: int | None = None) -> str:
    """A plain-text article whose body carries `marker` in every paragraph; no two alike."""
    rng = random.Random(seed if seed is not None else marker)
    parts = [f"Notes on the {rng.choice(_WORDS)} {marker}", ""]
    for _ in range(paragraphs):
        words = [rng.choice(_WORDS) for _ in range(45)]
        words.insert(rng.randrange(5, 40), marker)
        words[0] = words[0].capitalize()
        parts += [" ".join(words) + ".", ""]
    return "\n".join(parts)


@dataclass
class Manifest:
    """What went in: every file that must be searchable, each with the marker its body holds."""

    files: dict[str, str] = field(default_factory=dict)
    """Path -> marker; two paths share a marker when they hold the same content."""
    quarantined: dict[str, str] = field(default_factory=dict)
    """Path -> the quarantine reason the ledger must give."""
    deleted: set[str] = field(default_factory=set)
    """Paths deleted from the inbox: the ledger must say so."""
    enrich_failed: set[str] = field(default_factory=set)
    """Paths whose phase 2 must be given up (searchable, not enriched, ledger `failed`)."""

    def __len__(self) -> int:
        return len(self.files) + len(self.quarantined)


class Inbox:
    """Writes files into the inbox the way producers are told to: a hidden name, then rename."""

    def __init__(self, root: Path, manifest: Manifest) -> None:
        self.root = root
        self.manifest = manifest
        self.staging = root / ".staging"
        self.staging.mkdir(parents=True, exist_ok=True)

    def path(self, name: str) -> Path:
        return self.root / name

    def stage(self, name: str, text: str) -> Path:
        tmp = self.staging / name.replace("/", "__")
        tmp.write_text(text, encoding="utf-8")
        return tmp

    def place(self, name: str, tmp: Path) -> Path:
        target = self.path(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(tmp, target)
        return target

    def drop(self, name: str, text: str, marker: str | None) -> Path:
        """Write then rename; `marker` None: a file not expected in the index."""
        target = self.place(name, self.stage(name, text))
        if marker is not None:
            self.manifest.files[str(target)] = marker
            self.manifest.deleted.discard(str(target))
        return target

    def drop_many(self, count: int, prefix: str = "doc", folders: int = 1) -> list[Path]:
        """`count` distinct articles, all written first, then renamed in as fast as possible."""
        staged = []
        for i in range(count):
            marker = new_marker()
            name = (
                f"f{i % folders:02d}/{prefix}-{i:05d}.txt"
                if folders > 1
                else f"{prefix}-{i:05d}.txt"
            )
            staged.append((name, self.stage(name, article(marker, paragraphs=2)), marker))
        placed = []
        for name, tmp, marker in staged:
            target = self.place(name, tmp)
            self.manifest.files[str(target)] = marker
            placed.append(target)
        return placed

    def delete(self, path: Path) -> None:
        path.unlink()
        self.manifest.files.pop(str(path), None)
        self.manifest.deleted.add(str(path))


# --- what came out --------------------------------------------------------------------------


@dataclass(frozen=True)
class Doc:
    doc_id: str
    sources: tuple[str, ...]
    body: str
    enriched: bool = False


def scan_index(es: Elasticsearch, alias: str) -> list[Doc]:
    """Every document of the alias, read with a point in time and search_after."""
    es.indices.refresh(index=alias)
    pit = es.open_point_in_time(index=alias, keep_alive="1m")["id"]
    docs: list[Doc] = []
    after: list[Any] | None = None
    try:
        while True:
            page = es.search(
                pit={"id": pit, "keep_alive": "1m"},
                size=1000,
                sort=[{"_shard_doc": "asc"}],
                source_includes=["sources", "body", "enriched"],
                track_total_hits=False,
                **({"search_after": after} if after else {}),
            )
            hits = page["hits"]["hits"]
            if not hits:
                return docs
            pit = page.get("pit_id", pit)
            for hit in hits:
                source = hit.get("_source", {})
                docs.append(
                    Doc(
                        hit["_id"],
                        tuple(source.get("sources") or ()),
                        source.get("body", ""),
                        bool(source.get("enriched")),
                    )
                )
            after = hits[-1]["sort"]
    finally:
        es.close_point_in_time(id=pit)


@dataclass
class Verdict:
    lost: list[str] = field(default_factory=list)
    unexpected: list[Doc] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    unsettled: list[str] = field(default_factory=list)
    """Paths whose ledger state is not the expected final one."""
    unenriched: list[str] = field(default_factory=list)
    """Paths whose document phase 2 has not enriched (or enriched one it should give up)."""
    pending: int = 0
    """How many of those have no final state yet (still on their way)."""

    @property
    def clean(self) -> bool:
        return not (
            self.lost or self.unexpected or self.duplicated or self.unsettled or self.unenriched
        )

    def key(self) -> tuple[Any, ...]:
        return (
            sorted(self.lost),
            sorted(d.doc_id for d in self.unexpected),
            sorted(self.duplicated),
            sorted(self.unsettled),
            sorted(self.unenriched),
        )


MARKER = re.compile(r"mfz[0-9a-f]{16}")


def compare(manifest: Manifest, docs: list[Doc], phase2: bool = False) -> Verdict:
    """Lost, unexpected and duplicated, from the manifest and the scanned documents; with
    `phase2`, also the files whose document is not enriched as the manifest says."""
    verdict = Verdict()
    by_id = {doc.doc_id: doc for doc in docs}
    by_marker: dict[str, list[str]] = defaultdict(list)
    by_source: dict[str, list[str]] = defaultdict(list)
    for doc in docs:
        for marker in set(MARKER.findall(doc.body)):
            by_marker[marker].append(doc.doc_id)
        for source in doc.sources:
            by_source[source].append(doc.doc_id)
    for path, marker in manifest.files.items():
        if path not in by_source or marker not in by_marker:
            verdict.lost.append(path)
        elif len(by_source[path]) > 1 or len(by_marker[marker]) > 1:
            verdict.duplicated.append(path)
        elif phase2 and by_id[by_source[path][0]].enriched == (path in manifest.enrich_failed):
            verdict.unenriched.append(path)
    verdict.unexpected = [d for d in docs if not any(s in manifest.files for s in d.sources)]
    return verdict


class Stack:
    """One scenario's world: private Redis, fault proxy, inbox, index prefix, processes."""

    def __init__(self, root: Path, enrichers: list[str] | None = None) -> None:
        self.root = root
        self.prefix = f"faults-{uuid.uuid4().hex[:10]}"
        self.alias = f"{self.prefix}-docs"
        self.inbox_dir = root / "inbox"
        self.inbox_dir.mkdir(parents=True)
        self.manifest = Manifest()
        self.inbox = Inbox(self.inbox_dir, self.manifest)
        self.enrichers = enrichers or FAST_ENRICHERS
        self.phase2 = bool(split_phases(self.enrichers)[1])
        self.redis_server = RedisServer(root / "redis")
        self.redis_server.start()
        es_url = urlsplit(ES_URL)
        try:
            self.proxy = FaultProxy(es_url.hostname or "127.0.0.1", es_url.port or 9200).start()
        except BaseException:
            self.redis_server.stop()  # its own session: nothing else would end it
            raise
        self.es = make_client(ES_URL, request_timeout=60)
        self.processes: list[Process] = []
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("DROPSIFT_")},
            "DROPSIFT_REDIS_URL": self.redis_server.url,
            "DROPSIFT_ES_URL": self.proxy.url,
            "DROPSIFT_INDEX_PREFIX": self.prefix,
            "DROPSIFT_STATE_DIR": str(root / "state"),
            "DROPSIFT_INBOX": str(self.inbox_dir),
            "DROPSIFT_RESCAN_SECONDS": "2",
            "DROPSIFT_STABLE_SECONDS": "0.3",
            "DROPSIFT_VISIBILITY_TIMEOUT": "30",
            "DROPSIFT_TASK_TIME_LIMIT": "25",
            "DROPSIFT_MAX_ATTEMPTS": "3",
            "DROPSIFT_BULK_BACKOFF_SECONDS": "0.1",
            "DROPSIFT_LOG_FORMAT": "json",
            "DROPSIFT_ENRICHERS": json.dumps(self.enrichers),
            # Several workers at once, on a machine that may run others: no metrics ports.
            "DROPSIFT_WORKER_METRICS_PORT": "0",
        }

    @property
    def redis(self) -> redis.Redis:
        return self.redis_server.client()

    def settings(self) -> Settings:
        """The settings the processes run with, for sending a task by hand."""
        return Settings(
            redis_url=self.redis_server.url,
            es_url=self.proxy.url,
            index_prefix=self.prefix,
            state_dir=self.root / "state",
            inbox=self.inbox_dir,
            visibility_timeout=30,
            task_time_limit=25,
            enrichers=self.enrichers,
        )

    def _process(self, args: list[str], ready: bytes, start: bool) -> Process:
        log_path = self.root / f"{args[0]}-{len(self.processes)}.log"
        process = Process(args, self.env, log_path, ready)
        self.processes.append(process)
        if start:
            process.start()
        return process

    def worker(self, concurrency: int = 2, start: bool = True, phase: str = "all") -> Process:
        """A real Celery worker (prefork pool of `concurrency` children) of one phase or both."""
        args = ["worker", "--concurrency", str(concurrency), "--phase", phase]
        return self._process(args, b" ready.", start)

    def watcher(self, start: bool = True) -> Process:
        """A real inbox watcher."""
        return self._process(["watch"], b"watcher_started", start)

    def ledger(self, paths: list[str] | None = None) -> dict[str, LedgerRow]:
        return read_ledger(self.redis, self.prefix, paths)

    def count_states(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        try:
            for row in self.ledger().values():
                counts[row.state] += 1
        except redis.RedisError:
            pass
        return dict(counts)

    def wait_states(self, state: str, at_least: int, timeout: float = 120.0) -> None:
        """Until at least `at_least` files are in `state` (to strike under load)."""
        wait_until(
            lambda: self.count_states().get(state, 0) >= at_least,
            timeout,
            f"{at_least} files {state}",
            every=0.1,
        )

    def _unsettled(self) -> tuple[list[str], int]:
        m = self.manifest
        paths = [*m.files, *m.quarantined, *m.deleted]
        rows = self.ledger(paths)
        pending = sum(p not in rows or rows[p].state not in FINAL for p in paths)
        wrong = []
        for path in m.files:
            if path not in rows or rows[path].state not in DELIVERED:
                wrong.append(path)
            elif self.phase2 and rows[path].state == "indexed":
                # Searchable; phase 2 must end too, as the manifest says.
                enrichment = rows[path].enrichment
                expected = "failed" if path in m.enrich_failed else "enriched"
                if enrichment != expected:
                    wrong.append(path)
                    pending += enrichment not in ("enriched", "failed")
        for path, reason in m.quarantined.items():
            row = rows.get(path)
            if row is None or (row.state, row.reason) != ("quarantined", reason):
                wrong.append(path)
        for path in m.deleted:
            if path not in rows or rows[path].state != "deleted":
                wrong.append(path)
        return wrong, pending

    def verdict(self, final_scan: bool = False) -> Verdict:
        try:
            unsettled, pending = self._unsettled()
        except redis.RedisError as exc:
            return Verdict(unsettled=[f"ledger unreadable: {exc!r}"], pending=1)
        if pending and not final_scan:
            # Files still on their way: the index cannot match yet (and a scan is not free).
            return Verdict(unsettled=unsettled, pending=pending)
        verdict = compare(self.manifest, scan_index(self.es, self.alias), self.phase2)
        verdict.unsettled, verdict.pending = unsettled, pending
        return verdict

    def _wait_clean(self, timeout: float) -> Verdict:
        """Poll until the ledger is final and the index matches, or it stops changing."""
        deadline = time.monotonic() + timeout
        last_key: tuple[Any, ...] | None = None
        steady_since = time.monotonic()
        while True:
            verdict = self.verdict()
            if verdict.clean:
                return verdict
            now = time.monotonic()
            if verdict.key() != last_key:
                last_key, steady_since = verdict.key(), now
            if now > deadline or (not verdict.pending and now - steady_since > SETTLED_SECONDS):
                return self.verdict(final_scan=True) if verdict.pending else verdict
            time.sleep(1.0)

    def settle(self, timeout: float = 120.0) -> None:
        """Wait until what went in so far is in the index (a step before the fault)."""
        verdict = self._wait_clean(timeout)
        if not verdict.clean:
            pytest.fail(f"not settled before the fault\n{self.explain(verdict)}")

    def heal(self, name: str, fault_end: float, timeout: float | None = None) -> Verdict:
        """Wait until the ledger is final and the index matches the manifest; assert it did.

        Prints the scenario's FAULT line either way, with the seconds from `fault_end`.
        """
        verdict = self._wait_clean(timeout if timeout is not None else HEAL_SECONDS)
        heal_s = time.monotonic() - fault_end
        line = (
            f"FAULT {name} files={len(self.manifest)} lost={len(verdict.lost)} "
            f"unexpected={len(verdict.unexpected)} duplicated={len(verdict.duplicated)} "
            f"unenriched={len(verdict.unenriched)} heal_s={heal_s:.1f}"
        )
        if not verdict.clean:
            line += f" unsettled={len(verdict.unsettled)} FAILED"
        note(line)
        if not verdict.clean:
            pytest.fail(f"{line}\n{self.explain(verdict)}")
        return verdict

    def explain(self, verdict: Verdict, limit: int = 8) -> str:
        """The first few lost, duplicated, unexpected and unsettled files, with their rows."""
        paths = [
            *verdict.lost[:limit],
            *verdict.duplicated[:limit],
            *verdict.unsettled[:limit],
            *verdict.unenriched[:limit],
        ]
        try:
            rows = self.ledger([p for p in paths if p.startswith("/")])
        except redis.RedisError:
            rows = {}
        lines = []
        for title, items in (
            ("lost", verdict.lost),
            ("duplicated", verdict.duplicated),
            ("unsettled", verdict.unsettled),
            ("unenriched", verdict.unenriched),
        ):
            for path in items[:limit]:
                lines.append(f"  {title}: {path} ledger={rows.get(path)}")
        for doc in verdict.unexpected[:limit]:
            lines.append(f"  unexpected: {doc.doc_id} sources={list(doc.sources)}")
        for process in self.processes:
            state = "alive" if process.alive() else "not running"
            lines.append(f"--- {process.log_path} ({state}), last lines:\n{process.tail(15)}")
        return "\n".join(lines)

    def close(self) -> None:
        for process in self.processes:
            with contextlib.suppress(Exception):
                process.kill()
        self.proxy.stop()
        self.redis_server.stop()
        try:
            drop_all(self.es, self.alias)
            drop_events(self.es, self.prefix)
        finally:
            self.es.close()
