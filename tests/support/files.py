"""Distinct, realistic input files for the inbox."""

from __future__ import annotations

import os
import random
import re
from pathlib import Path

from tests.support.index import SEEDS

_SEED = (SEEDS / "003_0fcbdef7ffe9cfd8.txt").read_text()
_PARAGRAPHS = [p for p in _SEED.split("\n\n") if len(p) > 80]
_WORDS = sorted(set(re.findall(r"[A-Za-z]{3,}", _SEED)))


def tag(n: int) -> str:
    """A word unique to n, in letters."""
    letters = ""
    while True:
        n, rest = divmod(n, 26)
        letters = chr(97 + rest) + letters
        if n == 0:
            return letters


def marker(n: int) -> str:
    """A search term that only story(n) carries."""
    return f"zq{tag(n)}"


def story(n: int) -> str:
    """A news story of a few paragraphs, distinct for every n and findable by marker(n)."""
    body = "\n\n".join(_PARAGRAPHS[(n + k) % len(_PARAGRAPHS)] for k in range(3))
    return f"Report {marker(n)} on the talks\n\n{body}\n\nFiled as item {marker(n)}.\n"


def big_text(size: int, seed: int = 5, *, paragraphs: bool = True) -> str:
    """About `size` characters of distinct sentences from the seed's words.

    In paragraphs of 80 words, or as one line without a newline when `paragraphs` is False.
    """
    rng = random.Random(seed)
    parts: list[str] = []
    total = 0
    while total < size:
        sentence = " ".join(rng.choice(_WORDS) for _ in range(80)) + "."
        parts.append(sentence[0].upper() + sentence[1:])
        total += len(sentence) + 2
    return ("\n\n" if paragraphs else " ").join(parts)


def release_fifo(fifo: Path) -> None:
    """Free whoever is blocked opening or reading a named pipe, and put a file in its place.

    A writer end is opened (that lets a blocked open return), the path is replaced by an
    empty regular file, and the writer is closed (the reader gets end-of-file). Later opens
    of the path find the file, so nothing blocks on the pipe again.
    """
    try:
        writer: int | None = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:  # no reader waiting
        writer = None
    stand_in = fifo.with_name(f".{fifo.name}.part")
    stand_in.write_bytes(b"")
    stand_in.replace(fifo)
    if writer is not None:
        os.close(writer)
