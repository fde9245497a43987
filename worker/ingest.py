"""One-shot backfill through the queue, with progress, and the wait for its outcome."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from worker.enqueue import Send, submit_many, walk
from worker.pipeline.ledger import Entry, Ledger
from worker.pipeline.states import TERMINAL

log = structlog.get_logger(__name__)


@dataclass
class IngestReport:
    files: int = 0
    submitted: Counter[str] = field(default_factory=Counter)
    """queued / unchanged / in_flight / incomplete / quarantined / vanished, as submitted."""
    states: Counter[str] = field(default_factory=Counter)
    """The final ledger state of every file."""
    entries: list[Entry] = field(default_factory=list)
    timed_out: bool = False
    not_queued: dict[str, str] = field(default_factory=dict)
    """Files that could not be queued (the queue stayed away), with the error."""
    incomplete: set[str] = field(default_factory=set)
    """JSON arrays not closed yet: read once they are."""
    seconds: float = 0.0


def ingest(
    root: Path,
    ledger: Ledger,
    send: Send,
    *,
    timeout: float = 600.0,
    show_progress: bool = True,
    batch_size: int = 16,
    on_tick: Callable[[], None] | None = None,
) -> IngestReport:
    """Queue every file under root and wait until each reaches a terminal state."""
    started = time.monotonic()
    root = root.resolve()
    paths = walk(root)
    report = IngestReport(files=len(paths))
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[states]}"),
        TimeElapsedColumn(),
        disable=not show_progress,
    )
    with progress:
        bar = progress.add_task("queueing  ", total=len(paths), states="")
        for start in range(0, len(paths), 256):
            chunk = paths[start : start + 256]
            results, failed = submit_many(chunk, ledger, send, root=root, batch_size=batch_size)
            for attempt in range(1, 6):  # a short outage of the queue: try those again
                if not failed:
                    break
                time.sleep(0.5 * attempt)
                retried, failed = submit_many(
                    list(failed), ledger, send, root=root, batch_size=batch_size
                )
                results.update(retried)
            for path, exc in failed.items():
                report.not_queued[str(path)] = f"{type(exc).__name__}: {exc}"
                log.warning("ingest_not_queued", path=str(path), error=repr(exc)[:300])
            report.submitted.update(results.values())
            report.incomplete.update(str(p) for p, r in results.items() if r == "incomplete")
            progress.advance(bar, len(chunk))
        bar = progress.add_task("processing", total=len(paths), states="")
        # An unclosed JSON array is read once its writer closes it: nothing to wait for now.
        incomplete = {str(p) for p in paths if str(p) in report.incomplete}
        waiting = {str(p) for p in paths} - set(report.not_queued) - incomplete
        done: dict[str, Entry] = {}
        deadline = started + timeout
        while waiting:
            for key in list(waiting):
                entry = ledger.get(key)
                if entry is not None and entry.state in TERMINAL:
                    done[key] = entry
                    waiting.discard(key)
            states = Counter(e.state for e in done.values())
            progress.update(
                bar,
                completed=len(done),
                states=" ".join(f"{k}={v}" for k, v in sorted(states.items())),
            )
            if on_tick:
                on_tick()
            if not waiting:
                break
            if time.monotonic() > deadline:
                report.timed_out = True
                log.warning("ingest_timeout", waiting=len(waiting))
                break
            time.sleep(0.2)
    report.entries = sorted(done.values(), key=lambda e: e.path)
    report.states = Counter(e.state for e in report.entries)
    if report.timed_out:
        report.states["not_finished"] = len(waiting)
    if report.not_queued:
        report.states["not_queued"] = len(report.not_queued)
    if report.incomplete:
        report.states["incomplete"] = len(report.incomplete)
    report.seconds = time.monotonic() - started
    log.info(
        "ingest_done",
        root=str(root),
        files=report.files,
        **report.states,
        seconds=round(report.seconds, 2),
    )
    return report
