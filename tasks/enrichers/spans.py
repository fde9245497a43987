"""Span cleaning: split lists of places, trim articles, possessives and stray punctuation."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from tasks.enrichers.mentions import Mention

# "Arctic, Siberia and" (the model ran a list into one span): commas and conjunctions split it.
_LIST_SEPARATOR = re.compile(r"\s*,\s*|\s+(?:and|or|&)\s+|\s+(?:and|or|&)$|\s*\n+\s*")
_LEADING_ARTICLE = re.compile(r"^(?:the|The|THE)\s+")
_POSSESSIVE = re.compile(r"(?:['’]s|s['’])$")
_EDGE = " \t\n\"'“”‘’«»()[]{}<>,;:!?.-–—*"
# "U.S." keeps its final period: trimming it would leave "U.S".
_ABBREVIATION = re.compile(r"(?:\b[A-Z]\.){2,}$")


def trim(text: str) -> str:
    """The name in a span: no leading "the", possessive ending or edge punctuation."""
    previous = None
    while previous != text:
        previous = text
        text = _LEADING_ARTICLE.sub("", text.strip(" \t\n"))
        if _POSSESSIVE.search(text) and not text.endswith(("ss'", "ss’")):
            # "Ukraine's" -> "Ukraine"; "Russians'" -> "Russians"
            text = text[:-2] if text[-2] in "'’" else text[:-1]
        if _ABBREVIATION.search(text):
            break
        text = text.strip(_EDGE)
    return text


def _split(mention: Mention, keep_whole: Callable[[str], bool]) -> list[Mention]:
    """A mention's pieces between list separators (only place lists are split)."""
    text = mention.text
    splittable = mention.kind == "place" and not keep_whole(trim(text))
    if not splittable and "\n" not in text:
        return [mention]
    # Only "\n" splits a person or organisation: their names contain "and" ("Procter and
    # Gamble") but never a line break; a place name with "and" ("Bosnia and Herzegovina")
    # is kept whole when the gazetteer knows it.
    pattern = _LIST_SEPARATOR if splittable else re.compile(r"\s*\n+\s*")
    pieces, position = [], 0
    for match in [*pattern.finditer(text), None]:
        end = match.start() if match else len(text)
        pieces.append(
            Mention(text[position:end], mention.kind, mention.start + position, mention.start + end)
        )
        position = match.end() if match else len(text)
    return pieces


def clean_mentions(
    mentions: Iterable[Mention], keep_whole: Callable[[str], bool] = lambda _: False
) -> list[Mention]:
    """Mentions split into list items and trimmed; lowercase-only leftovers dropped."""
    out = []
    for mention in mentions:
        for piece in _split(mention, keep_whole):
            text = trim(piece.text)
            # A name has a capital letter: "flank" or "the ministry of defence" is a misfire.
            if len(text) < 2 or not any(c.isupper() for c in text):
                continue
            offset = piece.text.find(text)
            out.append(
                Mention(text, piece.kind, piece.start + offset, piece.start + offset + len(text))
            )
    return out
