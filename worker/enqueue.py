"""Hand a file to the queue, unless the ledger says this content was already handled."""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path

from worker.ledger import PROCESSING, QUEUED, TERMINAL, Ledger

# Names a producer uses while still writing; the file is picked up once renamed.
_TEMP_SUFFIXES = (".part", ".tmp", ".crdownload", ".swp", ".partial", "~")

Send = Callable[[list[str]], None]
"""Publishes one batch of paths as one task."""


def is_ignored(path: Path, root: Path) -> bool:
    """Temp names and dotfiles (anywhere under the root) are never queued."""
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        parts = (path.name,)
    if any(part.startswith(".") for part in parts):
        return True
    return path.name.lower().endswith(_TEMP_SUFFIXES)


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _decide(path: Path, ledger: Ledger, root: Path | None, stale_after: float) -> str:
    """ "send", or why not: "unchanged", "in_flight", "quarantined". Writes the ledger."""
    key = str(path)
    if root is not None and path.is_symlink():
        target = path.resolve()
        if not target.is_relative_to(root.resolve()):
            ledger.quarantine(key, "symlink_outside_inbox", f"points to {target}")
            return "quarantined"
    st = path.stat()
    entry = ledger.get(key)
    if (
        entry
        and entry.state in TERMINAL
        and entry.size == st.st_size
        and entry.mtime_ns == st.st_mtime_ns
    ):
        return "unchanged"
    raw_hash = file_hash(path)
    if entry and entry.raw_hash == raw_hash:
        if entry.state in TERMINAL:
            ledger.seen_unchanged(key, st.st_size, st.st_mtime_ns)
            return "unchanged"
        if entry.state in (QUEUED, PROCESSING) and time.time() - entry.updated_at < stale_after:
            return "in_flight"
    ledger.queued(key, raw_hash, st.st_size, st.st_mtime_ns)
    return "send"


def submit_many(
    paths: list[Path],
    ledger: Ledger,
    send: Send,
    *,
    root: Path | None = None,
    stale_after: float = 7200.0,
    batch_size: int = 16,
) -> tuple[dict[Path, str], dict[Path, Exception]]:
    """Queue files in batches; returns each file's result and the files that failed.

    Results are "queued", "unchanged", "in_flight" or "quarantined". The ledger says "queued"
    before a batch is sent and is put back if sending fails, so a failed publish leaves
    nothing that looks queued: the caller keeps the failed files and tries again.
    """
    results: dict[Path, str] = {}
    failed: dict[Path, Exception] = {}
    to_send: list[Path] = []
    for path in paths:
        try:
            decision = _decide(path, ledger, root, stale_after)
        except Exception as exc:
            failed[path] = exc
            continue
        if decision == "send":
            to_send.append(path)
        else:
            results[path] = decision
    for start in range(0, len(to_send), batch_size):
        chunk = to_send[start : start + batch_size]
        try:
            send([str(p) for p in chunk])
        except Exception as exc:
            for path in chunk:
                failed[path] = exc
                # If Redis itself is down this fails too; the stale check covers that case.
                with contextlib.suppress(Exception):
                    ledger.publish_failed(str(path), f"{type(exc).__name__}: {exc}")
            continue
        results.update(dict.fromkeys(chunk, "queued"))
    return results, failed


def submit(
    path: Path, ledger: Ledger, send: Send, *, root: Path | None = None, stale_after: float = 7200.0
) -> str:
    """Queue one file (see submit_many); raises what made it fail."""
    results, failed = submit_many([path], ledger, send, root=root, stale_after=stale_after)
    if path in failed:
        raise failed[path]
    return results[path]


def walk(root: Path) -> list[Path]:
    """Every candidate file under root (or root itself), without following directory links."""
    if root.is_file() or (root.is_symlink() and not root.is_dir()):
        return [root]
    found: list[Path] = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        base = Path(folder)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = base / name
            if not is_ignored(path, root):
                found.append(path)
    return found
