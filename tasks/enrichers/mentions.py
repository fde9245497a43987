"""An entity mention: what the model (or a rule) found, where, and of which kind."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Kind = Literal["person", "place", "org"]

DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Mention:
    """One mention of an entity in a text; offsets let rules compare and order mentions."""

    text: str
    kind: Kind
    start: int
    end: int

    def overlaps(self, start: int, end: int) -> bool:
        """Whether the mention shares any character with text[start:end]."""
        return self.start < end and start < self.end


def read_lines(name: str) -> list[str]:
    """The non-comment, non-blank lines of a file in data/."""
    lines = (line.strip() for line in (DATA / name).read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]
