"""Demonyms ("Ukrainian", "Turkish") are adjectives of a place, not a place or organisation."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from tasks.enrichers.mentions import Mention, read_lines


@cache
def _demonyms() -> frozenset[str]:
    """The demonyms in data/demonyms.txt, with their plurals ("Ukrainians")."""
    words = read_lines("demonyms.txt")
    # "-ese", "-ish" and "-ch" demonyms have no plural in -s ("the Chinese", "the French").
    plurals = [w + "s" for w in words if not w.endswith(("ese", "ish", "ch", "ss"))]
    return frozenset(words + plurals)


def is_demonym(text: str) -> bool:
    """Whether `text` is a demonym (or several: "Russian-Ukrainian")."""
    parts = text.replace("–", "-").split("-")
    return all(part in _demonyms() for part in parts)


def drop_demonyms(mentions: Iterable[Mention]) -> list[Mention]:
    """Mentions without places or organisations that are only a demonym."""
    return [m for m in mentions if m.kind == "person" or not is_demonym(m.text)]
