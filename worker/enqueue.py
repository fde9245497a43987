"""Hand a file to the queue, unless the ledger says this content was already handled."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import time
from pathlib import Path

import redis

from worker.pipeline import feeds
from worker.pipeline.context import Send
from worker.pipeline.feeds import is_feed
from worker.pipeline.ledger import Ledger
from worker.pipeline.states import IN_FLIGHT

# Names a producer uses while still writing; the file is picked up once renamed.
_TEMP_SUFFIXES = (".part", ".tmp", ".crdownload", ".swp", ".partial", "~")

__all__ = ["RefusedAtDoor", "Send", "is_ignored", "submit_many", "walk"]


class RefusedAtDoor(Exception):
    """The file cannot be queued as it is (unreadable, a link loop, outside the inbox)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def _door_error(path: Path, exc: OSError) -> RefusedAtDoor:
    if exc.errno == errno.ELOOP:
        return RefusedAtDoor("symlink_loop", f"{path} is a loop of symbolic links")
    return RefusedAtDoor("unreadable", f"{type(exc).__name__}: {exc}")


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


def _check_link(path: Path, root: Path) -> None:
    """A link is followed only to a file inside the inbox."""
    try:
        target = path.resolve(strict=True)
    except RuntimeError as exc:  # Python < 3.13 reports a loop this way
        raise RefusedAtDoor("symlink_loop", f"{path} is a loop of symbolic links") from exc
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            raise FileNotFoundError(errno.ENOENT, "dangling link", str(path)) from exc
        raise _door_error(path, exc) from exc
    if not target.is_relative_to(root.resolve()):
        raise RefusedAtDoor("symlink_outside_inbox", f"points to {target}")


def _decide(path: Path, ledger: Ledger, root: Path | None, stale_after: float) -> str:
    """ "send", or why not: "unchanged", "in_flight", "incomplete". Writes the ledger.

    Raises RefusedAtDoor for a file that cannot be queued, FileNotFoundError for one gone.
    """
    key = str(path)
    if root is not None and path.is_symlink():
        _check_link(path, root)
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):  # a pipe or a device: reading it could block
            raise RefusedAtDoor("not_a_file", f"{path} is not a regular file")
        entry = ledger.get(key)
        if is_feed(path) and (decision := feeds.door(path, st, entry, ledger, stale_after)):
            return decision
        if path.suffix.lower() == ".json" and feeds.unclosed_array(path, st.st_size):
            return "incomplete"  # read once its writer closes it (a Scrapy feed at close)
        # Only a settled entry vouches for the content: a file deleted (or vanished) and
        # later added back, same name, same bytes, is new again.
        settled = entry is not None and entry.settled
        if settled and entry and (entry.size, entry.mtime_ns) == (st.st_size, st.st_mtime_ns):
            return "unchanged"
        raw_hash = file_hash(path)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise _door_error(path, exc) from exc
    if entry and entry.raw_hash == raw_hash:
        if settled:
            ledger.seen_unchanged(key, st.st_size, st.st_mtime_ns)
            return "unchanged"
        if entry.state in IN_FLIGHT and time.time() - entry.updated_at < stale_after:
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

    Results are "queued", "unchanged", "in_flight", "quarantined" or "vanished". A file that
    cannot be queued (unreadable, a link loop) is quarantined here with its reason. The ledger
    says "queued" before a batch is sent and is put back if sending fails, so a failed publish
    leaves nothing that looks queued: the caller keeps the failed files and tries again.
    """
    results: dict[Path, str] = {}
    failed: dict[Path, Exception] = {}
    to_send: list[Path] = []
    for path in paths:
        try:
            decision = _decide(path, ledger, root, stale_after)
        except RefusedAtDoor as refused:
            try:
                ledger.refused_at_door(str(path), refused.reason, refused.detail)
            except redis.RedisError as exc:
                failed[path] = exc
                continue
            results[path] = "quarantined"
            continue
        except FileNotFoundError:
            results[path] = "vanished"
            continue
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


def walk(root: Path) -> list[Path]:
    """Every candidate file under root (or root itself), without following directory links.

    A folder that cannot be listed is passed over (os.walk's default), never an error.
    """
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
