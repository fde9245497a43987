"""Hand a file to the queue, unless the ledger says this content was already handled."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path

from worker.ledger import PROCESSING, QUEUED, TERMINAL, Ledger

# Names a producer uses while still writing; the file is picked up once renamed.
_TEMP_SUFFIXES = (".part", ".tmp", ".crdownload", ".swp", ".partial", "~")

Send = Callable[[str], None]


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


def submit(
    path: Path, ledger: Ledger, send: Send, *, root: Path | None = None, stale_after: float = 7200.0
) -> str:
    """Queue one file; returns "queued", "unchanged", "in_flight" or "quarantined".

    The ledger is written before the message is sent, and put back if sending fails, so a
    failed publish leaves nothing that looks queued: the caller keeps the file and retries.
    """
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
    try:
        send(key)
    except Exception as exc:
        ledger.publish_failed(key, f"{type(exc).__name__}: {exc}")
        raise
    return "queued"


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
