"""Redis replies as text, whether the client decodes responses or not."""

from __future__ import annotations

from typing import Any


def as_text(value: Any) -> str:
    """A reply value as str (bytes are UTF-8)."""
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)
