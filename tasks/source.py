"""Where a document came from: a file, or one item of a multi-item file (a JSON feed)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

_SEPARATOR = "#"
_ESCAPE = re.compile(rb"\\x([0-9a-f]{2})")


@dataclass(frozen=True, order=True)
class ItemRef:
    """A file path, and the item of it when the file holds several (`L3` for a line, `0`)."""

    path: str
    item: str | None = None

    @classmethod
    def line(cls, path: str, number: int) -> ItemRef:
        """The item on line `number` of a JSON Lines file."""
        return cls(path, f"L{number}")

    @classmethod
    def index(cls, path: str, position: int) -> ItemRef:
        """The item at `position` of a JSON array file."""
        return cls(path, str(position))

    @classmethod
    def parse(cls, source: str) -> ItemRef:
        """The reverse of str(): a file name may hold "#" itself, so the last one splits."""
        path, sep, item = source.rpartition(_SEPARATOR)
        if sep and item and (item.isdigit() or (item[0] == "L" and item[1:].isdigit())):
            return cls(path, item)
        return cls(source)

    @property
    def is_item(self) -> bool:
        return self.item is not None

    def __str__(self) -> str:
        return self.path if self.item is None else f"{self.path}{_SEPARATOR}{self.item}"


def file_of(source: str) -> Path:
    """The file a document source names (the whole file for an item)."""
    return Path(ItemRef.parse(source).path)


def printable(text: str) -> str:
    """Text that encodes as UTF-8: bytes of a non-UTF-8 file name shown as \\xNN escapes."""
    try:
        return os.fsencode(text).decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that is no escaped byte
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def named_by(text: str) -> set[str]:
    """The names a printable() form may stand for: itself (a name can hold a backslash), and
    the name whose bytes its \\xNN escapes were."""
    raw = _ESCAPE.sub(lambda m: bytes([int(m[1], 16)]), text.encode("utf-8"))
    return {text, os.fsdecode(raw)}
