"""JSON Lines feeds read like a log: each pass reads only what was appended since the last.

A scraper's feed export (Scrapy's local FEEDS) writes the final file in place, one line per
item. The ledger keeps how far a feed was consumed (the end of its last complete line) and a
fingerprint of the bytes before that point. A pass checks the fingerprint, reads from the
offset, takes the complete lines and leaves a partial last line for the next pass. A feed
whose consumed part changed (rewritten, truncated) is read whole as a new version, and what
its earlier version delivered and this one does not is released; an append releases nothing.

A last line without its newline is taken when it parses as JSON on its own (a file written by
hand often ends so); its newline, when it comes, does not start a new item.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import structlog

from tasks.errors import Rejected
from tasks.extract import Extraction, decode, html_document, text_of
from tasks.formats.fields import field_map
from tasks.formats.items import extract_jsonl
from tasks.source import ItemRef
from worker.pipeline.context import PipelineConfig
from worker.pipeline.ledger import Entry, FeedPosition, Ledger
from worker.pipeline.states import IN_FLIGHT, FileState

log = structlog.get_logger(__name__)

FEED_SUFFIXES = (".jsonl", ".ndjson")
# The fingerprint reads this much at each end of the consumed part, whatever its length.
_EDGE = 4096
# The door looks for the first complete new line this many bytes at a time.
_PROBE = 1 << 18


_GONE = (FileState.VANISHED, FileState.DELETED)


def is_feed(path: str | Path) -> bool:
    return str(path).lower().endswith(FEED_SUFFIXES)


def fingerprint(handle: IO[bytes], end: int) -> str:
    """Of the first `end` bytes: their length and their first and last 4 KiB."""
    digest = hashlib.sha256(f"{end}\n".encode())
    handle.seek(0)
    digest.update(handle.read(min(end, _EDGE)))
    tail = max(0, end - _EDGE)
    handle.seek(tail)
    digest.update(handle.read(end - tail))
    return digest.hexdigest()


@dataclass(frozen=True)
class Cut:
    """Where the complete lines of newly read bytes begin and end."""

    skip: int
    """Bytes that close the line taken last (its newline), before the first new line."""
    end: int
    """End of the complete lines: bytes past it wait for the next pass."""
    open_line: bool
    """The last line taken has no newline yet (it parsed whole)."""
    continued: bool = False
    """The line taken last went on with more text: the consumed part changed."""

    @property
    def new(self) -> bool:
        """Whether the bytes hold a new complete line."""
        return self.end > self.skip


def _parses(data: bytes) -> bool:
    try:
        json.loads(data.decode("utf-8"))
    except ValueError:  # a partial line, or cut inside a multi-byte character
        return False
    return True


def cut(data: bytes, *, open_line: bool, at_eof: bool) -> Cut:
    """The complete lines of `data`, read after a consumed part (ending open or not)."""
    skip = 0
    if open_line:
        newline = data.find(b"\n")
        if data[: newline if newline >= 0 else len(data)].strip():
            return Cut(0, 0, False, continued=True)
        if newline < 0:
            return Cut(0, 0, True)
        skip = newline + 1
    end = max(data.rfind(b"\n") + 1, skip)
    tail = data[end:]
    if at_eof and tail.strip() and _parses(tail):
        return Cut(skip, len(data), True)
    return Cut(skip, end, False)


@dataclass(frozen=True)
class FeedPass:
    """What one pass over a feed read, and where the feed stands after it."""

    append: bool
    """Only appended lines were read (False: the feed was read whole, as a new version)."""
    start: int
    read_bytes: int
    position: FeedPosition
    more: bool = False
    """Bytes past what one pass reads (DROPSIFT_MAX_FILE_BYTES) are left for the next."""


def read_pass(path: Path, ledger: Ledger, config: PipelineConfig) -> tuple[Extraction, FeedPass]:
    """One pass over a feed, from where the ledger says it was left."""
    entry = ledger.get(str(path))
    return read_feed(path, entry.feed if entry else None, config.max_file_bytes, config.json_fields)


def read_feed(
    path: Path,
    position: FeedPosition | None,
    max_bytes: int,
    field_overrides: Mapping[str, Sequence[str]] | None = None,
) -> tuple[Extraction, FeedPass]:
    """The feed's new complete lines (all of them for a new version) as items.

    One pass reads at most `max_bytes`; what is left is read by the next pass, as an append.
    A line longer than that is refused on its own (`too_large`) and passed over.
    """
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        append = (
            position is not None
            and 0 < position.offset <= size
            and fingerprint(handle, position.offset) == position.fingerprint
        )
        start, lines, open_line = (0, 0, False)
        if append and position is not None:
            start, lines, open_line = position.offset, position.lines, position.open_line
        handle.seek(start)
        data = handle.read(max_bytes)
        at_eof = start + len(data) >= size
        found = cut(data, open_line=open_line, at_eof=at_eof)
        if found.continued:
            # The line taken last was not whole after all: the feed is read again, whole.
            return read_feed(path, None, max_bytes, field_overrides)
        refused = []
        if not at_eof and not found.new:
            # One line fills the whole pass: refused, and the feed goes on after it.
            line_end = _line_end(handle, start + len(data))
            if line_end is not None:
                why = f"a line of more than {max_bytes} bytes (DROPSIFT_MAX_FILE_BYTES)"
                source = str(ItemRef.line(str(path), lines + 1))
                refused.append((source, Rejected("too_large", why)))
                found = Cut(found.skip, line_end - start, False)
        end = start + found.end
        taken = b"" if refused else data[found.skip : found.end]
        new_lines = len(refused) or (
            taken.count(b"\n") + (1 if found.open_line and found.new else 0)
        )
        after = FeedPosition(
            offset=end,
            lines=lines + new_lines,
            fingerprint=fingerprint(handle, end),
            open_line=found.open_line,
        )
    # Left for the next pass only when this one took something: a long line still being
    # written waits for the door to see its end.
    more = not at_eof and (found.new or bool(refused))
    feed = FeedPass(append, start, len(data), after, more=more)
    log.info(
        "feed_read",
        path=str(path),
        mode="append" if append else "whole",
        offset=start,
        bytes=len(data),
        consumed_to=end,
        lines=new_lines,
    )
    if not taken.strip():
        if append or refused:
            return Extraction([], refused, raw=taken), feed
        # A new version with no complete line yet (a partial first line): nothing to take.
        raise Rejected("empty", "the feed holds no complete line yet")
    items = extract_jsonl(
        str(path),
        _appended_text(taken) if append else text_of(path, taken),
        html_document,
        field_map(field_overrides),
        first_line=lines + 1,
    )
    return Extraction(items.documents, items.rejected, raw=taken), feed


def _line_end(handle: IO[bytes], offset: int) -> int | None:
    """Just after the next newline from `offset`, read a block at a time; None: none yet."""
    handle.seek(offset)
    while block := handle.read(_PROBE):
        newline = block.find(b"\n")
        if newline >= 0:
            return offset + newline + 1
        offset += len(block)
    return None


def _appended_text(data: bytes) -> str:
    """Appended lines as text: never a reason to refuse the feed whose earlier part stands.

    A line that does not decode or parse is refused on its own, as a malformed item.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text, _ = decode(data)
        except Rejected:
            text = data.decode("utf-8", "replace")
    return text.replace("\x00", "")


# --- the ledger's side --------------------------------------------------------------------


def account(
    ledger: Ledger,
    path: str,
    feed: FeedPass,
    counts: Counter[str],
    resend: Callable[[list[str]], None] | None,
) -> tuple[Counter[str], dict[str, str]]:
    """The feed's item outcomes so far, and the file's ledger fields after this pass.

    An append adds to what earlier passes counted. Passes and bytes read are summed over the
    feed's life (what reading it has cost); appended bytes one pass left are sent again.
    """
    key = ledger.key_of(path)
    total: Counter[str] = Counter()
    if feed.append:
        raw = ledger.r.hget(key, "feed_counts")
        total.update(json.loads(str(raw)) if raw else {})
    total.update(counts)
    pipe = ledger.r.pipeline()
    pipe.hincrby(key, "feed_passes", 1)
    pipe.hincrby(key, "feed_bytes_read", feed.read_bytes)
    pipe.execute()
    if feed.more and resend is not None:
        resend([path])
    return total, {**feed.position.to_redis(), "feed_counts": json.dumps(dict(total))}


def forget_position(ledger: Ledger, path: str) -> None:
    """Everything the feed delivered was released: it is read whole when it comes again."""
    ledger.r.hdel(ledger.key_of(path), "feed_fingerprint", "feed_counts")


# --- the door's side ----------------------------------------------------------------------


def _has_new_line(handle: IO[bytes], position: FeedPosition, size: int) -> bool:
    """Whether bytes appended after `position` hold a complete line (or changed it)."""
    handle.seek(position.offset)
    data = b""
    while True:
        block = handle.read(_PROBE)
        data += block
        at_eof = not block or position.offset + len(data) >= size
        found = cut(data, open_line=position.open_line, at_eof=at_eof)
        if found.continued or found.new or at_eof:
            return found.continued or found.new


def door(
    path: Path, st: os.stat_result, entry: Entry | None, ledger: Ledger, stale_after: float
) -> str | None:
    """The door's decision for a feed it has read before, else None (the whole-file rules).

    "in_flight" while a pass runs; "send" when a complete line was appended or the consumed
    part changed; else "unchanged". The door reads the appended bytes up to the first
    complete line, and the fingerprint's 8 KiB.
    """
    if entry is None or entry.state in _GONE:
        return None
    if entry.state in IN_FLIGHT and time.time() - entry.updated_at < stale_after:
        return "in_flight"  # lines appended meanwhile wait for the pass to end
    if entry.feed is None:
        return None
    if entry.settled and (entry.size, entry.mtime_ns) == (st.st_size, st.st_mtime_ns):
        return "unchanged"
    position = entry.feed
    with open(path, "rb") as handle:
        changed = st.st_size < position.offset or (
            fingerprint(handle, position.offset) != position.fingerprint
        )
        if entry.settled and not changed and not _has_new_line(handle, position, st.st_size):
            ledger.seen_unchanged(str(path), st.st_size, st.st_mtime_ns)
            return "unchanged"
    ledger.queued(str(path), f"feed:{st.st_size}:{st.st_mtime_ns}", st.st_size, st.st_mtime_ns)
    return "send"


def unclosed_array(path: Path, size: int) -> bool:
    """A JSON file that opens an array and does not close it yet: its writer is not done."""
    with open(path, "rb") as handle:
        head = handle.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
        if not head.startswith(b"["):
            return False
        handle.seek(max(0, size - 64))
        return not handle.read(64).rstrip().endswith(b"]")
